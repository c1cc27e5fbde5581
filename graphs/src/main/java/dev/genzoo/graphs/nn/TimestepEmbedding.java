package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TNumber;

/**
 * The sinusoidal timestep embedding of the Transformer (Vaswani et al. 2017) as used by DDPM (Ho et al. 2020,
 * {@code get_timestep_embedding}): with half = dim / 2 and frequencies f_i = exp(-ln(10000) i / (half - 1)),
 * emb(t) = [sin(t f_0), ..., sin(t f_{half-1}), cos(t f_0), ..., cos(t f_{half-1})], followed by
 * {@code dense0} (dim -> width), swish and {@code dense1} (width -> width).
 */
public final class TimestepEmbedding {
  private final long dim;
  private final Dense dense0;
  private final Dense dense1;

  public TimestepEmbedding(VarScope scope, long dim, long width, Initializer init) {
    if (dim % 2 != 0 || dim < 4) {
      throw new IllegalArgumentException(scope.path() + ": the timestep embedding dimension must be even and >= 4, got "
          + dim);
    }
    this.dim = dim;
    this.dense0 = new Dense(scope.child("dense0"), dim, width, true, init);
    this.dense1 = new Dense(scope.child("dense1"), width, width, true, init);
  }

  /** {@code t}: [N] timesteps (any numeric type); returns [N, width]. */
  public Operand<TFloating> call(Ops tf, Operand<? extends TNumber> t, Class<TFloating> dt) {
    Operand<TFloating> h = sinusoidal(tf, t, dim, dt);
    return dense1.call(tf, Tensors.swish(tf, dense0.call(tf, h)));
  }

  /** The sinusoidal features alone: [N] -> [N, dim]. */
  public static Operand<TFloating> sinusoidal(Ops tf, Operand<? extends TNumber> t, long dim, Class<TFloating> dt) {
    int half = (int) (dim / 2);
    double[] freqs = new double[half];
    for (int i = 0; i < half; i++) {
      freqs[i] = Math.exp(-Math.log(10000) * i / (half - 1));
    }
    Operand<TFloating> tt = tf.expandDims(Tensors.cast(tf, t, dt), tf.constant(1));
    Operand<TFloating> args = tf.math.mul(tt,
        Tensors.constant(tf, dt, freqs, org.tensorflow.ndarray.Shape.of(1, half)));
    return tf.concat(java.util.List.of(tf.math.sin(args), tf.math.cos(args)), tf.constant(1));
  }
}
