package dev.genzoo.graphs.ncsn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.train.TrainGraph;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** The tiny NCSN and NCSNv2 presets build, take training steps and sample; presets round-trip through JSON. */
class NcsnModelTest {
  private static float step(NcsnModel model, float[] x, long[] shape, long step) {
    TrainGraph g = model.trainGraph();
    try (TFloat32 xt = TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(shape),
        org.tensorflow.ndarray.buffer.DataBuffers.of(x, true, false));
         TInt64 seed = TInt64.vectorOf(1, step);
         Result r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step())
             .fetch(g.loss()).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  @Test
  void tinyPresetsTrainAndSample() {
    for (String preset : new String[] {"tiny", "tiny-v1"}) {
      try (NcsnModel model = new NcsnModel(NcsnConfig.preset(preset), ModelOptions.training(3))) {
        SplittableRandom rng = new SplittableRandom(2);
        float[] x = new float[8 * 8 * 8 * 3];
        for (int i = 0; i < x.length; i++) {
          x[i] = rng.nextInt(256);
        }
        long[] shape = {8, 8, 8, 3};
        for (int i = 0; i < 3; i++) {
          float loss = step(model, x, shape, i);
          // 1/2 ||sigma s + z||^2 summed over 192 dimensions: about 96 for a score near zero.
          assertTrue(Float.isFinite(loss) && loss > 10 && loss < 1000, preset + " loss " + loss);
        }
        Samples s = model.sample(2, new SampleOptions(4, 1, null, 1, 0));
        assertEquals(4, s.shape().length);
        for (float v : s.data()) {
          assertTrue(v >= 0 && v <= 1);
        }
        assertThrows(UnsupportedOperationException.class, () -> model.logProb(null));
        assertThrows(IllegalArgumentException.class, () -> model.sample(1, new SampleOptions(0, 1, "ddim", 0, 0)));
      }
    }
  }

  @Test
  void presetsRoundTripAndCifarCountsAreUpstreams() {
    var family = Families.get("ncsn");
    for (String p : family.presets()) {
      assertEquals(NcsnConfig.preset(p), ((NcsnFamily) family).parse(family.validate(family.preset(p))), p);
    }
    assertEquals(232, NcsnConfig.cifar10().levels().size());
    assertEquals(10, NcsnConfig.cifar10V1().levels().size());
    assertTrue(family.describe(family.preset("cifar10")).contains("232 geometric levels from 50.0 to 0.01"));
  }
}
