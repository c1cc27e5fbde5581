package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
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
 * IGEBM's ResNet32Large against a PyTorch port of the authors' network (make_fixtures.py beside the fixture): the same
 * variables by name and shape, the same energies with the authors' one power iteration per forward and the updated u
 * vectors, the same energies and input gradients in inference, and the parameter count at the CIFAR-10 size.
 */
class ResNetEnergyTest {
  private static final String FIXTURE = "/dev/genzoo/graphs/ebm/resnet32large_f8_16x16x3.npz";
  private static final double RTOL = 1e-4;
  private static Map<String, NpyArray> f;

  @BeforeAll
  static void load() throws Exception {
    URL url = ResNetEnergyTest.class.getResource(FIXTURE);
    assertNotNull(url, "missing test resource " + FIXTURE + " (run make_fixtures.py beside it)");
    f = Npz.readAll(Path.of(url.toURI()));
  }

  private static NpyArray get(String key) {
    NpyArray a = f.get(key);
    assertNotNull(a, "fixture has no array " + key);
    return a;
  }

  private static long scalar(String key) {
    return get(key).asLongs()[0];
  }

  /** The network with the fixture's weights assigned, an input placeholder and the energies of a pass. */
  private record Built(VarStore store, ResNetEnergy net, Placeholder<TFloating> x, Op assign,
      List<Placeholder<TFloating>> feeds, List<String> names) {}

