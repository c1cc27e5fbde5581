package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.data.Batch;
import dev.genzoo.data.ToyBatches;
import dev.genzoo.data.Toys;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.train.TrainGraph;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The EBM family: the tiny image preset and a short toy2d run train (finite losses bounded below as the loss's algebra
 * requires, the replay buffer rewritten, data energies pulled below noise energies), energies and samples come back
 * in the documented conventions, presets round-trip through JSON and bad settings are named in the errors.
 */
class EbmModelTest {
  private static final EbmFamily FAMILY = new EbmFamily();

  /** loss, e_pos, e_neg, restarts of one step on the given batch. */
  private static double[] step(EbmModel model, Batch b, long step) {
    TrainGraph g = model.trainGraph();
    try (TFloat32 x = HostTensors.float32(b.x(), b.shape()); TInt64 seed = TInt64.vectorOf(3, step);
         Result r = model.session().runner().feed(g.x(), x).feed(g.seed(), seed).addTarget(g.step()).fetch(g.loss())
             .fetch(g.metrics().get("e_pos")).fetch(g.metrics().get("e_neg")).fetch(g.metrics().get("restarts"))
             .run()) {
      double[] out = new double[4];
      for (int i = 0; i < 4; i++) {
        out[i] = ((TFloat32) r.get(i)).getFloat();
      }
      return out;
    }
  }

  /**
   * L = a - b + alpha (mean U+^2 + mean U-^2) with a = mean U+, b = mean U-. Since mean U^2 &gt;= (mean U)^2,
   * L - (a - b) &gt;= alpha (a^2 + b^2), and minimising over a and b, L &gt;= -1 / (2 alpha).
   */
  private static void assertLossAlgebra(double[] v, double alpha, String what) {
    double loss = v[0];
    assertTrue(Double.isFinite(loss), what + ": loss " + loss);
    double tol = 1e-4 * (1 + Math.abs(loss));
    assertTrue(loss - (v[1] - v[2]) >= alpha * (v[1] * v[1] + v[2] * v[2]) - tol, what + ": regulariser below "
        + "alpha (a^2 + b^2): loss " + loss + ", e_pos " + v[1] + ", e_neg " + v[2]);
    assertTrue(loss >= -1 / (2 * alpha) - tol, what + ": loss " + loss + " below -1 / (2 alpha)");
    assertTrue(v[3] >= 0 && v[3] <= 1, what + ": restart fraction " + v[3]);
  }

  @Test
  void tinyPresetTrainsRewritesTheBufferAndSamplesImages() {
    EbmConfig cfg = EbmConfig.tiny();
    try (EbmModel model = new EbmModel(cfg, ModelOptions.training(3))) {
      int n = cfg.training().batchSize();
      long[] shape = {n, 8, 8, 3};
      SplittableRandom rng = new SplittableRandom(2);
      double[] before = ReplayBufferTest.read(model, model.replayBuffer());
      for (int s = 0; s < 3; s++) {
        float[] x = new float[n * 192];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (rng.nextInt(256) + rng.nextDouble());
        }
        assertLossAlgebra(step(model, new Batch(x, shape, null), s), cfg.l2(), "tiny step " + s);
      }
      double[] after = ReplayBufferTest.read(model, model.replayBuffer());
      int changed = 0;
      for (int slot = 0; slot < 64; slot++) {
        boolean differs = false;
        for (int i = 0; i < 192; i++) {
          differs |= before[slot * 192 + i] != after[slot * 192 + i];
          assertTrue(after[slot * 192 + i] >= 0 && after[slot * 192 + i] <= 1, "buffer images stay in [0, 1]");
        }
        changed += differs ? 1 : 0;
      }
      // three steps of 16 chains: at least 16 distinct slots, at most 48
      assertTrue(changed >= n && changed <= 3 * n, changed + " slots changed");

      Samples s = model.sample(3, new SampleOptions(4, 1, null, 2, 0));
      assertArrayEquals(new long[] {3, 8, 8, 3}, s.shape());
      for (float v : s.data()) {
        assertTrue(v >= 0 && v <= 1, "sample value " + v);
      }
      // energy(Batch) takes the 8-bit scale, energy(double[]) model space
      float[] img = new float[2 * 192];
      double[] scaled = new double[img.length];
      for (int i = 0; i < img.length; i++) {
        img[i] = rng.nextInt(256);
        scaled[i] = img[i] / 256.0;
      }
      assertArrayEquals(model.energy(scaled), model.energy(new Batch(img, new long[] {2, 8, 8, 3}, null)), 1e-6);

      assertFalse(model.hasLikelihood());
      assertThrows(UnsupportedOperationException.class, () -> model.logProb(null));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> model.sample(1, new SampleOptions(0, 1, "ddim", 0, 0)));
      assertTrue(e.getMessage().contains("ddim") && e.getMessage().contains("langevin"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> model.sample(1, new SampleOptions(0, 0, null, 0, 0)));
      assertTrue(e.getMessage().contains("--temperature"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> model.energy(new double[5]));
      assertTrue(e.getMessage().contains("192"), e.getMessage());
    }
  }

