package dev.genzoo.graphs.ncsn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * Annealed Langevin dynamics and denoising score matching against the math: on toy:bimodal (0.2 N(-10, 1) +
 * 0.8 N(10, 1), the lecture notes' mixture) with its analytic noisy score, annealing recovers the mode weights while
 * plain Langevin started in one mode never leaves it; for Gaussian data the DSM minimiser is the analytic score.
 */
class LangevinMathTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;
  private static final double[] WEIGHTS = {0.2, 0.8};
  private static final double[] MEANS = {-10, 10};

  /**
   * The score of p_sigma = sum_k w_k N(mu_k, 1 + sigma^2): sum_k r_k(x) (mu_k - x) / (1 + sigma^2), with the
   * responsibilities r_k a softmax of log w_k - (x - mu_k)^2 / (2 (1 + sigma^2)).
   */
  private static ScoreFunction bimodalScore(NoiseLevels levels) {
    return (tf, x, index) -> {
      double[] variances = new double[levels.size()];
      for (int i = 0; i < variances.length; i++) {
        variances[i] = 1 + levels.sigma(i) * levels.sigma(i);
      }
      Operand<TFloating> v = tf.reshape(tf.gather(Tensors.constant(tf, F64, variances, Shape.of(variances.length)),
          index, tf.constant(0)), tf.constant(new long[] {-1, 1}));
      Operand<TFloating> mu = Tensors.constant(tf, F64, MEANS, Shape.of(1, 2));
      Operand<TFloating> logW = Tensors.constant(tf, F64, new double[] {Math.log(WEIGHTS[0]), Math.log(WEIGHTS[1])},
          Shape.of(1, 2));
      Operand<TFloating> d = tf.math.sub(mu, x); // [N, 2] by broadcasting x [N, 1]
      Operand<TFloating> logits = tf.math.sub(logW, tf.math.div(tf.math.square(d),
          tf.math.mul(Tensors.constant(tf, F64, 2), v)));
      Operand<TFloating> r = tf.nn.softmax(logits);
      return Tensors.sumKeep(tf, tf.math.div(tf.math.mul(r, d), v), 1);
    };
  }

  private static double fractionAbove(double[] x, double threshold) {
    int k = 0;
    for (double v : x) {
      if (v > threshold) {
        k++;
      }
    }
    return (double) k / x.length;
  }

  @Test
  void annealedLangevinRecoversTheModeWeights() {
    NoiseLevels levels = NoiseLevels.geometric(20, 0.01, 20);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      AnnealedLangevin ald = new AnnealedLangevin(tf, F64, levels, bimodalScore(levels), new long[] {1});
      try (Session s = new Session(g)) {
        int n = 4000;
        SplittableRandom rng = new SplittableRandom(1);
        double[] x0 = new double[n];
        for (int i = 0; i < n; i++) {
          x0[i] = 20 * rng.nextGaussian();
        }
        double[] x = ald.sample(s, x0, n, 3, 100, 2e-5, true, null, null);
        double right = fractionAbove(x, 0);
        assertEquals(0.8, right, 0.05, "weight of the mode at +10");
        assertEquals(0.2, 1 - right, 0.05, "weight of the mode at -10");
        // Within the mode at +10 the samples are N(10, 1).
        double sum = 0;
        double sq = 0;
        int k = 0;
        for (double v : x) {
          if (v > 0) {
            sum += v;
            sq += v * v;
            k++;
          }
        }
        double mean = sum / k;
        assertEquals(10, mean, 0.1);
        assertEquals(1, Math.sqrt(sq / k - mean * mean), 0.1);
      }
    }
  }

  @Test
  void plainLangevinDoesNotMoveMassBetweenModes() {
    NoiseLevels levels = NoiseLevels.geometric(20, 0.01, 20);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      AnnealedLangevin ald = new AnnealedLangevin(tf, F64, levels, bimodalScore(levels), new long[] {1});
      try (Session s = new Session(g)) {
        int n = 2000;
        double[] start = new double[n];
        java.util.Arrays.fill(start, -10);
        // 5000 steps of size 0.05 at the smallest level: the chain mixes within the mode (relaxation time ~1 / 0.05
        // steps) but the barrier between the modes (20 standard deviations apart) is never crossed.
        double[] x = ald.langevin(s, start, n, 7, levels.size() - 1, 5000, 0.05);
        assertEquals(0, fractionAbove(x, 0), 0, "mass moved from the mode at -10 to the mode at +10");
        double mean = java.util.Arrays.stream(x).average().orElseThrow();
        assertEquals(-10, mean, 0.15, "the chain equilibrates within its mode");
      }
    }
  }

  @Test
  void dsmMinimiserForGaussianDataIsTheAnalyticScore() {
    // Data N(m, s^2); model s(x, sigma_i) = a_i x + b_i. The DSM minimiser is the score of N(m, s^2 + sigma_i^2):
    // a_i = -1 / (s^2 + sigma_i^2), b_i = m / (s^2 + sigma_i^2).
    double m = 1.5;
    double sd = 0.7;
    NoiseLevels levels = new NoiseLevels(new double[] {2.0, 0.5, 0.1});
    int n = 30_000;
    SplittableRandom rng = new SplittableRandom(5);
    double[] x = new double[n];
    double[] z = new double[n];
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      x[i] = m + sd * rng.nextGaussian();
      z[i] = rng.nextGaussian();
      idx[i] = i % 3;
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var store = new dev.genzoo.graphs.nn.VarStore(g, TFloat64.class, 0);
      Output<TFloating> av = store.root().variable("a", new long[] {3},
          dev.genzoo.graphs.nn.Initializer.zeros());
      Output<TFloating> bv = store.root().variable("b", new long[] {3},
          dev.genzoo.graphs.nn.Initializer.zeros());
      ScoreFunction linear = (ops, xx, index) -> ops.math.add(
          ops.math.mul(tf.reshape(ops.gather(av, index, ops.constant(0)), ops.constant(new long[] {-1, 1})), xx),
          tf.reshape(ops.gather(bv, index, ops.constant(0)), ops.constant(new long[] {-1, 1})));
      Operand<TFloating> xs = Tensors.constant(tf, F64, x, Shape.of(n, 1));
      Operand<TFloating> zs = Tensors.constant(tf, F64, z, Shape.of(n, 1));
      Operand<TFloating> loss = Tensors.mean(tf, levels.dsmLoss(tf, linear, xs, tf.constant(idx), zs), 0);
      // The loss is quadratic in (a, b): Newton's method converges in one step, but plain gradient descent with a
      // safe step suffices and keeps the test independent of the solver.
      List<Output<?>> grads = tf.gradients(loss, List.of(av, bv)).dy();
      @SuppressWarnings("unchecked")
      Operand<TFloating> ga = (Operand<TFloating>) grads.get(0);
      @SuppressWarnings("unchecked")
      Operand<TFloating> gb = (Operand<TFloating>) grads.get(1);
      var lr = Tensors.constant(tf, F64, 0.5);
      var stepA = store.assign(av, tf.math.sub(av, tf.math.mul(lr, tf.math.div(ga, tf.math.square(
          Tensors.constant(tf, F64, levels.sigmas(), Shape.of(3)))))));
      var stepB = store.assign(bv, tf.math.sub(bv, tf.math.mul(lr, tf.math.div(gb, tf.math.square(
          Tensors.constant(tf, F64, levels.sigmas(), Shape.of(3)))))));
      try (Session s = new Session(g)) {
        s.runner().addTarget(store.initializer(store.all())).run().close();
        for (int it = 0; it < 3000; it++) {
          s.runner().addTarget(stepA).addTarget(stepB).run().close();
        }
        try (Result r = s.runner().fetch(av).fetch(bv).run()) {
          double[] got = HostTensors.toDoubles(r.get(0));
          double[] gotB = HostTensors.toDoubles(r.get(1));
          for (int i = 0; i < 3; i++) {
            double v = sd * sd + levels.sigma(i) * levels.sigma(i);
            assertEquals(-1 / v, got[i], 0.03 / v, "a at sigma " + levels.sigma(i));
            assertEquals(m / v, gotB[i], 0.05 / v, "b at sigma " + levels.sigma(i));
          }
        }
      }
    }
    assertTrue(levels.size() == 3);
  }

  @Test
  void geometricLevelsMatchNumpyGeomspace() {
    NoiseLevels l = NoiseLevels.geometric(50, 0.01, 232);
    assertEquals(232, l.size());
    assertEquals(50, l.sigma(0), 0);
    assertEquals(0.01, l.last(), 0);
    double ratio = Math.pow(0.01 / 50, 1.0 / 231);
    for (int i = 1; i < 232; i++) {
      assertEquals(ratio, l.sigma(i) / l.sigma(i - 1), 1e-12);
    }
  }
}
