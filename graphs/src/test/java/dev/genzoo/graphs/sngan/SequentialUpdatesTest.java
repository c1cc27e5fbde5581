package dev.genzoo.graphs.sngan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.Optimizers;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Several updates of one network in one {@code Session.run} (VarScope.reuseAfter), the mechanism of SN-GAN's n_dis
 * critic updates per generator iteration: exactly the result of the same updates run one after another, for SGD and
 * for Adam with shared slots; and in the model, each critic update continuing the power iteration where the previous
 * one left u.
 */
class SequentialUpdatesTest {
  private static final double[] W0 = {1.0, -0.5, 0.25};
  private static final double[] A = {0.3, 0.1, -0.2};

  /** loss(w) = sum(w^4) / 4 + a . w, so grad = w^3 + a: the gradient depends on the weights it is taken at. */
  private static Operand<TFloating> loss(Ops tf, Class<TFloating> dt, Operand<TFloating> w) {
    Operand<TFloating> a = Tensors.constant(tf, dt, A, org.tensorflow.ndarray.Shape.of(3));
    Operand<TFloating> quartic = tf.math.mul(tf.math.square(tf.math.square(w)), Tensors.constant(tf, dt, 0.25));
    return Tensors.sum(tf, tf.math.add(quartic, tf.math.mul(a, w)), 0);
  }