  /** P(U(data) &lt; U(noise)) over all pairs: 1/2 for an energy that cannot tell them apart. */
  private static double ranking(double[] dataEnergy, double[] noiseEnergy) {
    long below = 0;
    for (double d : dataEnergy) {
      for (double z : noiseEnergy) {
        below += d < z ? 1 : 0;
      }
    }
    return (double) below / ((long) dataEnergy.length * noiseEnergy.length);
  }

  /**
   * A short toy2d run on 8 Gaussians (radius 2, sigma 0.2) pulls the energies of data below those of uniform noise on
   * [-4, 4]^2. Only about 6% of that box lies within 2 sigma of a mode, so an energy that has located the modes ranks
   * nearly every data point below nearly every noise point (about 0.94 or more); an energy that has not ranks them at
   * chance, 1/2, with a standard error of about 0.011 for 1000 x 2000 pairs. The test asks for 0.8 after 300 steps at
   * a constant learning rate.
   */
  @Test
  void shortToyRunPullsDataEnergiesBelowNoise() {
    JsonNode json = Configs.override(FAMILY.preset("toy2d"), List.of("training.steps=300", "training.batchSize=128",
        "training.decay=NONE", "chains.steps=20", "model.width=64"));
    EbmConfig cfg = FAMILY.parse(json);
    ToyBatches data = new ToyBatches(Toys.byName("8gaussians"), 1);
    try (EbmModel model = new EbmModel(cfg, ModelOptions.training(1))) {
      Batch test = data.batch(10_000, 1000);
      SplittableRandom rng = new SplittableRandom(4);
      double[] noise = new double[2000];
      for (int i = 0; i < noise.length; i++) {
        noise[i] = -4 + 8 * rng.nextDouble();
      }
      double initial = ranking(model.energy(test), model.energy(noise));
      for (int s = 0; s < cfg.training().steps(); s++) {
        double[] v = step(model, data.batch(s, cfg.training().batchSize()), s);
        if (s % 50 == 0) {
          assertLossAlgebra(v, cfg.l2(), "toy step " + s);
        }
      }
      double trained = ranking(model.energy(test), model.energy(noise));
      assertTrue(trained > 0.8, "P(U(data) < U(noise)) = " + trained + " after training (" + initial + " before)");

      Samples s = model.sample(50, new SampleOptions(1, 1, null, 10, 0));
      assertArrayEquals(new long[] {50, 2}, s.shape());
    }
  }

  /** energy(points) is the MLP of the config applied to the points (computed here from the variables' values). */
  @Test
  void energiesOfPointsAreTheMlpOfTheirCoordinates() {
    JsonNode json = Configs.override(FAMILY.preset("toy2d"), List.of("model.width=5", "model.depth=2"));
    try (EbmModel model = new EbmModel(FAMILY.parse(json), ModelOptions.inference())) {
      dev.genzoo.graphs.testing.Weights.perturb(model, 0.3, 7);
      double[][] w0 = matrix(model, "ebm/energy/dense_0/kernel", 2, 5);
      double[] b0 = vector(model, "ebm/energy/dense_0/bias");
      double[][] w1 = matrix(model, "ebm/energy/dense_1/kernel", 5, 5);
      double[] b1 = vector(model, "ebm/energy/dense_1/bias");
      double[][] wo = matrix(model, "ebm/energy/out/kernel", 5, 1);
      double[] bo = vector(model, "ebm/energy/out/bias");
      double[] pts = {0, 0, 2, 0, -1.5, 3, 0.25, -2};
      double[] got = model.energy(pts);
      for (int p = 0; p < 4; p++) {
        double[] h = swish(affine(new double[] {pts[2 * p], pts[2 * p + 1]}, w0, b0));
        h = swish(affine(h, w1, b1));
        double u = affine(h, wo, bo)[0];
        assertEquals(u, got[p], 1e-5 * (1 + Math.abs(u)), "U at point " + p);
      }
    }
  }

