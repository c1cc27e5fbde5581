package dev.genzoo.graphs.sngan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The ResNet generator and critic against a PyTorch reimplementation of Mimicry's SNGAN32 (make_fixtures.py in the
 * test resources): the same variables by name and shape (the name mapping a converter of Mimicry's netG.pth and
 * netD.pth uses), the same outputs for the same weights and inputs (G with moving and with batch statistics, D in
 * training mode with one power iteration and in inference mode), the same updated power-iteration vectors, and
 * Mimicry's parameter counts at the CIFAR-10 size.
 */
class SnganNetworksTest {
  private static final double RTOL = 1e-4;
  private static Map<String, NpyArray> fixture;

  @BeforeAll
  static void load() throws Exception {
    URL url = SnganNetworksTest.class.getResource("/dev/genzoo/graphs/sngan/sngan_resnet_32.npz");
    assertNotNull(url, "missing test resource sngan_resnet_32.npz (run make_fixtures.py beside it)");
    fixture = Npz.readAll(Path.of(url.toURI()));
  }

  private static NpyArray get(String key) {
    NpyArray a = fixture.get(key);
    assertNotNull(a, "fixture has no array " + key);
    return a;
  }

  private static long scalar(String key) {
    return get(key).asLongs()[0];
  }

  private static SnganConfig.Model tinyModel(SnganConfig.Upsample upsample) {
    return new SnganConfig.Model(SnganConfig.Network.RESNET, get("meta/image").asLongs(), (int) scalar("meta/nz"),
        (int) scalar("meta/ngf"), (int) scalar("meta/ndf"), (int) scalar("meta/bottom_width"), upsample, 0);
  }

  /** Network outputs computed by genzoo with the fixture's weights. */
  private record Outputs(double[] gEval, double[] gTrain, double[] dEval, double[] dTrain,
      Map<String, double[]> uNext) {}

