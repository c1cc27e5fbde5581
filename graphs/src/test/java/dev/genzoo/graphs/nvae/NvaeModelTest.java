package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.LatentVariableModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.train.TrainGraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** The presets build, train (one Session.run per step), sample, reconstruct and give consistent bounds. */
class NvaeModelTest {
  /** n images of the given shape: random 8-bit noise, or random binary images. */
  static Batch images(int n, long[] shape, long seed, boolean binary) {
    SplittableRandom rng = new SplittableRandom(seed);
    long per = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    float[] x = new float[(int) (n * per)];
    for (int i = 0; i < x.length; i++) {
      x[i] = binary ? (rng.nextBoolean() ? 255 : 0) : rng.nextInt(256);
    }
    long[] full = new long[shape.length + 1];
    full[0] = n;
    System.arraycopy(shape, 0, full, 1, shape.length);
    return new Batch(x, full, null);
  }

  /** Eight flat-colour 8 x 8 x 3 images: easy to learn, so the reconstruction term must fall. */
  static Batch flatColours() {
    float[] x = new float[8 * 8 * 8 * 3];
    for (int i = 0; i < 8; i++) {
      for (int p = 0; p < 64; p++) {
        for (int c = 0; c < 3; c++) {
          x[(i * 64 + p) * 3 + c] = ((i >> c) & 1) * 200 + 20;
        }
      }
    }
    return new Batch(x, new long[] {8, 8, 8, 3}, null);
  }

