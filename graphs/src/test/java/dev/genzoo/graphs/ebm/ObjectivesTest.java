package dev.genzoo.graphs.ebm;

import static dev.genzoo.graphs.testing.Stats.mean;
import static dev.genzoo.graphs.testing.Stats.variance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.Optimizers;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The objectives against the math: NCE recovers a Gaussian's parameters and its log-normaliser; exact score matching's
 * optimum over Gaussians is the data's moments and its value and parameter gradient match closed forms; denoising
 * score matching's optimum is the least-squares fit of the noisy data's score; the contrastive (CD-1, PCD, masked)
 * loss gradients equal the analytic expressions with the negatives held constant.
 */
class ObjectivesTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;

  private static Operand<TFloating> c(Ops tf, double v) {
    return Tensors.constant(tf, F64, v);
  }

  private static Operand<TFloating> column(Ops tf, double[] v) {
    return Tensors.constant(tf, F64, v, Shape.of(v.length, 1));
  }

  private static double[] fetch(Session s, Operand<?>... outs) {
    Session.Runner r = s.runner();
    for (Operand<?> o : outs) {
      r.fetch(o);
    }
    try (Result res = r.run()) {
      List<Double> all = new ArrayList<>();
      for (int i = 0; i < outs.length; i++) {
        for (double d : HostTensors.toDoubles(res.get(i))) {
          all.add(d);
        }
      }
      return all.stream().mapToDouble(Double::doubleValue).toArray();
    }
  }

  private static double[] normals(long seed, int n, double mean, double std) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i += 2) {
      double u1 = 1 - rng.nextDouble();
      double u2 = rng.nextDouble();
      double r = Math.sqrt(-2 * Math.log(u1));
      x[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) {
        x[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
      }
    }
    return x;
  }



  /** A 1-D Gaussian energy U(x) = (x - m)^2 / (2 exp(logV)) (+ c when {@code c} is not null). */
  private static Energy gaussian(Operand<TFloating> m, Operand<TFloating> logV, Operand<TFloating> c) {
    return (tf, x) -> {
      Operand<TFloating> xs = tf.reshape(x, tf.constant(new int[] {-1}));
      Operand<TFloating> u = tf.math.div(tf.math.square(tf.math.sub(xs, m)),
          tf.math.mul(Tensors.constant(tf, x.type(), 2.0), tf.math.exp(logV)));
      return c == null ? u : tf.math.add(u, c);
    };
  }

  /** Adam with a linear decay to 1% over {@code steps}, minimising {@code loss} over {@code vars}; full batch. */
  private static void train(VarStore store, Session s, Operand<TFloating> loss, List<VarStore.Var> vars, int steps,
      double lr) {
    Ops tf = store.tf();
    TrainingConfig cfg = new TrainingConfig(1, steps, OptimizerConfig.adam(lr), 0, TrainingConfig.Decay.LINEAR,
        lr * 0.01, 0, 0, 0, 0, false, false);
    Placeholder<TInt64> step = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    Op apply = Optimizers.minimize(store, "optimizer", cfg, loss, vars, step).apply();
    s.runner().addTarget(store.initializer()).run();
    for (int t = 0; t < steps; t++) {
      try (TInt64 st = TInt64.scalarOf(t)) {
        s.runner().feed(step, st).addTarget(apply).run();
      }
    }
  }

  @Test
  void nceRecoversGaussianParametersAndLogNormaliser() {
    double m0 = 1.5;
    double v0 = 0.64;
    int n = 20000;
    double[] data = normals(11, n, m0, Math.sqrt(v0));
    try (Graph g = new Graph(); Session s = new Session(g)) {
      VarStore store = new VarStore(g, TFloat64.class, 1);
      Ops tf = store.tf();
      VarScope scope = store.root().child("nce");
      Output<TFloating> m = scope.variable("m", new long[0], Initializer.zeros());
      Output<TFloating> logV = scope.variable("log_v", new long[0], Initializer.zeros());
      Output<TFloating> cc = scope.variable("c", new long[0], Initializer.zeros());
      NoiseContrastive.Noise noise = NoiseContrastive.Gaussian.isotropic(1, 0, 3);
      NoiseContrastive.Loss loss = NoiseContrastive.loss(tf, gaussian(m, logV, cc), noise, column(tf, data), n,
          tf.constant(new long[] {5, 6}));
      train(store, s, loss.loss(), store.ofKind(VarStore.Kind.TRAINABLE), 1500, 0.05);
      double[] got = fetch(s, m, logV, cc, loss.accuracy());
      double v = Math.exp(got[1]);
      // NCE is consistent (Gutmann and Hyvarinen 2010): with 2e4 data and noise samples the estimates lie within a few
      // hundredths of the truth; c must be the true log-normaliser, 0.5 log(2 pi v0) = 0.6958.
      assertEquals(m0, got[0], 0.03, "m");
      assertEquals(v0, v, 0.04, "v");
      assertEquals(0.5 * Math.log(2 * Math.PI * v0), got[2], 0.04, "log-normaliser c");
      // and it is the log-normaliser of the fitted Gaussian itself
      assertEquals(0.5 * Math.log(2 * Math.PI * v), got[2], 0.03, "c vs the fitted v");
      assertTrue(got[3] > 0.5 && got[3] < 1, "classifier accuracy " + got[3]);
    }
  }

  @Test
  void nceLossValueIsTheLogisticLoss() {
    // J = (1/N) [sum softplus(-G(x)) + sum softplus(G(y))], G = -U - log q - log nu, nu = M / N
    double[] x = {-0.5, 0.2, 1.1};
    double[] y = {-2.0, 0.7, 1.4, 3.1, -0.1, 0.0};
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Energy u = gaussian(c(tf, 0.3), c(tf, Math.log(1.7)), c(tf, 0.2));
      NoiseContrastive.Noise q = NoiseContrastive.GaussianMixture1d.twoModes(-1, 2, 0.3);
      NoiseContrastive.Loss loss = NoiseContrastive.loss(tf, u, q, column(tf, x), column(tf, y));
      double nu = 2;
      NoiseContrastive.GaussianMixture1d mix = NoiseContrastive.GaussianMixture1d.twoModes(-1, 2, 0.3);
      double want = 0;
      for (double xi : x) {
        double gi = -((xi - 0.3) * (xi - 0.3) / (2 * 1.7) + 0.2) - Math.log(mix.density(xi)) - Math.log(nu);
        want += Math.log1p(Math.exp(-gi));
      }
      for (double yi : y) {
        double gi = -((yi - 0.3) * (yi - 0.3) / (2 * 1.7) + 0.2) - Math.log(mix.density(yi)) - Math.log(nu);
        want += Math.log1p(Math.exp(gi));
      }
      want /= x.length;
      assertEquals(want, fetch(s, loss.loss())[0], 1e-12);
    }
  }

  @Test
  void noiseSamplersDrawTheirDistributions() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      NoiseContrastive.GaussianMixture1d mix = NoiseContrastive.GaussianMixture1d.twoModes(-10, 10, 0.25);
      Operand<TFloating> y = mix.sample(tf, 40000, tf.constant(new long[] {3, 4}), F64);
      Operand<TFloating> z = NoiseContrastive.Gaussian.isotropic(2, 1, 3).sample(tf, 40000, tf.constant(new long[] {3, 4}),
          F64);
      double[] ys = fetch(s, y);
      double[] zs = fetch(s, z);
      assertEquals(40000, ys.length);
      int right = 0;
      for (double v : ys) {
        right += v > 0 ? 1 : 0;
      }
      // share of the mode at 10: 0.25 +- 3 sd (sd = sqrt(0.25 * 0.75 / 40000) = 0.0022)
      assertEquals(0.25, right / 40000.0, 0.007);
      assertEquals(-10 * 0.75 + 10 * 0.25, mean(ys), 0.1);
      double[] first = new double[40000];
      for (int i = 0; i < first.length; i++) {
        first[i] = zs[2 * i];
      }
      assertEquals(1, mean(first), 0.05);
      assertEquals(9, variance(first), 0.2);
      // the mixture log-density integrates to 1 (trapezoid rule on [-20, 20])
      int k = 4001;
      double[] grid = new double[k];
      for (int i = 0; i < k; i++) {
        grid[i] = -20 + 40.0 * i / (k - 1);
      }
      double[] logq = fetch(s, mix.logDensity(tf, column(tf, grid)));
      double integral = 0;
      for (int i = 0; i < k; i++) {
        integral += Math.exp(logq[i]) * (i == 0 || i == k - 1 ? 0.5 : 1) * 0.01;
        assertEquals(Math.log(mix.density(grid[i])), logq[i], 1e-9);
      }
      assertEquals(1, integral, 1e-9);
    }
  }

  @Test
  void exactScoreMatchingOptimumIsTheDataMoments() {
    // J(m, v) = mean[(x - m)^2 / (2 v^2) - 1 / v] is minimised at m = mean x, v = mean (x - m)^2 (Hyvarinen 2005)
    double[] data = normals(21, 3000, -0.7, 1.3);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      VarStore store = new VarStore(g, TFloat64.class, 1);
      Ops tf = store.tf();
      VarScope scope = store.root().child("sm");
      Output<TFloating> m = scope.variable("m", new long[0], Initializer.zeros());
      Output<TFloating> logV = scope.variable("log_v", new long[0], Initializer.zeros());
      Operand<TFloating> j = ScoreMatching.exact(tf, gaussian(m, logV, null), column(tf, data));
      train(store, s, j, store.ofKind(VarStore.Kind.TRAINABLE), 800, 0.05);
      double[] got = fetch(s, m, logV);
      assertEquals(mean(data), got[0], 1e-4, "m");
      assertEquals(variance(data), Math.exp(got[1]), 1e-4, "v");
    }
  }

  @Test
  void exactScoreMatchingValueAndParameterGradientIn2d() {
    // U(x) = a x1^2 / 2 + b x1 x2 + c x2^2 / 2 + softplus(w1 x1 + w2 x2):
    // grad U = (a x1 + b x2 + w1 s, b x1 + c x2 + w2 s), Laplacian = a + c + (w1^2 + w2^2) s (1 - s), s = sigmoid(w.x)
    double[] x = {0.3, -1.2, 1.5, 0.4, -0.8, -0.6, 2.0, 1.1};
    double[] theta = {1.3, 0.4, 0.9, 0.7, -1.1}; // a, b, c, w1, w2
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> p = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(5)));
      @SuppressWarnings("unchecked")
      Operand<TFloating> th = (Operand<TFloating>) (Operand<?>) p;
      Energy u = (ops, xx) -> {
        Operand<TFloating> x1 = ops.reshape(ops.slice(xx, ops.constant(new int[] {0, 0}), ops.constant(new int[] {-1, 1})),
            ops.constant(new int[] {-1}));
        Operand<TFloating> x2 = ops.reshape(ops.slice(xx, ops.constant(new int[] {0, 1}), ops.constant(new int[] {-1, 1})),
            ops.constant(new int[] {-1}));
        Operand<TFloating>[] t = new Operand[5];
        for (int i = 0; i < 5; i++) {
          t[i] = ops.gather(th, ops.constant(i), ops.constant(0));
        }
        Operand<TFloating> half = c(ops, 0.5);
        Operand<TFloating> quad = ops.math.add(ops.math.add(
            ops.math.mul(half, ops.math.mul(t[0], ops.math.square(x1))), ops.math.mul(t[1], ops.math.mul(x1, x2))),
            ops.math.mul(half, ops.math.mul(t[2], ops.math.square(x2))));
        return ops.math.add(quad, ops.math.softplus(ops.math.add(ops.math.mul(t[3], x1), ops.math.mul(t[4], x2))));
      };
      Operand<TFloating> j = ScoreMatching.exact(tf, u, Tensors.constant(tf, F64, x, Shape.of(4, 2)));
      Operand<?> dj = tf.gradients(j, List.of(p)).dy(0);
      double want = closedFormJ(x, theta);
      double[] got;
      try (TFloat64 t = TFloat64.vectorOf(theta)) {
        try (Result r = s.runner().feed(p, t).fetch(j).fetch(dj).run()) {
          got = HostTensors.toDoubles(r.get(0));
          double[] grad = HostTensors.toDoubles(r.get(1));
          assertEquals(want, got[0], 1e-12, "J");
          for (int i = 0; i < 5; i++) {
            double h = 1e-5;
            double[] up = theta.clone();
            double[] down = theta.clone();
            up[i] += h;
            down[i] -= h;
            double fd = (closedFormJ(x, up) - closedFormJ(x, down)) / (2 * h);
            assertEquals(fd, grad[i], 1e-7, "dJ/dtheta_" + i);
          }
        }
      }
    }
  }

  private static double closedFormJ(double[] x, double[] t) {
    double total = 0;
    int n = x.length / 2;
    for (int i = 0; i < n; i++) {
      double x1 = x[2 * i];
      double x2 = x[2 * i + 1];
      double sg = 1 / (1 + Math.exp(-(t[3] * x1 + t[4] * x2)));
      double g1 = t[0] * x1 + t[1] * x2 + t[3] * sg;
      double g2 = t[1] * x1 + t[2] * x2 + t[4] * sg;
      double lap = t[0] + t[2] + (t[3] * t[3] + t[4] * t[4]) * sg * (1 - sg);
      total += 0.5 * (g1 * g1 + g2 * g2) - lap;
    }
    return total / n;
  }

  @Test
  void denoisingScoreMatchingOptimumIsTheNoisyDataFit() {
    // minimising mean ((x~ - m) / v - z / sigma)^2 over (1/v, -m/v) is least squares of t = z / sigma on x~:
    // 1/v = cov(x~, t) / var(x~), m = mean x~ - v mean t; in expectation v = v0 + sigma^2 (Vincent 2011)
    double sigma = 0.5;
    double m0 = 0.8;
    double v0 = 0.49;
    int n = 20000;
    double[] x = normals(31, n, m0, Math.sqrt(v0));
    double[] z = normals(32, n, 0, 1);
    double[] noisy = new double[n];
    double[] t = new double[n];
    for (int i = 0; i < n; i++) {
      noisy[i] = x[i] + sigma * z[i];
      t[i] = z[i] / sigma;
    }
    double mx = mean(noisy);
    double mt = mean(t);
    double cov = 0;
    for (int i = 0; i < n; i++) {
      cov += (noisy[i] - mx) * (t[i] - mt);
    }
    cov /= n;
    double vFit = variance(noisy) / cov;
    double mFit = mx - vFit * mt;
    for (boolean weighted : new boolean[] {false, true}) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        VarStore store = new VarStore(g, TFloat64.class, 1);
        Ops tf = store.tf();
        VarScope scope = store.root().child("dsm");
        Output<TFloating> m = scope.variable("m", new long[0], Initializer.zeros());
        Output<TFloating> logV = scope.variable("log_v", new long[0], Initializer.zeros());
        Operand<TFloating> j = ScoreMatching.denoising(tf, gaussian(m, logV, null), column(tf, x), column(tf, z), sigma,
            weighted);
        train(store, s, j, store.ofKind(VarStore.Kind.TRAINABLE), 800, 0.05);
        double[] got = fetch(s, m, logV);
        assertEquals(mFit, got[0], 1e-4, "m (weighted " + weighted + ")");
        assertEquals(vFit, Math.exp(got[1]), 1e-4, "v (weighted " + weighted + ")");
        assertEquals(m0, got[0], 0.03);
        assertEquals(v0 + sigma * sigma, Math.exp(got[1]), 0.04, "the noisy data's variance v0 + sigma^2");
      }
    }
  }

  @Test
  void denoisingLossValue() {
    // 1/2 mean |-grad U(x + sigma z) + z / sigma|^2 with U = (x - m)^2 / (2 v): -grad U = -(x~ - m) / v
    double[] x = {0.2, -1.0, 2.5};
    double[] z = {0.7, -0.3, 1.2};
    double sigma = 0.3;
    double m = 0.4;
    double v = 2.0;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Energy u = gaussian(c(tf, m), c(tf, Math.log(v)), null);
      double[] got = fetch(s, ScoreMatching.denoising(tf, u, column(tf, x), column(tf, z), sigma, false),
          ScoreMatching.denoising(tf, u, column(tf, x), column(tf, z), sigma, true));
      double want = 0;
      for (int i = 0; i < 3; i++) {
        double r = -(x[i] + sigma * z[i] - m) / v + z[i] / sigma;
        want += 0.5 * r * r;
      }
      want /= 3;
      assertEquals(want, got[0], 1e-12);
      assertEquals(want * sigma * sigma, got[1], 1e-12);
    }
  }

  /** U_theta(x) = t1 x + t2 x^2 / 2 with theta = (t1, t2) trainable; grad_x U = t1 + t2 x. */
  private record Linear(Output<TFloating> t1, Output<TFloating> t2, Energy energy) {}

  private static Linear linear(VarStore store, double t1, double t2) {
    VarScope scope = store.root().child("lin");
    Output<TFloating> a = scope.variable("t1", new long[0], Initializer.constant(t1));
    Output<TFloating> b = scope.variable("t2", new long[0], Initializer.constant(t2));
    Energy e = (tf, x) -> {
      Operand<TFloating> xs = tf.reshape(x, tf.constant(new int[] {-1}));
      return tf.math.add(tf.math.mul(a, xs), tf.math.mul(c(tf, 0.5), tf.math.mul(b, tf.math.square(xs))));
    };
    return new Linear(a, b, e);
  }

  /**
   * dL/dtheta for L = mean U(x+) - wmean U(x-) + alpha (mean U(x+)^2 + wmean U(x-)^2), x- constant:
   * dU/dt1 = x, dU/dt2 = x^2 / 2.
   */
  private static double[] analyticGradient(double[] pos, double[] neg, double[] w, double t1, double t2, double alpha) {
    double[] gp = new double[2];
    for (double x : pos) {
      double u = t1 * x + 0.5 * t2 * x * x;
      gp[0] += (x + alpha * 2 * u * x) / pos.length;
      gp[1] += (0.5 * x * x + alpha * 2 * u * 0.5 * x * x) / pos.length;
    }
    double sw = 0;
    double[] gn = new double[2];
    for (int j = 0; j < neg.length; j++) {
      double x = neg[j];
      double u = t1 * x + 0.5 * t2 * x * x;
      double wj = w == null ? 1 : w[j];
      sw += wj;
      gn[0] += wj * (-x + alpha * 2 * u * x);
      gn[1] += wj * (-0.5 * x * x + alpha * 2 * u * 0.5 * x * x);
    }
    return new double[] {gp[0] + gn[0] / sw, gp[1] + gn[1] / sw};
  }

  private static void assertGradient(double[] want, double[] got, String what) {
    assertEquals(want[0], got[0], 1e-10, what + " dL/dt1");
    assertEquals(want[1], got[1], 1e-10, what + " dL/dt2");
  }

  @Test
  void contrastiveDivergenceGradientIsTheAnalyticExpression() {
    double[] pos = {-1.2, 0.3, 0.9, 2.2};
    double t1 = 0.4;
    double t2 = 1.5;
    double eta = 0.1;
    for (double alpha : new double[] {0, 0.3}) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        VarStore store = new VarStore(g, TFloat64.class, 1);
        Ops tf = store.tf();
        Linear lin = linear(store, t1, t2);
        // a noiseless Langevin step, x- = x+ - eta (t1 + t2 x+), so the negatives are known in closed form
        MaximumLikelihood.Loss cd = MaximumLikelihood.contrastiveDivergence(tf, lin.energy(), Langevin.of(eta, 0),
            column(tf, pos), tf.constant(new long[] {1, 2}), 1, alpha);
        var grads = tf.gradients(cd.loss(), List.of(lin.t1(), lin.t2()));
        s.runner().addTarget(store.initializer()).run();
        double[] got = fetch(s, grads.dy(0), grads.dy(1), cd.negatives());
        double[] neg = new double[pos.length];
        for (int i = 0; i < pos.length; i++) {
          neg[i] = pos[i] - eta * (t1 + t2 * pos[i]);
          assertEquals(neg[i], got[2 + i], 1e-12, "CD-1 negative " + i);
        }
        // if the gradient flowed through the sampler (no stop-gradient), dL/dtheta would differ from this
        assertGradient(analyticGradient(pos, neg, null, t1, t2, alpha), got, "CD-1 alpha " + alpha);
      }
    }
  }

  @Test
  void maskedNegativesGiveTheWeightedMean() {
    double[] pos = {0.5, -0.4};
    double[] neg = {1.0, -2.0, 0.7, 3.0, -0.2};
    double[] mask = {1, 0, 1, 0, 1};
    try (Graph g = new Graph(); Session s = new Session(g)) {
      VarStore store = new VarStore(g, TFloat64.class, 1);
      Ops tf = store.tf();
      Linear lin = linear(store, -0.3, 0.8);
      MaximumLikelihood.Loss l = MaximumLikelihood.contrastive(tf, lin.energy(), column(tf, pos), column(tf, neg),
          Tensors.constant(tf, F64, mask, Shape.of(5)), 0.2);
      var grads = tf.gradients(l.loss(), List.of(lin.t1(), lin.t2()));
      s.runner().addTarget(store.initializer()).run();
      double[] got = fetch(s, grads.dy(0), grads.dy(1), l.negativeEnergy());
      assertGradient(analyticGradient(pos, neg, mask, -0.3, 0.8, 0.2), got, "masked");
      double u = 0;
      for (int j = 0; j < neg.length; j++) {
        u += mask[j] * (-0.3 * neg[j] + 0.4 * neg[j] * neg[j]);
      }
      assertEquals(u / 3, got[2], 1e-12, "masked mean energy of the accepted negatives");
    }
  }

  @Test
  void persistentChainsAdvanceAndFeedTheLoss() {
    double[] pos = {-1.0, 0.5, 1.8};
    double[] walkers0 = {2.0, -3.0, 0.25, 1.0};
    double t1 = 0.2;
    double t2 = 0.9;
    double eta = 0.05;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      VarStore store = new VarStore(g, TFloat64.class, 1);
      Ops tf = store.tf();
      Linear lin = linear(store, t1, t2);
      PersistentChains chains = new PersistentChains(store, "lin/pcd/walkers", new long[] {4, 1},
          Initializer.values(walkers0));
      assertEquals(VarStore.Kind.SAMPLER, store.get("lin/pcd/walkers").kind());
      PersistentChains.Advance adv = chains.advance(tf, lin.energy(), Langevin.of(eta, 0), tf.constant(new long[] {0, 0}),
          2);
      MaximumLikelihood.Loss l = MaximumLikelihood.contrastive(tf, lin.energy(), column(tf, pos), adv.negatives(), 0);
      var grads = tf.gradients(l.loss(), List.of(lin.t1(), lin.t2()));
      s.runner().addTarget(store.initializer()).run();
      double[] w = walkers0.clone();
      for (int step = 0; step < 3; step++) {
        // two noiseless Langevin steps per training step, continuing where the last step ended
        for (int k = 0; k < 2; k++) {
          for (int i = 0; i < w.length; i++) {
            w[i] -= eta * (t1 + t2 * w[i]);
          }
        }
        double[] got;
        try (Result r = s.runner().fetch(grads.dy(0)).fetch(grads.dy(1)).fetch(adv.negatives())
            .addTarget(adv.update()).run()) {
          got = new double[] {HostTensors.toDoubles(r.get(0))[0], HostTensors.toDoubles(r.get(1))[0]};
          double[] neg = HostTensors.toDoubles(r.get(2));
          for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], neg[i], 1e-12, "walker " + i + " after step " + step);
          }
        }
        assertGradient(analyticGradient(pos, w, null, t1, t2, 0), got, "PCD step " + step);
        double[] state = fetch(s, chains.state());
        for (int i = 0; i < w.length; i++) {
          assertEquals(w[i], state[i], 1e-12, "stored walker " + i);
        }
      }
      s.runner().addTarget(chains.reset()).run();
      assertEquals(walkers0[1], fetch(s, chains.state())[1], 0);
    }
  }

  @Test
  void rejectsBadArguments() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Energy u = gaussian(c(tf, 0), c(tf, 0), null);
      assertThrows(IllegalArgumentException.class,
          () -> MaximumLikelihood.contrastive(tf, u, column(tf, new double[] {1}), column(tf, new double[] {1}), -1));
      assertThrows(IllegalArgumentException.class,
          () -> ScoreMatching.denoising(tf, u, column(tf, new double[] {1}), column(tf, new double[] {1}), 0, false));
      assertThrows(IllegalArgumentException.class, () -> NoiseContrastive.GaussianMixture1d.twoModes(-1, 1, 1.0));
      assertThrows(IllegalArgumentException.class, () -> new NoiseContrastive.Gaussian(new double[] {0},
          new double[] {0}));
    }
  }
}