  private static Outputs run(Class<? extends TFloating> dtype, SnganConfig.Upsample upsample) {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, dtype, 0);
      Ops tf = store.tf();
      SnganConfig.Model m = tinyModel(upsample);
      ResNetGenerator gen = new ResNetGenerator(store.root().child("generator"), m);
      ResNetCritic critic = new ResNetCritic(store.root().child("critic"), m);
      long[] image = m.dataShape();
      Placeholder<TFloating> z = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, m.zDim())));
      Placeholder<TFloating> x = tf.placeholder(store.dtype(),
          Placeholder.shape(Shape.of(-1, image[0], image[1], image[2])));
      Operand<TFloating> gEval = gen.call(tf, z, Pass.inference());
      Operand<TFloating> gTrain = gen.call(tf, z, Pass.training());
      Operand<TFloating> dEval = critic.call(tf, x, Pass.inference());
      Pass dPass = Pass.training();
      Operand<TFloating> dTrain = critic.call(tf, x, dPass);
      Op uUpdates = tf.withControlDependencies(dPass.updates()).noOp();

      // Every variable (trainable and state) has a fixture array of the same shape, and vice versa.
      TreeSet<String> fixtureNames = new TreeSet<>();
      for (String k : fixture.keySet()) {
        if (!k.startsWith("input/") && !k.startsWith("output/") && !k.startsWith("meta/")) {
          fixtureNames.add(k);
        }
      }
      TreeSet<String> graphNames = new TreeSet<>();
      List<Op> assigns = new ArrayList<>();
      List<Placeholder<TFloating>> feeds = new ArrayList<>();
      List<Tensor> values = new ArrayList<>();
      try {
        for (Var v : store.ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE)) {
          graphNames.add(v.name());
          if (!fixtureNames.contains(v.name())) {
            continue;
          }
          NpyArray a = get(v.name());
          assertArrayEquals(v.shape().asArray(), a.shape(), "shape of " + v.name());
          Placeholder<TFloating> p = tf.placeholder(store.dtype(), Placeholder.shape(v.shape()));
          assigns.add(tf.assign(v.<TFloating>as(), p));
          feeds.add(p);
          values.add(HostTensors.of(store.dtype(), a.asDoubles(), a.shape()));
        }
        assertEquals(fixtureNames, graphNames, "genzoo's variables are the fixture's (Mimicry's, renamed)");
        assertEquals(scalar("meta/params_g"), sum(store.trainable("generator/")), "generator parameters");
        assertEquals(scalar("meta/params_d"), sum(store.trainable("critic/")), "critic parameters");
        Op assignAll = tf.withControlDependencies(assigns).noOp();
        try (Session s = new Session(g)) {
          s.runner().addTarget(store.initializer()).run().close();
          Session.Runner r = s.runner().addTarget(assignAll);
          for (int i = 0; i < feeds.size(); i++) {
            r.feed(feeds.get(i), values.get(i));
          }
          r.run().close();
          NpyArray zs = get("input/z");
          NpyArray xs = get("input/x");
          double[][] out = new double[4][];
          try (Tensor zt = HostTensors.of(store.dtype(), zs.asDoubles(), zs.shape());
               Tensor xt = HostTensors.of(store.dtype(), xs.asDoubles(), xs.shape());
               Result res = s.runner().feed(z, zt).feed(x, xt).fetch(gEval).fetch(gTrain).fetch(dEval).fetch(dTrain)
                   .run()) {
            for (int i = 0; i < 4; i++) {
              out[i] = HostTensors.toDoubles(res.get(i));
            }
          }
          try (Tensor xt = HostTensors.of(store.dtype(), xs.asDoubles(), xs.shape())) {
            s.runner().feed(x, xt).addTarget(uUpdates).run().close();
          }
          Map<String, double[]> u = new java.util.TreeMap<>();
          for (Var v : store.ofKind(VarStore.Kind.STATE)) {
            if (v.name().endsWith("/kernel_u")) {
              try (Result res = s.runner().fetch(v.ref()).run()) {
                u.put(v.name(), HostTensors.toDoubles(res.get(0)));
              }
            }
          }
          return new Outputs(out[0], out[1], out[2], out[3], u);
        }
      } finally {
        values.forEach(Tensor::close);
      }
    }
  }

  private static long sum(List<Var> vars) {
    long n = 0;
    for (Var v : vars) {
      n += v.size();
    }
    return n;
  }

  private static void assertClose(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": size");
    double scale = 0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    assertTrue(scale > 0.05, what + ": the reference output is degenerate (max |y| " + scale + ")");
    double worst = 0;
    int at = 0;
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(actual[i] - expected[i]) / Math.max(1, scale);
      if (err > worst) {
        worst = err;
        at = i;
      }
    }
    assertTrue(worst <= RTOL, what + ": element " + at + " is " + actual[at] + ", PyTorch gives " + expected[at]
        + " (error " + worst + " of max(1, max |y|))");
  }

  @ParameterizedTest
  @ValueSource(strings = {"float32", "float64"})
  void matchesMimicrysNetworksInPyTorch(String type) {
    Outputs o = run(type.equals("float32") ? TFloat32.class : TFloat64.class, SnganConfig.Upsample.BILINEAR);
    assertClose(get("output/g_eval").asDoubles(), o.gEval(), type + " G(z), moving statistics");
    assertClose(get("output/g_train").asDoubles(), o.gTrain(), type + " G(z), batch statistics");
    assertClose(get("output/d_eval").asDoubles(), o.dEval(), type + " D(x), inference");
    assertClose(get("output/d_train").asDoubles(), o.dTrain(), type + " D(x), one power iteration");
    assertEquals(11, o.uNext().size(), "spectrally normalised layers of the critic");
    for (Map.Entry<String, double[]> e : o.uNext().entrySet()) {
      assertClose(get("output/u_next/" + e.getKey()).asDoubles(), e.getValue(), type + " u' of " + e.getKey());
    }
  }

  @Test
  void nearestNeighbourUpsamplingMatchesToo() {
    Outputs o = run(TFloat32.class, SnganConfig.Upsample.NEAREST);
    assertClose(get("output/g_eval_nearest").asDoubles(), o.gEval(), "G(z) with nearest-neighbour up-sampling");
  }

  @Test
  void cifar10ParameterCountIsMimicrysGeneratorPlusCritic() {
    long g = scalar("meta/params_g_cifar10");
    long d = scalar("meta/params_d_cifar10");
    assertEquals(4_276_739L, g, "Mimicry's ResNetGenerator32 (fixture)");
    assertEquals(1_053_825L, d, "Mimicry's ResNetDiscriminator32 (fixture)");
    try (SnganModel model = new SnganModel(SnganConfig.cifar10(), ModelOptions.inference())) {
      assertEquals(g, sum(model.variables().trainable("generator/")), "generator");
      assertEquals(d, sum(model.variables().trainable("critic/")), "critic");
      assertEquals(g + d, model.parameterCount(), "genzoo info's count: the trainable variables of G and D");
      long u = 0;
      for (Var v : model.variables().ofKind(VarStore.Kind.STATE)) {
        if (v.name().endsWith("_u")) {
          u += v.size();
        }
      }
      // 11 spectrally normalised layers: 10 convolutions of 128 outputs and l5 with one; u has the output width.
      assertEquals(10 * 128 + 1, u, "power-iteration vectors are state, not parameters");
    }
  }
}