  private static double[] grad(double[] w) {
    double[] g = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      g[i] = w[i] * w[i] * w[i] + A[i];
    }
    return g;
  }

  /** The host result of k updates: SGD w -= lr g, or TensorFlow's ApplyAdam with t = 1, 2, .... */
  private static double[] expected(OptimizerConfig o, int k) {
    double[] w = W0.clone();
    double[] m = new double[w.length];
    double[] v = new double[w.length];
    for (int t = 1; t <= k; t++) {
      double[] g = grad(w);
      if (o.name() == OptimizerConfig.Name.SGD) {
        for (int i = 0; i < w.length; i++) {
          w[i] -= o.learningRate() * g[i];
        }
      } else {
        double lrT = o.learningRate() * Math.sqrt(1 - Math.pow(o.beta2(), t)) / (1 - Math.pow(o.beta1(), t));
        for (int i = 0; i < w.length; i++) {
          m[i] = o.beta1() * m[i] + (1 - o.beta1()) * g[i];
          v[i] = o.beta2() * v[i] + (1 - o.beta2()) * g[i] * g[i];
          w[i] -= lrT * m[i] / (Math.sqrt(v[i]) + o.epsilon());
        }
      }
    }
    return w;
  }

  @ParameterizedTest
  @ValueSource(strings = {"SGD", "ADAM"})
  void threeUpdatesInOneRunEqualThreeUpdatesInARow(String name) {
    OptimizerConfig o = name.equals("SGD") ? new OptimizerConfig(OptimizerConfig.Name.SGD, 0.1, 0, 0, 0)
        : new OptimizerConfig(OptimizerConfig.Name.ADAM, 0.05, 0.5, 0.9, 1e-8);
    TrainingConfig cfg = new TrainingConfig(1, 100, o, 0, TrainingConfig.Decay.NONE, 0, 0, 0, 0, 0, false, false);
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 0);
      Ops tf = store.tf();
      VarScope scope = store.root().child("net");
      List<Var> vars = null;
      List<Op> after = List.of();
      for (int k = 0; k < 3; k++) {
        VarScope s = k == 0 ? scope : scope.reuseAfter(after);
        Output<TFloating> w = s.variable("w", new long[] {3}, Initializer.values(W0));
        if (vars == null) {
          vars = store.trainable("net/");
        }
        Optimizers.Step step = Optimizers.minimize(store, "optimizer", cfg, loss(tf, store.dtype(), w), vars,
            List.of(w), tf.constant((long) k));
        after = List.of(step.apply());
      }
      assertEquals(1, vars.size(), "reuse creates no variable");
      Op all = tf.withControlDependencies(after).noOp();
      try (Session s = new Session(g)) {
        s.runner().addTarget(store.initializer()).run().close();
        s.runner().addTarget(all).run().close();
        double[] got;
        try (Result r = s.runner().fetch(store.get("net/w").value()).run()) {
          got = HostTensors.toDoubles(r.get(0));
        }
        double[] want = expected(o, 3);
        double[] one = expected(o, 1);
        for (int i = 0; i < 3; i++) {
          assertEquals(want[i], got[i], 1e-14, name + " w[" + i + "] after three updates in one run");
          assertTrue(Math.abs(want[i] - one[i]) > 1e-3, "three updates differ from one");
        }
      }
    }
  }

  /** One power iteration on the [in, out] kernel w: v = normalise(W u), u' = normalise(W^T v). */
  private static double[] powerIteration(double[] w, int in, int out, double[] u) {
    double[] v = new double[in];
    for (int i = 0; i < in; i++) {
      for (int j = 0; j < out; j++) {
        v[i] += w[i * out + j] * u[j];
      }
    }
    normalise(v);
    double[] next = new double[out];
    for (int j = 0; j < out; j++) {
      for (int i = 0; i < in; i++) {
        next[j] += w[i * out + j] * v[i];
      }
    }
    normalise(next);
    return next;
  }

  private static void normalise(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    s = Math.sqrt(s);
    for (int i = 0; i < v.length; i++) {
      v[i] /= s;
    }
  }

  private static double[] fetch(Session s, Operand<?> x) {
    try (Result r = s.runner().fetch(x).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /**
   * With a learning rate so small that the weights stay put in float64, one generator iteration runs n_dis + 1
   * power iterations on each critic layer (one per critic update and one in the generator update), each from the u
   * the previous copy of the critic stored: u after the step is the (n_dis + 1)-th iterate of u before it.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void eachCriticUpdateContinuesThePowerIteration(int nDis) {
    SnganConfig base = SnganConfig.toy2d();
    SnganConfig.Model m = new SnganConfig.Model(SnganConfig.Network.MLP, new long[] {2}, 4, 8, 6, 0, null, 2);
    TrainingConfig t = new TrainingConfig(16, 10, OptimizerConfig.adam(1e-30, 0, 0.9), 0,
        TrainingConfig.Decay.LINEAR, 0, 0, 0, 0, 0, false, false);
    SnganConfig cfg = new SnganConfig("test", m, new SnganConfig.Gan(SnganConfig.Loss.HINGE, nDis), t,
        base.sampling());
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(5).withDtype(TFloat64.class))) {
      VarStore store = model.variables();
      Session s = model.session();
      Map<String, double[]> w = new LinkedHashMap<>();
      Map<String, double[]> u = new LinkedHashMap<>();
      Map<String, int[]> dims = new LinkedHashMap<>();
      for (Var v : store.trainable("critic/")) {
        if (v.name().endsWith("/kernel")) {
          w.put(v.name(), fetch(s, v.ref()));
          u.put(v.name(), fetch(s, store.get(v.name() + "_u").ref()));
          long[] shape = v.shape().asArray();
          dims.put(v.name(), new int[] {(int) shape[0], (int) shape[1]});
        }
      }
      assertEquals(3, w.size(), "dense_0, dense_1, out");
      TrainGraph g = model.trainGraph();
      assertEquals(nDis, g.batchesPerStep());
      float[] x = new float[16 * nDis * 2];
      SplittableRandom rng = new SplittableRandom(1);
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (2 * rng.nextGaussian());
      }
      try (TFloat32 xt = HostTensors.float32(x, new long[] {16L * nDis, 2}); TInt64 seed = TInt64.vectorOf(9, 0)) {
        s.runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step()).run().close();
      }
      for (String name : w.keySet()) {
        assertEquals(java.util.Arrays.toString(w.get(name)), java.util.Arrays.toString(fetch(s, store.get(name).ref())),
            name + " did not move at learning rate 1e-30");
        int[] d = dims.get(name);
        double[] want = u.get(name);
        for (int k = 0; k < nDis + 1; k++) {
          want = powerIteration(w.get(name), d[0], d[1], want);
        }
        double[] once = powerIteration(w.get(name), d[0], d[1], u.get(name));
        double[] got = fetch(s, store.get(name + "_u").ref());
        double diffFromOnce = 0;
        for (int j = 0; j < got.length; j++) {
          assertEquals(want[j], got[j], 1e-12, name + "_u[" + j + "] after " + (nDis + 1) + " power iterations");
          diffFromOnce = Math.max(diffFromOnce, Math.abs(want[j] - once[j]));
        }
        if (nDis > 1 && d[1] > 1) {
          assertTrue(diffFromOnce > 1e-6, name + ": more iterations give a different u (" + diffFromOnce + ")");
        }
      }
      try (Result r = s.runner().fetch(g.globalStep()).run()) {
        assertEquals(1L, ((TInt64) r.get(0)).getLong());
      }
    }
  }

  /**
   * The critic's Adam counts its own updates: with beta1 = 0, update k of the first iteration (t = k + 1) moves a
   * weight by -lr sqrt(1 - beta2^t) m_t / (sqrt(v_t) + eps), m_t = g_t, v_t = beta2 v_{t-1} + (1 - beta2) g_t^2.
   * After two updates the slots hold m = g_1 and v = (1 - beta2)(beta2 g_0^2 + g_1^2); the first update moved each
   * weight by -lr sign(g_0) (t = 1). So w_after - w_before + lr sqrt(1 - beta2^2) m / sqrt(v) is lr in magnitude;
   * with t = 1 for both updates (the generator's step count) the second term would be sqrt(1 + beta2) times larger.
   */
  @Test
  void theCriticsBiasCorrectionCountsItsUpdates() {
    double lr = 1e-3;
    double b2 = 0.9;
    SnganConfig.Model m = new SnganConfig.Model(SnganConfig.Network.MLP, new long[] {2}, 4, 8, 6, 0, null, 2);
    TrainingConfig t = new TrainingConfig(16, 10, OptimizerConfig.adam(lr, 0, b2), 0, TrainingConfig.Decay.LINEAR,
        0, 0, 0, 0, 0, false, false);
    SnganConfig cfg = new SnganConfig("test", m, new SnganConfig.Gan(SnganConfig.Loss.NON_SATURATING, 2), t,
        SnganConfig.toy2d().sampling());
    try (SnganModel model = new SnganModel(cfg, ModelOptions.training(6).withDtype(TFloat64.class))) {
      VarStore store = model.variables();
      Session s = model.session();
      String name = "critic/dense_1/kernel";
      double[] before = fetch(s, store.get(name).ref());
      TrainGraph g = model.trainGraph();
      float[] x = new float[32 * 2];
      SplittableRandom rng = new SplittableRandom(2);
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (2 * rng.nextGaussian());
      }
      try (TFloat32 xt = HostTensors.float32(x, new long[] {32, 2}); TInt64 seed = TInt64.vectorOf(4, 0)) {
        s.runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step()).run().close();
      }
      double[] after = fetch(s, store.get(name).ref());
      double[] mSlot = fetch(s, store.get("optimizer/critic/" + name + "/m").ref());
      double[] vSlot = fetch(s, store.get("optimizer/critic/" + name + "/v").ref());
      int checked = 0;
      for (int i = 0; i < before.length; i++) {
        double g1 = mSlot[i];
        double g0sq = (vSlot[i] / (1 - b2) - g1 * g1) / b2;
        if (Math.abs(g1) < 1e-4 || g0sq < 1e-8) {
          continue;
        }
        double second = -lr * Math.sqrt(1 - b2 * b2) * mSlot[i] / (Math.sqrt(vSlot[i]) + 1e-8);
        double first = after[i] - before[i] - second;
        assertEquals(lr, Math.abs(first), 1e-3 * lr, name + "[" + i + "]: the first update moved it by lr");
        checked++;
      }
      assertTrue(checked >= before.length / 2, checked + " of " + before.length + " weights checked");
    }
  }
}