  private static double[] affine(double[] x, double[][] w, double[] b) {
    double[] y = b.clone();
    for (int j = 0; j < y.length; j++) {
      for (int i = 0; i < x.length; i++) {
        y[j] += x[i] * w[i][j];
      }
    }
    return y;
  }

  private static double[] swish(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = x[i] / (1 + Math.exp(-x[i]));
    }
    return y;
  }

  private static double[] vector(EbmModel model, String name) {
    try (Result r = model.session().runner().fetch(model.variables().get(name).read()).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  private static double[][] matrix(EbmModel model, String name, int rows, int cols) {
    double[] v = vector(model, name);
    assertEquals(rows * cols, v.length, name);
    double[][] m = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(v, i * cols, m[i], 0, cols);
    }
    return m;
  }

  @Test
  void presetsRoundTripThroughJsonAndDescribeThemselves() {
    assertEquals(List.of("cifar10", "tiny", "toy2d"), FAMILY.presets());
    for (String p : FAMILY.presets()) {
      assertEquals(EbmConfig.preset(p), FAMILY.parse(FAMILY.validate(FAMILY.preset(p))), p);
      assertArrayEquals(EbmConfig.preset(p).model().dataShape(), FAMILY.dataShape(FAMILY.preset(p)), p);
    }
    EbmConfig c = EbmConfig.cifar10();
    assertEquals(128, c.training().batchSize());
    assertEquals(60, c.chains().steps());
    assertEquals(0.0, c.training().optimizer().beta1());
    String d = FAMILY.describe(FAMILY.preset("cifar10"));
    assertTrue(d.contains("18,591,105 parameters"), d);
    assertTrue(d.contains("60 Langevin steps of 10.0 on the gradient (clipped to 0.01), noise 0.005"), d);
    assertTrue(d.contains("10000 slots, 5.0% restarts"), d);
    assertTrue(FAMILY.describe(FAMILY.preset("toy2d")).contains("MLP energy, width 128"));
  }

  @Test
  void badSettingsAreNamedInErrors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FAMILY.preset("celeba"));
    assertTrue(e.getMessage().contains("cifar10, tiny, toy2d"), e.getMessage());
    expectInvalid("cifar10", "model.dropout=1.5", "model.dropout");
    expectInvalid("cifar10", "training.batchSize=20000", "buffer.capacity");
    expectInvalid("cifar10", "model.dataShape=[12,12,3]", "multiples of 8");
    expectInvalid("cifar10", "model.spectralNorm=false", "model.spectralNorm");
    expectInvalid("toy2d", "model.network=RESNET32_LARGE", "[H, W, C]");
    expectInvalid("toy2d", "model.dropout=0.5", "model.dropout");
    expectInvalid("toy2d", "chains.steps=0", "chains.steps");
    expectInvalid("toy2d", "buffer.restartProbability=2", "buffer.restartProbability");
    expectInvalid("toy2d", "sampling.std=0", "sampling.std");
    expectInvalid("toy2d", "l2=-1", "l2");
    e = assertThrows(IllegalArgumentException.class,
        () -> Configs.override(FAMILY.preset("toy2d"), List.of("chains.temperature=2")));
    assertTrue(e.getMessage().contains("temperature"), e.getMessage());
  }

  private static void expectInvalid(String preset, String set, String named) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FAMILY.validate(Configs.override(FAMILY.preset(preset), List.of(set))), set);
    assertTrue(e.getMessage().contains(named), set + ": " + e.getMessage());
  }
}