  private static Built build(Graph g, Class<? extends TFloating> dtype, double dropout) {
    VarStore store = new VarStore(g, dtype, 0);
    Ops tf = store.tf();
    long[] hwc = get("meta/image_shape").asLongs();
    ResNetEnergy net = new ResNetEnergy(store.root().child("ebm").child("energy"), hwc[2], scalar("meta/filters"),
        dropout);
    Placeholder<TFloating> x = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, hwc[0], hwc[1], hwc[2])));
    TreeSet<String> fixtureNames = new TreeSet<>();
    for (String k : f.keySet()) {
      if (!k.startsWith("input/") && !k.startsWith("output/") && !k.startsWith("meta/")) {
        fixtureNames.add(k);
      }
    }
    TreeSet<String> graphNames = new TreeSet<>();
    List<Op> assigns = new ArrayList<>();
    List<Placeholder<TFloating>> feeds = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Var v : store.ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE)) {
      graphNames.add(v.name());
      if (!fixtureNames.contains(v.name())) {
        continue;
      }
      assertArrayEquals(v.shape().asArray(), get(v.name()).shape(), "shape of " + v.name());
      Placeholder<TFloating> p = tf.placeholder(store.dtype(), Placeholder.shape(v.shape()));
      assigns.add(tf.assign(v.<TFloating>as(), p));
      feeds.add(p);
      names.add(v.name());
    }
    if (!graphNames.equals(fixtureNames)) {
      TreeSet<String> missing = new TreeSet<>(graphNames);
      missing.removeAll(fixtureNames);
      TreeSet<String> unused = new TreeSet<>(fixtureNames);
      unused.removeAll(graphNames);
      fail("variables missing from the fixture: " + missing + "; fixture arrays no variable uses: " + unused);
    }
    assertEquals(scalar("meta/param_count"), store.parameterCount(), "parameter count");
    return new Built(store, net, x, tf.withControlDependencies(assigns).noOp(), feeds, names);
  }

  private static void assign(Session s, Built b) {
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner r = s.runner().addTarget(b.assign());
      for (int i = 0; i < b.feeds().size(); i++) {
        NpyArray a = get(b.names().get(i));
        Tensor t = HostTensors.of(b.store().dtype(), a.asDoubles(), a.shape());
        owned.add(t);
        r.feed(b.feeds().get(i), t);
      }
      r.run().close();
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Runs {@code fetches} with the fixture's input fed (and {@code targets} run). */
  private static List<double[]> run(Session s, Built b, List<Operand<?>> fetches, List<Op> targets) {
    NpyArray x = get("input/x");
    try (Tensor xt = HostTensors.of(b.store().dtype(), x.asDoubles(), x.shape())) {
      Session.Runner r = s.runner().feed(b.x(), xt);
      fetches.forEach(r::fetch);
      targets.forEach(r::addTarget);
      try (Result res = r.run()) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < fetches.size(); i++) {
          out.add(HostTensors.toDoubles(res.get(i)));
        }
        return out;
      }
    }
  }

  private static double[] fetchVar(Session s, VarStore store, String name) {
    try (Result r = s.runner().fetch(store.get(name).read()).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  static void assertClose(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": size");
    double ss = 0;
    for (double e : expected) {
      ss += e * e;
    }
    double rms = Math.sqrt(ss / expected.length);
    assertTrue(rms > 1e-3, what + ": the reference is degenerate (rms " + rms + ")");
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + rms);
      assertTrue(err <= RTOL, what + "[" + i + "] is " + actual[i] + ", PyTorch gives " + expected[i]
          + " (relative error " + err + ")");
    }
  }

  @Test
  void inferenceEnergiesAndInputGradientsMatchPyTorch() {
    for (Class<? extends TFloating> dtype : List.of(TFloat64.class, TFloat32.class)) {
      try (Graph g = new Graph()) {
        Built b = build(g, dtype, 0);
        Operand<TFloating> e = b.net().call(b.store().tf(), b.x(), Pass.inference(), null);
        Operand<TFloating> grad = Energy.gradientOf(b.store().tf(), e, b.x());
        try (Session s = new Session(g)) {
          assign(s, b);
          List<double[]> out = run(s, b, List.of(e, grad), List.of());
          String d = dtype.getSimpleName();
          assertClose(get("output/energy_eval").asDoubles(), out.get(0), d + " inference energies");
          assertClose(get("output/grad_x_eval").asDoubles(), out.get(1), d + " dE/dx");
        }
      }
    }
  }

  /** The authors' forward: one power iteration per run, u := u' recorded, energies with the iterated estimate. */
  @Test
  void trainingPassRunsThePowerIterationOfTheAuthorsCode() {
    try (Graph g = new Graph()) {
      Built b = build(g, TFloat64.class, 0);
      Pass pass = Pass.training();
      Operand<TFloating> e = b.net().call(b.store().tf(), b.x(), pass, null);
      // A second call in the same pass shares the one iteration (as the code's weights are built once per graph).
      Operand<TFloating> again = b.net().call(b.store().tf(), b.x(), pass, null);
      assertEquals(1 + 2 * 9 + 2, pass.updates().size(), "one u update per spectrally normalised kernel (2 shortcuts)");
      try (Session s = new Session(g)) {
        assign(s, b);
        List<double[]> out = run(s, b, List.of(e, again), pass.updates());
        assertClose(get("output/energy_train").asDoubles(), out.get(0), "training energies");
        assertClose(get("output/energy_train").asDoubles(), out.get(1), "training energies, second call");
        int checked = 0;
        for (String k : f.keySet()) {
          if (k.startsWith("output/u_next/")) {
            String name = k.substring("output/u_next/".length());
            assertClose(get(k).asDoubles(), fetchVar(s, b.store(), name), "u' of " + name);
            checked++;
          }
        }
        assertEquals(pass.updates().size(), checked);
      }
    }
  }

  /** Dropout (the code's ResNet32Large(train=True)) acts in seeded training passes only. */
  @Test
  void dropoutActsOnlyInSeededTrainingPasses() {
    try (Graph g = new Graph()) {
      Built b = build(g, TFloat64.class, 0.5);
      Ops tf = b.store().tf();
      Operand<TFloating> eval = b.net().call(tf, b.x(), Pass.inference(), tf.constant(new long[] {1, 2}));
      Operand<TFloating> dropped = b.net().call(tf, b.x(), Pass.training(), tf.constant(new long[] {1, 2}));
      Operand<TFloating> unseeded = b.net().call(tf, b.x(), Pass.training(), null);
      try (Session s = new Session(g)) {
        assign(s, b);
        List<double[]> out = run(s, b, List.of(eval, dropped, unseeded), List.of());
        assertClose(get("output/energy_eval").asDoubles(), out.get(0), "inference with dropout configured");
        assertClose(get("output/energy_train").asDoubles(), out.get(2), "training pass without a seed");
        double diff = 0;
        double[] ref = get("output/energy_train").asDoubles();
        for (int i = 0; i < ref.length; i++) {
          diff = Math.max(diff, Math.abs(out.get(1)[i] - ref[i]));
        }
        assertTrue(diff > 1e-3, "dropout of half the first activations changed no energy (max diff " + diff + ")");
      }
    }
  }

  @Test
  void parameterCountAtTheCifar10SizeIsTheReferences() {
    assertEquals(scalar("meta/param_count_cifar10"), ResNetEnergy.parameterCount(3, 128));
    assertEquals(18_591_105L, scalar("meta/param_count_cifar10"));
    assertEquals(scalar("meta/param_count"), ResNetEnergy.parameterCount(3, scalar("meta/filters")));
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      new ResNetEnergy(store.root().child("ebm").child("energy"), 3, 128, 0);
      assertEquals(scalar("meta/param_count_cifar10"), store.parameterCount());
    }
    assertThrows(IllegalArgumentException.class, () -> ResNetEnergy.checkImageShape(new long[] {12, 12, 3}));
    ResNetEnergy.checkImageShape(new long[] {32, 32, 3});
  }
}
