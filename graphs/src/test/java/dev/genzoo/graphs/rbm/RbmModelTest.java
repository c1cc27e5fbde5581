package dev.genzoo.graphs.rbm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.data.Batch;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.TrainGraph;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;

/** Presets, config errors, the tiny preset's training step, PCD's chains, data-dependent init and sampling. */
class RbmModelTest {
  private final RbmFamily family = new RbmFamily();

  @Test
  void presetsRoundTripThroughJson() {
    for (String p : family.presets()) {
      assertEquals(RbmConfig.preset(p), family.parse(family.validate(family.preset(p))), p);
      assertTrue(family.describe(family.preset(p)).contains("Gaussian hidden units"), p);
    }
    assertEquals("mnist", family.presets().get(0));
    RbmConfig mnist = RbmConfig.mnist();
    assertEquals(784, mnist.model().visible());
    assertFalse(mnist.isEnumerable());
    assertTrue(RbmConfig.exact10().isEnumerable());
    assertTrue(family.describe(family.preset("mnist")).contains("PCD-1 (100 persistent chains)"));
    assertTrue(family.describe(family.preset("mnist-cd1")).contains("CD-1,"));
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> RbmConfig.preset("nope"));
    assertTrue(unknown.getMessage().contains("mnist, mnist-cd1, tiny, exact10"), unknown.getMessage());
  }

  @Test
  void badConfigsNameTheOption() {
    ObjectNode json = (ObjectNode) family.preset("tiny");
    ((ObjectNode) json.get("model")).put("hidden", 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> family.validate(json));
    assertTrue(e.getMessage().contains("model.hidden"), e.getMessage());

    ObjectNode k0 = (ObjectNode) family.preset("tiny");
    ((ObjectNode) k0.get("cd")).put("k", 0);
    e = assertThrows(IllegalArgumentException.class, () -> family.validate(k0));
    assertTrue(e.getMessage().contains("cd.k"), e.getMessage());

    ObjectNode shape = (ObjectNode) family.preset("tiny");
    ((ObjectNode) shape.get("model")).putArray("dataShape").add(8).add(8);
    e = assertThrows(IllegalArgumentException.class, () -> family.validate(shape));
    assertTrue(e.getMessage().contains("model.dataShape"), e.getMessage());
  }

  @Test
  void withoutEnumerationThereIsNoLikelihood() {
    try (RbmModel model = new RbmModel(RbmConfig.mnist(), ModelOptions.inference())) {
      assertFalse(model.hasLikelihood());
      assertEquals(784L * 200, model.parameterCount() - 784);
      Batch b = new Batch(new float[784], new long[] {1, 28, 28, 1}, null);
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> model.logProb(b));
      assertTrue(e.getMessage().contains("N = 784"), e.getMessage());
      assertThrows(UnsupportedOperationException.class, model::logPartition);
      IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
          () -> model.sample(1, new SampleOptions(0, 1, "ddim", 1, 0)));
      assertTrue(bad.getMessage().contains("gibbs-binary"), bad.getMessage());
      assertThrows(IllegalArgumentException.class, () -> model.sample(1, new SampleOptions(0, 0, null, 1, 0)));
    }
  }

  private static float[] randomImages(int count, int size, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[count * size];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextInt(256);
    }
    return x;
  }

  @Test
  void tinyTrainsAndSamplesImagesInUnitRange() {
    RbmConfig config = RbmConfig.tiny();
    try (RbmModel model = new RbmModel(config, ModelOptions.training(3))) {
      TrainGraph g = model.trainGraph();
      assertTrue(g.metrics().containsKey("recon_error") && g.metrics().containsKey("cd_gap"));
      float[] x = randomImages(16, 64, 2);
      for (int step = 0; step < 3; step++) {
        try (TFloat32 xt = HostTensors.float32(x, new long[] {16, 8, 8, 1});
             TInt64 seed = TInt64.vectorOf(1, step);
             Result r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step())
                 .fetch(g.loss()).fetch(g.metrics().get("recon_error")).run()) {
          assertTrue(Float.isFinite(((TFloat32) r.get(0)).getFloat()));
          float recon = ((TFloat32) r.get(1)).getFloat();
          // W ~ 0.01 and h = 0: p(s = +1 | lambda) is about 1/2, so the squared error is about 1/4 per pixel.
          assertEquals(0.25, recon, 0.03, "reconstruction error at initialisation");
        }
      }
      for (String sampler : new String[] {"gibbs", "gibbs-binary"}) {
        Samples s = model.sample(5, new SampleOptions(4, 1, sampler, 3, 2));
        assertEquals(4, s.shape().length);
        assertEquals(5, s.count());
        for (float v : s.data()) {
          assertTrue(v >= 0 && v <= 1, sampler + " value " + v);
          if (sampler.equals("gibbs-binary")) {
            assertTrue(v == 0 || v == 1, "binary sample " + v);
          }
        }
      }
      // The same seed gives the same samples, chunked or not.
      Samples a = model.sample(5, new SampleOptions(4, 1, "gibbs", 3, 5));
      Samples b = model.sample(5, new SampleOptions(4, 1, "gibbs", 3, 5));
      assertEquals(java.util.Arrays.toString(a.data()), java.util.Arrays.toString(b.data()));
    }
  }

  @Test
  void persistentChainsAreSamplerStateAndCarryOver() {
    RbmConfig base = RbmConfig.tiny();
    RbmConfig config = base.withCd(new RbmConfig.Cd(1, true, 8));
    try (RbmModel model = new RbmModel(config, ModelOptions.training(3).withDtype(TFloat64.class))) {
      VarStore.Var chains = model.variables().get("rbm/persistent_chains");
      assertEquals(VarStore.Kind.SAMPLER, chains.kind());
      assertEquals(8, chains.shape().get(0));
      assertTrue(model.variables().ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE).stream()
          .noneMatch(v -> v.name().equals("rbm/persistent_chains")), "chains must not go into model bundles");
      TrainGraph g = model.trainGraph();
      ContrastiveDivergence.Terms cd = model.contrastiveDivergence();
      float[] x = randomImages(16, 64, 5);
      double[] previous = null;
      for (int step = 0; step < 2; step++) {
        double[] before;
        try (Result r = model.session().runner().fetch(chains.read()).run()) {
          before = HostTensors.toDoubles(r.get(0));
        }
        if (previous != null) {
          assertEquals(java.util.Arrays.toString(previous), java.util.Arrays.toString(before),
              "the chains start where the last update left them");
        }
        double[] sk;
        try (TFloat32 xt = HostTensors.float32(x, new long[] {16, 8, 8, 1});
             TInt64 seed = TInt64.vectorOf(1, step);
             Result r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step())
                 .fetch(cd.chainSpins()).run()) {
          sk = HostTensors.toDoubles(r.get(0));
        }
        assertEquals(8 * 64, sk.length, "one state per persistent chain");
        try (Result r = model.session().runner().fetch(chains.read()).run()) {
          previous = HostTensors.toDoubles(r.get(0));
        }
        assertEquals(java.util.Arrays.toString(sk), java.util.Arrays.toString(previous));
      }
    }
  }

  @Test
  void dataInitSetsVisibleFieldsFromTheMeans() {
    RbmConfig config = RbmConfig.tiny();
    try (RbmModel model = new RbmModel(config, ModelOptions.training(3).withDtype(TFloat64.class))) {
      TrainGraph g = model.trainGraph();
      int count = 40;
      float[] x = randomImages(count, 64, 9);
      for (int r = 0; r < count; r++) {
        x[r * 64] = 200; // pixel 0 always on, pixel 1 always off: their means are clipped
        x[r * 64 + 1] = 3;
      }
      try (TFloat32 xt = HostTensors.float32(x, new long[] {count, 8, 8, 1})) {
        model.session().runner().feed(g.x(), xt).addTarget(g.dataInit()).run().close();
      }
      double[] h = model.parameters().fields();
      for (int i = 0; i < 64; i++) {
        double mean = 0;
        for (int r = 0; r < count; r++) {
          mean += (x[r * 64 + i] > 127 ? 1.0 : -1.0) / count;
        }
        double clipped = Math.max(-0.98, Math.min(0.98, mean));
        double expected = 0.5 * Math.log((1 + clipped) / (1 - clipped));
        assertEquals(expected, h[i], 1e-12, "h_" + i);
        // with W = 0 the model's p(s_i = +1) = sigmoid(2 h_i) is the data frequency (clipped to [0.01, 0.99])
        assertEquals((clipped + 1) / 2, 1 / (1 + Math.exp(-2 * h[i])), 1e-12);
      }
      assertEquals(Math.log(99) / 2, h[0], 1e-12);
      assertEquals(-Math.log(99) / 2, h[1], 1e-12);
    }
  }

  @Test
  void weightsSaveAndRestore(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
    RbmConfig config = RbmConfig.exact10().withCd(new RbmConfig.Cd(1, true, 0));
    double[] w = new double[40];
    double[] h = new double[10];
    for (int i = 0; i < w.length; i++) {
      w[i] = Math.sin(i);
    }
    for (int i = 0; i < h.length; i++) {
      h[i] = Math.cos(i);
    }
    try (RbmModel a = new RbmModel(config, ModelOptions.training(1).withDtype(TFloat64.class))) {
      a.setParameters(new RbmModel.Parameters(w, h));
      a.saveWeights(tmp.resolve("w"));
    }
    try (RbmModel b = new RbmModel(config, ModelOptions.inference().withDtype(TFloat64.class))) {
      b.restoreWeights(tmp.resolve("w"));
      RbmModel.Parameters p = b.parameters();
      assertEquals(java.util.Arrays.toString(w), java.util.Arrays.toString(p.weights()));
      assertEquals(java.util.Arrays.toString(h), java.util.Arrays.toString(p.fields()));
    }
  }

  @Test
  void modelConfigIsTheFamilysJson() {
    try (RbmModel model = new RbmModel(RbmConfig.exact10(), ModelOptions.inference())) {
      JsonNode json = model.config();
      assertEquals(RbmConfig.exact10(), family.parse(json));
      assertEquals("rbm", model.family());
      assertEquals(10, model.dataShape()[0]);
    }
  }
}
