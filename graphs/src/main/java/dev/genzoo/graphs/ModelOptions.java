package dev.genzoo.graphs;

import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TFloating;

/**
 * How to build a model.
 *
 * @param training also build the training step (optimiser, EMA, data-dependent init)
 * @param seed initialisation seed of the variables
 * @param runtime session options
 * @param dtype float32 normally; float64 for numerical tests
 */
public record ModelOptions(boolean training, long seed, RuntimeOptions runtime, Class<? extends TFloating> dtype) {
  public static ModelOptions inference() {
    return new ModelOptions(false, 0, RuntimeOptions.defaults(), TFloat32.class);
  }

  public static ModelOptions training(long seed) {
    return new ModelOptions(true, seed, RuntimeOptions.defaults(), TFloat32.class);
  }

  public ModelOptions withDtype(Class<? extends TFloating> newDtype) {
    return new ModelOptions(training, seed, runtime, newDtype);
  }

  public ModelOptions withRuntime(RuntimeOptions newRuntime) {
    return new ModelOptions(training, seed, newRuntime, dtype);
  }
}
