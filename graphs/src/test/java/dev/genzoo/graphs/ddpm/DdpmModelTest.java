package dev.genzoo.graphs.ddpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.train.TrainGraph;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** The tiny presets build, train, sample with every sampler, and give a finite bound. */
class DdpmModelTest {
  private static Batch images(int n, long seed, boolean labels) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n * 8 * 8 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextInt(256);
    }
    int[] y = null;
    if (labels) {
      y = new int[n];
      for (int i = 0; i < n; i++) {
        y[i] = rng.nextInt(10);
      }
    }
    return new Batch(x, new long[] {n, 8, 8, 3}, y);
  }

  private static float step(DdpmModel model, Batch b, long step) {
    TrainGraph g = model.trainGraph();
    try (TFloat32 x = TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(b.shape()),
        org.tensorflow.ndarray.buffer.DataBuffers.of(b.x(), true, false));
         TInt64 seed = TInt64.vectorOf(3, step);
         TInt32 y = b.labels() != null ? TInt32.vectorOf(b.labels()) : null) {
      var r = model.session().runner().feed(g.x(), x).feed(g.seed(), seed).addTarget(g.step()).fetch(g.loss());
      if (g.labels() != null) {
        r.feed(g.labels(), y);
      }
      try (Result res = r.run()) {
        return ((TFloat32) res.get(0)).getFloat();
      }
    }
  }

  @Test
  void tinyTrainsAndSamples() {
    DdpmConfig cfg = DdpmConfig.tiny();
    try (DdpmModel model = new DdpmModel(cfg, ModelOptions.training(1))) {
      Batch b = images(16, 1, false);
      float first = step(model, b, 0);
      // An untrained eps-predictor outputs ~0, so L_simple starts near E[eps^2] = 1.
      assertEquals(1.0, first, 0.2);
      for (int i = 1; i < 5; i++) {
        assertTrue(Float.isFinite(step(model, b, i)));
      }
      for (String sampler : new String[] {"ancestral", "ancestral:fixedsmall", "ddim", "ddim:1"}) {
        Samples s = model.sample(3, new SampleOptions(5, 1, sampler, sampler.startsWith("ddim") ? 10 : 0, 0));
        assertEquals(4, s.shape().length);
        for (float v : s.data()) {
          assertTrue(v >= 0 && v <= 1, sampler + " gave " + v);
        }
      }
      Samples a = model.sample(2, new SampleOptions(9, 1, "ddim", 5, 0));
      Samples c = model.sample(2, new SampleOptions(9, 1, "ddim", 5, 0));
      assertEquals(java.util.Arrays.toString(a.data()), java.util.Arrays.toString(c.data()), "same seed, same samples");
      double[] lp = model.logProb(images(2, 4, false));
      for (double v : lp) {
        // A discrete 8-bit image: log P <= 0, and an untrained model is no better than uniform (8 bits/dim) by far.
        assertTrue(v < 0 && Double.isFinite(v), "log P = " + v);
      }
    }
  }

  @Test
  void samplerNamesAreCheckedWithClearErrors() {
    DdpmConfig cfg = DdpmConfig.tiny();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DiffusionSampler.parse("langevin", 0, cfg));
    assertTrue(e.getMessage().contains("ancestral"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DiffusionSampler.parse("ancestral", 10, cfg));
    assertThrows(IllegalArgumentException.class, () -> DiffusionSampler.parse("ddim", 1000, cfg));
    assertEquals(VarianceType.FIXED_SMALL, DiffusionSampler.parse("ancestral:fixedsmall", 0, cfg).varianceType());
    assertEquals(0.5, DiffusionSampler.parse("ddim:0.5", 20, cfg).eta());
  }

  @Test
  void classConditionalTrainsWithLabelsAndSamplesWithGuidance() {
    try (DdpmModel model = new DdpmModel(DdpmConfig.tinyCond(), ModelOptions.training(2))) {
      Batch b = images(8, 2, true);
      assertTrue(Float.isFinite(step(model, b, 0)));
      SampleOptions o = new SampleOptions(1, 1, "ddim", 5, 0);
      Samples guided = model.sample(4, o.withGuidance(3.0, 2));
      Samples unguided = model.sample(4, o.withGuidance(0.0, 2));
      assertNotEquals(java.util.Arrays.toString(guided.data()), java.util.Arrays.toString(unguided.data()));
      assertThrows(IllegalArgumentException.class, () -> model.sample(1, o.withGuidance(1, 10)));
      // The single step the bench times feeds labels and guidance itself.
      DiffusionSampler.Spec ancestral = DiffusionSampler.parse("ancestral", 0, model.ddpmConfig());
      assertEquals(4 * 8 * 8 * 3, model.sampleStep(new double[4 * 8 * 8 * 3], 4, 50, 0, ancestral).length);
    }
  }

  @Test
  void presetsAreRegisteredAndRoundTripThroughJson() {
    var family = Families.get("ddpm");
    for (String p : family.presets()) {
      DdpmConfig c = ((DdpmFamily) family).parse(family.validate(family.preset(p)));
      assertEquals(DdpmConfig.preset(p), c, p);
    }
    assertTrue(family.describe(family.preset("cifar10")).contains("ch_mult [1, 2, 2, 2]"));
  }

  @Test
  void badConfigsNameTheField() {
    var e = assertThrows(IllegalArgumentException.class, () -> new DdpmConfig.Model(DdpmConfig.Network.UNET,
        new long[] {30, 30, 3}, 128, new int[] {1, 2, 2, 2}, 2, new int[] {16}, 0.1, 32, 0, 0));
    assertTrue(e.getMessage().contains("model.dataShape"), e.getMessage());
  }
}
