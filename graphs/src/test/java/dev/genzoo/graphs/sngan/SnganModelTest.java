package dev.genzoo.graphs.sngan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.data.Batch;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import dev.genzoo.graphs.train.LearningRate;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.graphs.train.Trainer;
import dev.genzoo.graphs.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** The tiny and toy2d presets build, train and sample; configs round-trip and bad ones say what is wrong. */
class SnganModelTest {
  /** Runs one training step on {@code x} ([n_dis * batch, ...]); returns loss and metrics by name. */
  static Map<String, Double> step(SnganModel model, float[] x, long[] shape, long step) {
    TrainGraph g = model.trainGraph();
    List<String> names = new ArrayList<>(g.metrics().keySet());
    try (TFloat32 xt = HostTensors.float32(x, shape); TInt64 seed = TInt64.vectorOf(3, step)) {
      Session.Runner r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step())
          .fetch(g.loss());
      for (String n : names) {
        r.fetch(g.metrics().get(n));
      }
      try (Result res = r.run()) {
        Map<String, Double> out = new HashMap<>();
        out.put("loss", (double) ((TFloat32) res.get(0)).getFloat());
        for (int i = 0; i < names.size(); i++) {
          out.put(names.get(i), (double) ((TFloat32) res.get(i + 1)).getFloat());
        }
        return out;
      }
    }
  }

  private static Map<String, double[]> snapshot(SnganModel model, String prefix) {
    Map<String, double[]> out = new HashMap<>();
    for (Var v : model.variables().all()) {
      if (v.name().startsWith(prefix) && v.kind() != VarStore.Kind.STEP) {
        try (Result r = model.session().runner().fetch(v.ref()).run()) {
          out.put(v.name(), HostTensors.toDoubles(r.get(0)));
        }
      }
    }
    return out;
  }

  private static List<String> unchanged(Map<String, double[]> before, Map<String, double[]> after) {
    List<String> out = new ArrayList<>();
    for (String k : before.keySet()) {
      if (java.util.Arrays.equals(before.get(k), after.get(k))) {
        out.add(k);
      }
    }
    java.util.Collections.sort(out);
    return out;
  }

  private static float[] images(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n * 8 * 8 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextInt(256);
    }
    return x;
  }

  @Test
  void tinyTrainsEveryVariableAndSamplesImages(@TempDir Path dir) throws Exception {
    SnganConfig cfg = SnganConfig.tiny();
    int nDis = cfg.gan().nDis();
    int batch = cfg.training().batchSize();
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(1))) {
      TrainGraph g = model.trainGraph();
      assertEquals(nDis, g.batchesPerStep(), "one step consumes n_dis batches");
      assertEquals(List.of("d_loss", "g_loss", "d_real", "d_fake", "lr"), new ArrayList<>(g.metrics().keySet()));
      Map<String, double[]> before = snapshot(model, "");
      long[] shape = {(long) nDis * batch, 8, 8, 3};
      Map<String, Double> m0 = step(model, images(nDis * batch, 1), shape, 0);
      // relu(1 - a) >= 1 - a and relu(1 + b) >= 1 + b, with equality while the logits lie in [-1, 1]: the hinge loss
      // is at least 2 - mean D(x) + mean D(G(z)), averaged over the n_dis updates.
      double linear = 2 - m0.get("d_real") + m0.get("d_fake");
      assertTrue(m0.get("d_loss") >= linear - 1e-5 && m0.get("d_loss") > 0, m0 + " vs " + linear);
      assertEquals(m0.get("loss"), m0.get("d_loss"), 0, "the logged loss is the critic's");
      assertEquals(LearningRate.at(cfg.training(), 0), m0.get("lr"), 1e-9);
      Map<String, double[]> after = snapshot(model, "");
      for (String name : before.keySet()) {
        Var v = model.variables().get(name);
        boolean moved = !java.util.Arrays.equals(before.get(name), after.get(name));
        // u of the one-output layer l5 is a unit vector in one dimension (+1 or -1 for ever); the hinge gradient of
        // l5's bias is P(D(x) < 1) - P(D(G(z)) > -1), exactly 0 while every logit lies in (-1, 1).
        boolean exempt = name.contains("l5/bias") || name.equals("critic/l5/kernel_u");
        if (!exempt && (v.kind() == VarStore.Kind.TRAINABLE || v.kind() == VarStore.Kind.OPTIMIZER
            || name.endsWith("_u") || name.contains("moving_"))) {
          assertTrue(moved, name + " (" + v.kind() + ") changes in a training step");
        }
      }
      for (int s = 1; s < 3; s++) {
        Map<String, Double> m = step(model, images(nDis * batch, 1 + s), shape, s);
        for (Map.Entry<String, Double> e : m.entrySet()) {
          assertTrue(Double.isFinite(e.getValue()), e.getKey() + " at step " + s);
        }
      }
      try (Result r = model.session().runner().fetch(g.globalStep()).run()) {
        assertEquals(3L, ((TInt64) r.get(0)).getLong());
      }
      assertThrows(RuntimeException.class, () -> step(model, images(nDis * batch - 1, 9),
          new long[] {(long) nDis * batch - 1, 8, 8, 3}, 3), "the batch must split into n_dis slices");

      Samples s = model.sample(5, new SampleOptions(7, 1, null, 0, 2));
      assertArrayEquals(new long[] {5, 8, 8, 3}, s.shape());
      float lo = 1;
      float hi = 0;
      for (float v : s.data()) {
        assertTrue(v >= 0 && v <= 1, "image value " + v);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assertTrue(hi - lo > 0.05, "samples are not constant");
      Samples again = model.sample(5, new SampleOptions(7, 1, "generator", 0, 2));
      assertArrayEquals(s.data(), again.data(), "same seed and chunks, same samples");
      assertFalse(java.util.Arrays.equals(s.data(), model.sample(5, SampleOptions.seed(8)).data()));
      Samples zero = model.sample(2, SampleOptions.seed(7).withTemperature(0));
      assertArrayEquals(java.util.Arrays.copyOf(zero.data(), 192), java.util.Arrays.copyOfRange(zero.data(), 192, 384),
          "temperature 0: every sample is G(0)");

      // The bundle holds G, D and the power-iteration vectors; a model with another seed restores them.
      Path prefix = dir.resolve("variables");
      model.saveWeights(prefix);
      Map<String, double[]> trained = snapshot(model, "critic/");
      try (SnganModel other = new SnganModel(cfg, ModelOptions.inference().withDtype(TFloat32.class))) {
        Map<String, double[]> fresh = snapshot(other, "critic/");
        assertTrue(unchanged(trained, fresh).size() < trained.size());
        other.restoreWeights(prefix);
        Map<String, double[]> restored = snapshot(other, "critic/");
        for (String k : restored.keySet()) {
          assertArrayEquals(trained.get(k), restored.get(k), k + " restored from the bundle");
        }
        assertTrue(restored.containsKey("critic/block1/c1/kernel_u"));
        assertArrayEquals(s.data(), other.sample(5, new SampleOptions(7, 1, null, 0, 2)).data(), 1e-6f,
            "the restored generator draws the same samples");
      }
      assertTrue(Files.exists(dir.resolve("variables.index")));
    }
  }

  @Test
  void toy2dTrainsAndSamplesPoints() {
    SnganConfig base = SnganConfig.toy2d();
    // The preset's networks at a smaller width and batch, to keep the test fast.
    SnganConfig.Model m = new SnganConfig.Model(SnganConfig.Network.MLP, new long[] {2}, base.model().zDim(), 32, 32,
        0, null, 2);
    TrainingConfig t = new TrainingConfig(32, 20, base.training().optimizer(), 0, TrainingConfig.Decay.LINEAR, 0, 0,
        0, 0, 0, false, false);
    SnganConfig cfg = new SnganConfig("toy-test", m, base.gan(), t, base.sampling());
    int nDis = cfg.gan().nDis();
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(2))) {
      Map<String, double[]> before = snapshot(model, "");
      SplittableRandom rng = new SplittableRandom(3);
      for (int s = 0; s < 20; s++) {
        float[] x = new float[32 * nDis * 2];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (2 * rng.nextGaussian());
        }
        Map<String, Double> metrics = step(model, x, new long[] {32L * nDis, 2}, s);
        assertTrue(Double.isFinite(metrics.get("loss")) && Double.isFinite(metrics.get("g_loss")));
        assertEquals(LearningRate.at(t, s), metrics.get("lr"), 1e-9, "linear decay over the generator iterations");
      }
      Map<String, double[]> after = snapshot(model, "");
      // The hinge loss's gradient for the critic's output bias is P(D(x) < 1) - P(D(G(z)) > -1), exactly 0 while
      // every logit lies in (-1, 1), as it does early on; u of a one-output layer is +1 or -1 for ever.
      assertEquals(List.of("critic/out/bias", "critic/out/kernel_u", "optimizer/critic/critic/out/bias/m",
          "optimizer/critic/critic/out/bias/v"), unchanged(before, after), "every other variable moved");
      Samples s = model.sample(100, SampleOptions.seed(1));
      assertArrayEquals(new long[] {100, 2}, s.shape());
      assertFalse(s.isImages());
    }
  }

  @Test
  void theTrainerCheckpointsAndResumesTheWholeState(@TempDir Path dir) throws Exception {
    SnganConfig base = SnganConfig.toy2d();
    SnganConfig.Model m = new SnganConfig.Model(SnganConfig.Network.MLP, new long[] {2}, 4, 16, 16, 0, null, 1);
    TrainingConfig t = new TrainingConfig(16, 6, base.training().optimizer(), 0, TrainingConfig.Decay.LINEAR, 0, 0,
        0, 0, 0, false, false);
    SnganConfig cfg = new SnganConfig("toy-test", m, new SnganConfig.Gan(SnganConfig.Loss.NON_SATURATING, 2), t,
        base.sampling());
    var data = new dev.genzoo.data.ToyBatches(dev.genzoo.data.Toys.byName("8gaussians"), 4);
    Trainer.Options o = Trainer.Options.defaults(dir).withProgress(false).withCheckpointEvery(3).withSampleEvery(-1);
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(4))) {
      Trainer.Result first = new Trainer(model, data, t, o.withUntilStep(3), s -> { }).run();
      assertEquals(3, first.step());
    }
    Map<String, double[]> saved;
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(99))) {
      Trainer.Result rest = new Trainer(model, data, t, o.withResume(true), s -> { }).run();
      assertEquals(3, rest.startStep(), "resumed where the first run stopped");
      assertEquals(6, rest.step());
      saved = snapshot(model, "");
    }
    List<String> rows = Files.readAllLines(dir.resolve("loss.csv"));
    assertEquals("step,loss,d_loss,g_loss,d_real,d_fake,lr,seconds", rows.get(0));
    assertEquals(7, rows.size(), "one row per generator iteration");
    // The checkpoint holds both networks, their Adam slots, the power-iteration vectors and the step.
    Path ckpt = Trainer.latestCheckpoint(dir);
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(7))) {
      model.stateSaver().restore(model.session(), ckpt.resolve("variables"));
      Map<String, double[]> restored = snapshot(model, "");
      assertEquals(saved.keySet(), restored.keySet());
      for (String k : saved.keySet()) {
        assertArrayEquals(saved.get(k), restored.get(k), k);
      }
      assertTrue(saved.containsKey("optimizer/critic/critic/dense_0/kernel/v"));
      assertTrue(saved.containsKey("optimizer/generator/generator/dense_0/kernel/m"));
    }
  }

  @Test
  void presetsRoundTripThroughJson() {
    SnganFamily family = new SnganFamily();
    assertEquals("sngan", family.name());
    assertEquals(List.of("cifar10", "tiny", "toy2d"), family.presets());
    for (String p : family.presets()) {
      JsonNode json = family.preset(p);
      assertEquals(SnganConfig.preset(p), family.parse(family.validate(json)), p);
      assertTrue(family.describe(json).contains("n_dis"), family.describe(json));
    }
    SnganConfig c = SnganConfig.cifar10();
    assertEquals(3, c.model().upBlocks());
    assertEquals(5, c.gan().nDis());
    assertEquals(64, c.training().batchSize());
    assertEquals(100_000, c.training().steps());
    assertEquals(new OptimizerConfig(OptimizerConfig.Name.ADAM, 2e-4, 0.0, 0.9, 1e-8), c.training().optimizer());
    assertEquals(TrainingConfig.Decay.LINEAR, c.training().decay());
    assertEquals(0.0, c.training().finalLearningRate());
    assertArrayEquals(new long[] {32, 32, 3}, family.dataShape(family.preset("cifar10")));
    assertTrue(family.describe(family.preset("cifar10")).contains("3 up-ResBlocks (256 ch"));
  }

  @Test
  void badConfigsAndOptionsSayWhatIsWrong() throws Exception {
    SnganFamily family = new SnganFamily();
    JsonNode cifar = family.preset("cifar10");
    var e = assertThrows(IllegalArgumentException.class,
        () -> family.validate(Configs.override(cifar, List.of("gan.nDis=0"))));
    assertTrue(e.getMessage().contains("gan.nDis"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> family.validate(Configs.override(cifar, List.of("model.bottomWidth=3"))));
    assertTrue(e.getMessage().contains("model.bottomWidth"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> family.validate(Configs.override(cifar, List.of("training.emaDecay=0.999"))));
    assertTrue(e.getMessage().contains("emaDecay"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SnganConfig.Model(SnganConfig.Network.MLP,
        new long[] {8, 8, 3}, 16, 32, 32, 2, SnganConfig.Upsample.BILINEAR, 0));
    assertTrue(e.getMessage().contains("model.network"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SnganConfig.Model(SnganConfig.Network.RESNET,
        new long[] {10, 10, 3}, 16, 32, 32, 5, SnganConfig.Upsample.BILINEAR, 0));
    assertTrue(e.getMessage().contains("divisible by 4"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SnganConfig.preset("lsun"));
    assertTrue(e.getMessage().contains("cifar10"), e.getMessage());

    try (SnganModel model = new SnganModel(SnganConfig.tiny(), ModelOptions.inference())) {
      assertFalse(model.hasLikelihood());
      assertTrue(model.trainGraph() == null && model.stateSaver() == null, "an inference model has no training step");
      assertThrows(UnsupportedOperationException.class,
          () -> model.logProb(new Batch(new float[192], new long[] {1, 8, 8, 3}, null)));
      e = assertThrows(IllegalArgumentException.class, () -> model.sample(1, SampleOptions.seed(0)
          .withSampler("langevin", 0)));
      assertTrue(e.getMessage().contains("generator"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> model.sample(1, SampleOptions.seed(0)
          .withSampler(null, 10)));
      assertTrue(e.getMessage().contains("--steps"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> model.sample(0, SampleOptions.seed(0)));
      assertNotEquals(0, model.parameterCount());
    }
  }
}