  /** One training step; returns the metrics by name, "loss" first. */
  static java.util.Map<String, Float> step(NvaeModel model, Batch b, long step) {
    TrainGraph g = model.trainGraph();
    try (TFloat32 x = TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(b.shape()),
        org.tensorflow.ndarray.buffer.DataBuffers.of(b.x(), true, false));
        TInt64 seed = TInt64.vectorOf(3, step)) {
      var r = model.session().runner().feed(g.x(), x).feed(g.seed(), seed).addTarget(g.step()).fetch(g.loss());
      List<String> names = new ArrayList<>(g.metrics().keySet());
      for (String n : names) {
        r.fetch(g.metrics().get(n));
      }
      try (Result res = r.run()) {
        java.util.Map<String, Float> out = new java.util.LinkedHashMap<>();
        out.put("loss", ((TFloat32) res.get(0)).getFloat());
        for (int i = 0; i < names.size(); i++) {
          out.put(names.get(i), ((TFloat32) res.get(i + 1)).getFloat());
        }
        return out;
      }
    }
  }

  @Test
  void tinyTrainsWithTheKlWarmUpSamplesAndBoundsTheLikelihood() {
    NvaeConfig cfg = NvaeConfig.tiny();
    NvaeConfig.Objective o = cfg.objective();
    long steps = cfg.training().steps();
    try (NvaeModel model = new NvaeModel(cfg, ModelOptions.training(1))) {
      Batch b = flatColours();
      double untrainedError = reconstructionError(model, b);
      float firstRecon = 0;
      float lastRecon = 0;
      for (int i = 0; i < 30; i++) {
        var m = step(model, b, i);
        assertTrue(Float.isFinite(m.get("loss")), "step " + i + ": " + m);
        // the KL coefficient of step i (read in the same run): NVAE's warm-up, computed here on the host
        double beta = Math.max(Math.min((i - o.klConstPortion() * steps) / (o.klAnnealPortion() * steps), 1),
            o.klConstCoeff());
        assertEquals(beta, m.get("kl_coeff"), 1e-6, "kl_coeff at step " + i);
        if (i == 0) {
          firstRecon = m.get("recon");
        }
        lastRecon = m.get("recon");
      }
      assertTrue(lastRecon < 0.85 * firstRecon, "reconstruction term " + firstRecon + " -> " + lastRecon);

      Samples s = model.sample(5, new SampleOptions(5, 1.0, null, 0, 0));
      assertArrayEquals(new long[] {5, 8, 8, 3}, s.shape());
      for (float v : s.data()) {
        assertTrue(v >= 0 && v <= 1, "sample value " + v);
      }
      assertArrayEquals(s.data(), model.sample(5, new SampleOptions(5, 1.0, null, 0, 0)).data(),
          "same seed, same samples");
      assertNotEquals(Arrays.toString(s.data()),
          Arrays.toString(model.sample(5, new SampleOptions(6, 1.0, null, 0, 0)).data()));

      Batch test = images(16, cfg.model().dataShape(), 2, false);
      LatentVariableModel.Bounds one = model.bounds(test, 1, 0);
      LatentVariableModel.Bounds many = model.bounds(test, 32, 0);
      double elbo = 0;
      double iw1 = 0;
      double iw = 0;
      for (int i = 0; i < 16; i++) {
        // log P of a discrete image is <= 0, so are its lower bounds
        assertTrue(many.elbo()[i] < 0 && many.importanceWeighted()[i] < 0, "bounds of image " + i);
        elbo += many.elbo()[i] / 16;
        iw1 += one.importanceWeighted()[i] / 16;
        iw += many.importanceWeighted()[i] / 16;
      }
      // E[IW_k] rises with k (Burda et al. 2016, theorem 1) and IW_k >= ELBO in expectation
      assertTrue(iw > iw1, "IW_32 " + iw + " vs IW_1 " + iw1);
      assertTrue(iw > elbo, "IW_32 " + iw + " vs ELBO " + elbo);
      assertArrayEquals(one.elbo(), model.bounds(test, 1, 0).elbo(), "the bounds are reproducible per seed");

      // BN readjustment (section 3.2): one readjustment batch at rate 1 makes the sampling statistics that batch's
      // statistics, so a sampling pass over the same prior draws gives what the readjustment pass gave
      long seed = 77;
      model.readjustBatchNorm(0.8, 1, 6, seed);
      double batchStats = model.runSampler(model.readjustOutput(), 6, 0.8, dev.genzoo.data.Seeds.mix(seed, 0x5EAD),
          0, 1f);
      double sampled = model.runSampler(model.sampleOutput(), 6, 0.8, dev.genzoo.data.Seeds.mix(seed, 0x5EAD), 0, 1f);
      assertEquals(batchStats, sampled, 1e-4 * Math.max(1, Math.abs(batchStats)));
      model.readjustBatchNorm(0.8, 0, 6, seed);
      double moving = model.runSampler(model.sampleOutput(), 6, 0.8, dev.genzoo.data.Seeds.mix(seed, 0x5EAD), 0, 1f);
      assertNotEquals(batchStats, moving, 1e-3, "with the training statistics the pass differs");

      double error = reconstructionError(model, b);
      assertTrue(error < 0.92 * untrainedError, "mean reconstruction error " + untrainedError + " -> " + error);
    }
  }

  /** Mean absolute error in [0, 1] units of the model's reconstructions of b. */
  static double reconstructionError(NvaeModel model, Batch b) {
    Samples r = model.reconstruct(b, 0);
    assertArrayEquals(b.shape(), r.shape());
    double err = 0;
    for (int i = 0; i < r.data().length; i++) {
      err += Math.abs(r.data()[i] - b.x()[i] / 255.0) / r.data().length;
    }
    return err;
  }

  @Test
  void pointsTrainAndSample() {
    NvaeConfig cfg = NvaeConfig.toy2d();
    try (NvaeModel model = new NvaeModel(cfg, ModelOptions.training(2))) {
      SplittableRandom rng = new SplittableRandom(1);
      float[] x = new float[64 * 2];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (rng.nextGaussian() * 0.5 + (i % 2 == 0 ? 1 : -1));
      }
      Batch b = new Batch(x, new long[] {64, 2}, null);
      var first = step(model, b, 0);
      var last = first;
      for (int i = 1; i < 40; i++) {
        last = step(model, b, i);
      }
      assertTrue(last.get("recon") < first.get("recon"), first + " -> " + last);
      Samples s = model.sample(100, SampleOptions.seed(3));
      assertArrayEquals(new long[] {100, 2}, s.shape());
      for (float v : s.data()) {
        assertTrue(Float.isFinite(v));
      }
      LatentVariableModel.Bounds bd = model.bounds(b, 4, 1);
      assertTrue(Double.isFinite(bd.elbo()[0]) && Double.isFinite(bd.importanceWeighted()[0]));
    }
  }

  @Test
  void binarisedMnistAtTemperatureZeroIgnoresTheSeed() {
    NvaeConfig cfg = NvaeConfig.mnistSmall();
    try (NvaeModel model = new NvaeModel(cfg, ModelOptions.inference())) {
      // T = 0: every z is its prior mean and a Bernoulli model shows p(x | z)'s mean, so the seed does not matter
      Samples a = model.sample(2, new SampleOptions(1, 0.0, null, 0, 0));
      Samples b = model.sample(2, new SampleOptions(2, 0.0, null, 0, 0));
      assertArrayEquals(new long[] {2, 28, 28, 1}, a.shape());
      assertArrayEquals(a.data(), b.data());
      Samples c = model.sample(2, new SampleOptions(1, 1.0, null, 0, 0));
      assertNotEquals(Arrays.toString(a.data()), Arrays.toString(c.data()));
      LatentVariableModel.Bounds bd = model.bounds(images(3, cfg.model().dataShape(), 5, true), 2, 0);
      for (double v : bd.elbo()) {
        assertTrue(v < 0 && Double.isFinite(v));
      }
    }
  }

  /**
   * Parameter counts equal those of the same networks built in PyTorch with upstream NVAE's module structure (the
   * bench peer, tools' bench/nvae_torch.py, checked there against upstream's own modules): upstream's MNIST
   * configuration 33,363,134; the tiny configuration without flow cells 89,144.
   */
  @Test
  void parameterCountsEqualThePyTorchModules() {
    try (NvaeModel m = new NvaeModel(NvaeConfig.mnist(), ModelOptions.inference())) {
      assertEquals(33_363_134, m.parameterCount());
    }
    NvaeFamily family = new NvaeFamily();
    NvaeConfig tiny = family.parse(Configs.override(family.preset("tiny"), List.of("model.numFlows=0")));
    try (NvaeModel m = new NvaeModel(tiny, ModelOptions.inference())) {
      assertEquals(89_144, m.parameterCount());
    }
  }

  @Test
  void configsRoundTripAndBadOptionsAreNamed() {
    NvaeFamily family = new NvaeFamily();
    for (String name : NvaeConfig.presetNames()) {
      NvaeConfig c = NvaeConfig.preset(name);
      assertEquals(c, family.parse(Configs.toJson(c)), name);
    }
    var e = assertThrows(IllegalArgumentException.class, () -> family.parse(Configs.override(
        family.preset("tiny"), List.of("model.likelihood=GAUSSIAN"))));
    assertTrue(e.getMessage().contains("GAUSSIAN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> family.parse(Configs.override(family.preset("mnist"),
        List.of("model.padding=0"))));
    assertTrue(e.getMessage().contains("divisible"), e.getMessage());
  }
}
