package dev.genzoo.graphs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/** One optimiser step on loss = sum(g * w), whose gradient is exactly g, against the update rules of the papers. */
class OptimizerTest {
  private static final double[] W0 = {0.5, -1.0, 2.0};
  private static final double[] G = {3.0, -0.25, 4.0};

  private static TrainingConfig config(OptimizerConfig o, double clip, double ema) {
    return new TrainingConfig(1, 100, o, 0, TrainingConfig.Decay.NONE, 0, clip, ema, 0, 0, false, false);
  }

  /** Returns {w after one step, EMA shadow after one step (or null)}. */
  private static double[][] oneStep(TrainingConfig cfg) {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 0);
      Ops tf = store.tf();
      Output<TFloating> w = store.root().variable("w", new long[] {3}, Initializer.values(W0));
      Output<TInt64> step = store.create("global_step", Shape.scalar(), TInt64.class, VarStore.Kind.STEP,
          tf.constant(0L));
      Operand<TFloating> loss = Tensors.sum(tf, tf.math.mul(w, Tensors.constant(tf, store.dtype(), G, Shape.of(3))),
          0);
      List<VarStore.Var> vars = store.ofKind(VarStore.Kind.TRAINABLE);
      Optimizers.Step s = Optimizers.minimize(store, "optimizer", cfg, loss, vars, step);
      Ema ema = cfg.emaDecay() > 0 ? new Ema(store, vars, cfg.emaDecay(), List.of(s.apply())) : null;
      Op train = ema == null ? s.apply() : tf.withControlDependencies(List.of(s.apply(), ema.update())).noOp();
      try (Session session = new Session(g)) {
        session.runner().addTarget(store.initializer()).run().close();
        if (ema != null) {
          session.runner().addTarget(ema.reset()).run().close();
        }
        session.runner().addTarget(train).run().close();
        Session.Runner fetch = session.runner().fetch(w);
        if (ema != null) {
          fetch.fetch(ema.shadowOf("w"));
        }
        try (Result r = fetch.run()) {
          return new double[][] {HostTensors.toDoubles(r.get(0)), ema == null ? null : HostTensors.toDoubles(r.get(1))};
        }
      }
    }
  }

  /**
   * Adam (Kingma & Ba 2015) in the "epsilon hat" form of the end of section 2, which TensorFlow's ApplyAdam
   * implements: step lr_t m / (sqrt(v) + eps) with lr_t = lr sqrt(1 - b2) / (1 - b1); after one step m = (1 - b1) g
   * and v = (1 - b2) g^2, so the step is lr sqrt(1 - b2) g / (sqrt(1 - b2) |g| + eps), about lr sign(g).
   */
  @Test
  void adamFirstStepIsLrTimesSign() {
    double lr = 0.01;
    double b2 = 0.999;
    double eps = 1e-8;
    double[] w = oneStep(config(OptimizerConfig.adam(lr), 0, 0))[0];
    for (int i = 0; i < 3; i++) {
      double step = lr * Math.sqrt(1 - b2) * G[i] / (Math.sqrt(1 - b2) * Math.abs(G[i]) + eps);
      assertEquals(W0[i] - step, w[i], 1e-14);
      assertEquals(W0[i] - lr * Math.signum(G[i]), w[i], 1e-7);
    }
  }

  /** Adamax: m = (1 - b1) g, u = |g|, step lr / (1 - b1) * m / (u + eps) = lr * sign(g). */
  @Test
  void adamaxFirstStepIsLrTimesSign() {
    double lr = 0.003;
    double[] w = oneStep(config(OptimizerConfig.adamax(lr), 0, 0))[0];
    for (int i = 0; i < 3; i++) {
      assertEquals(W0[i] - lr * Math.signum(G[i]), w[i], 1e-9);
    }
  }

  /** Global-norm clipping: |G| = sqrt(9 + 1/16 + 16); SGD moves by -lr * G * c / |G|. */
  @Test
  void globalNormClippingScalesTheGradient() {
    double lr = 0.1;
    double clip = 1.0;
    double norm = Math.sqrt(9 + 0.0625 + 16);
    double[] w = oneStep(config(new OptimizerConfig(OptimizerConfig.Name.SGD, lr, 0, 0, 0), clip, 0))[0];
    for (int i = 0; i < 3; i++) {
      assertEquals(W0[i] - lr * G[i] * clip / norm, w[i], 1e-12);
    }
  }

  /** EMA: shadow = d * w_before + (1 - d) * w_after, with w_after the weights after this very step's update. */
  @Test
  void emaAveragesTheUpdatedWeights() {
    double lr = 0.1;
    double d = 0.9;
    double[][] r = oneStep(config(new OptimizerConfig(OptimizerConfig.Name.SGD, lr, 0, 0, 0), 0, d));
    double[] expectedW = new double[3];
    double[] expectedShadow = new double[3];
    for (int i = 0; i < 3; i++) {
      expectedW[i] = W0[i] - lr * G[i];
      expectedShadow[i] = d * W0[i] + (1 - d) * expectedW[i];
    }
    assertArrayEquals(expectedW, r[0], 1e-12);
    assertArrayEquals(expectedShadow, r[1], 1e-12);
  }

  /** A variable the loss does not use is named in an error (TensorFlow's C API would crash the process). */
  @Test
  void aVariableTheLossDoesNotUseIsAnErrorNotACrash() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 0);
      Ops tf = store.tf();
      Output<TFloating> w = store.root().variable("used", new long[] {3}, Initializer.values(W0));
      store.root().variable("forgotten", new long[] {2}, Initializer.zeros());
      Output<TInt64> step = store.create("global_step", Shape.scalar(), TInt64.class, VarStore.Kind.STEP,
          tf.constant(0L));
      Operand<TFloating> loss = Tensors.sum(tf, tf.math.square(w), 0);
      IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
          () -> Optimizers.minimize(store, "optimizer", config(OptimizerConfig.adam(0.1), 0, 0), loss,
              store.ofKind(VarStore.Kind.TRAINABLE), step));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("forgotten")
          && !e.getMessage().contains("used,"), e.getMessage());
    }
  }

  /** The in-graph schedule equals the host formula: linear warm-up, then cosine decay to the final rate. */
  @Test
  void scheduleInTheGraphMatchesTheFormula() {
    TrainingConfig cfg = new TrainingConfig(1, 1000, OptimizerConfig.adam(2e-3), 100, TrainingConfig.Decay.COSINE,
        1e-4, 0, 0, 0, 0, false, false);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var step = tf.placeholder(TInt64.class);
      @SuppressWarnings("unchecked")
      Operand<TFloating> lr = LearningRate.schedule(tf, (Class<TFloating>) (Class<?>) TFloat64.class, cfg, step);
      for (long t : new long[] {0, 49, 99, 100, 300, 550, 999, 1500}) {
        try (TInt64 tt = TInt64.scalarOf(t); Result r = s.runner().feed(step, tt).fetch(lr).run()) {
          double expected;
          double warm = Math.min(1, (t + 1) / 100.0);
          double p = Math.min(1, Math.max(0, (t - 100) / 900.0));
          expected = warm * (1e-4 + (2e-3 - 1e-4) * 0.5 * (1 + Math.cos(Math.PI * p)));
          assertEquals(expected, HostTensors.toDoubles(r.get(0))[0], 1e-12, "step " + t);
          assertEquals(expected, LearningRate.at(cfg, t), 1e-12, "host, step " + t);
        }
      }
    }
  }
}
