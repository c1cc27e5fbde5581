package dev.genzoo.graphs.rbm;

import static dev.genzoo.graphs.testing.Stats.mean;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The RBM against the notes' formulas, computed independently in Java: the CD-1 update, the two conditionals, and the
 * marginal p(s) = exp(h.s + |W^T s|^2 / 2) / Z by exact enumeration.
 */
class RbmMathTest {
  private static double[] gaussian(SplittableRandom rng, int count, double std) {
    double[] out = new double[count];
    for (int i = 0; i < count; i++) {
      // Box-Muller
      out[i] = std * Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
    return out;
  }

  private static RbmConfig vectorConfig(int visible, int hidden, TrainingConfig training) {
    return new RbmConfig("test", new RbmConfig.Model(new long[] {visible}, hidden, 0, 0.01),
        new RbmConfig.Cd(1, false, 0), training, new RbmConfig.Sampling(10, 100));
  }

  private static ModelOptions float64(boolean training) {
    ModelOptions o = training ? ModelOptions.training(1) : ModelOptions.inference();
    return o.withDtype(TFloat64.class);
  }

  /** W^T s for one row: the hidden input sum_j W_{j mu} s_j. */
  private static double[] hiddenInput(double[] w, int n, int p, double[] s, int row) {
    double[] out = new double[p];
    for (int mu = 0; mu < p; mu++) {
      for (int j = 0; j < n; j++) {
        out[mu] += w[j * p + mu] * s[row * n + j];
      }
    }
    return out;
  }

  /** -F(s) = h.s + |W^T s|^2 / 2. */
  private static double negFreeEnergy(double[] w, double[] h, int n, int p, double[] s, int row) {
    double field = 0;
    for (int i = 0; i < n; i++) {
      field += h[i] * s[row * n + i];
    }
    double q = 0;
    for (double v : hiddenInput(w, n, p, s, row)) {
      q += v * v;
    }
    return field + q / 2;
  }

  @Test
  void cd1UpdateIsTheNotesExpression() {
    int n = 4;
    int p = 3;
    int b = 6;
    double lr = 0.1;
    TrainingConfig sgd = new TrainingConfig(b, 10, new OptimizerConfig(OptimizerConfig.Name.SGD, lr, 0, 0, 1e-8), 0,
        TrainingConfig.Decay.NONE, 0, 0, 0, 0, 0, false, false);
    SplittableRandom rng = new SplittableRandom(7);
    double[] w = gaussian(rng, n * p, 0.6);
    double[] h = gaussian(rng, n, 0.4);
    float[] x = new float[b * n];
    double[] s = new double[b * n];
    for (int i = 0; i < x.length; i++) {
      int pick = rng.nextInt(3);
      x[i] = pick == 0 ? -1f : pick == 1 ? 0f : 1f; // threshold 0: -1 and 0 are spin -1, 1 is spin +1
      s[i] = x[i] > 0 ? 1 : -1;
    }
    try (RbmModel model = new RbmModel(vectorConfig(n, p, sgd), float64(true))) {
      model.setParameters(new RbmModel.Parameters(w, h));
      ContrastiveDivergence.Terms cd = model.contrastiveDivergence();
      TrainGraph g = model.trainGraph();
      var tf = model.variables().tf();
      Gradients grads = tf.gradients(cd.loss(), List.<Operand<?>>of(model.rbm().weights(), model.rbm().fields()));
      double[] data;
      double[] s1;
      double[] l1;
      double[] gw;
      double[] gh;
      double loss;
      try (TFloat32 xt = HostTensors.float32(x, new long[] {b, n});
           TInt64 seed = TInt64.vectorOf(123, 4);
           Result r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).fetch(cd.data())
               .fetch(cd.chainSpins()).fetch(cd.chainHidden()).fetch(grads.dy(0)).fetch(grads.dy(1))
               .fetch(cd.loss()).addTarget(g.step()).run()) {
        data = HostTensors.toDoubles(r.get(0));
        s1 = HostTensors.toDoubles(r.get(1));
        l1 = HostTensors.toDoubles(r.get(2));
        gw = HostTensors.toDoubles(r.get(3));
        gh = HostTensors.toDoubles(r.get(4));
        loss = ((TFloat64) r.get(5)).getDouble();
      }
      for (int i = 0; i < s.length; i++) {
        assertEquals(s[i], data[i], 0, "data spin " + i);
        assertTrue(s1[i] == 1 || s1[i] == -1, "s^(1) must be spins, got " + s1[i]);
      }
      // dW = < s_i sum_j W_{j mu} s_j >_data - < s_i^(1) lambda_mu^(1) >, dh = <s_i>_data - <s_i^(1)>; grad = -update.
      double[] dw = new double[n * p];
      double[] dh = new double[n];
      double expectedLoss = 0;
      for (int a = 0; a < b; a++) {
        double[] hin = hiddenInput(w, n, p, s, a);
        for (int i = 0; i < n; i++) {
          dh[i] += (s[a * n + i] - s1[a * n + i]) / b;
          for (int mu = 0; mu < p; mu++) {
            dw[i * p + mu] += (s[a * n + i] * hin[mu] - s1[a * n + i] * l1[a * p + mu]) / b;
          }
        }
        // L = mean F(s) - mean H(s^(1), lambda^(1)), since H(s, E[lambda | s]) = F(s).
        double energy1 = 0;
        for (int mu = 0; mu < p; mu++) {
          energy1 += l1[a * p + mu] * l1[a * p + mu] / 2;
        }
        double[] hin1 = hiddenInput(w, n, p, s1, a);
        for (int i = 0; i < n; i++) {
          energy1 -= h[i] * s1[a * n + i];
        }
        for (int mu = 0; mu < p; mu++) {
          energy1 -= hin1[mu] * l1[a * p + mu];
        }
        expectedLoss += (-negFreeEnergy(w, h, n, p, s, a) - energy1) / b;
      }
      assertEquals(expectedLoss, loss, 1e-12, "surrogate loss");
      for (int i = 0; i < n * p; i++) {
        assertEquals(-dw[i], gw[i], 1e-12, "dL/dW " + i);
      }
      for (int i = 0; i < n; i++) {
        assertEquals(-dh[i], gh[i], 1e-12, "dL/dh " + i);
      }
      // The SGD step applied W + lr dW and h + lr dh.
      RbmModel.Parameters after = model.parameters();
      for (int i = 0; i < n * p; i++) {
        assertEquals(w[i] + lr * dw[i], after.weights()[i], 1e-12, "updated W " + i);
      }
      for (int i = 0; i < n; i++) {
        assertEquals(h[i] + lr * dh[i], after.fields()[i], 1e-12, "updated h " + i);
      }
      boolean moved = false;
      for (int i = 0; i < s.length; i++) {
        moved |= s1[i] != s[i];
      }
      assertTrue(moved, "the Gibbs sweep left every spin of the batch unchanged");
    }
  }

  @Test
  void conditionalsMatchTheFormulas() {
    int n = 6;
    int p = 3;
    int draws = 20000;
    SplittableRandom rng = new SplittableRandom(11);
    double[] w = gaussian(rng, n * p, 0.5);
    double[] h = gaussian(rng, n, 0.5);
    double[] s0 = {1, -1, -1, 1, 1, -1};
    double[] lambda0 = {0.7, -1.1, 0.3};
    TrainingConfig t = RbmConfig.exact10().training();
    try (RbmModel model = new RbmModel(vectorConfig(n, p, t), float64(false))) {
      model.setParameters(new RbmModel.Parameters(w, h));
      double[] s = new double[draws * n];
      double[] lam = new double[draws * p];
      for (int r = 0; r < draws; r++) {
        System.arraycopy(s0, 0, s, r * n, n);
        System.arraycopy(lambda0, 0, lam, r * p, p);
      }
      // lambda | s ~ N(W^T s, I): means, unit variances, no correlations (5 standard errors).
      double[] hidden = model.sampleHidden(s, draws, new long[] {3, 9});
      double[] mean = hiddenInput(w, n, p, s0, 0);
      double[] m1 = new double[p];
      double[][] m2 = new double[p][p];
      for (int r = 0; r < draws; r++) {
        for (int a = 0; a < p; a++) {
          double da = hidden[r * p + a] - mean[a];
          m1[a] += da / draws;
          for (int c = 0; c < p; c++) {
            m2[a][c] += da * (hidden[r * p + c] - mean[c]) / draws;
          }
        }
      }
      double se = 1 / Math.sqrt(draws);
      for (int a = 0; a < p; a++) {
        assertEquals(0, m1[a], 5 * se, "E[lambda_" + a + " | s] - (W^T s)_" + a);
        for (int c = 0; c < p; c++) {
          assertEquals(a == c ? 1 : 0, m2[a][c], 5 * (a == c ? Math.sqrt(2) : 1) * se, "Cov[lambda | s] " + a + c);
        }
      }
      // s_i | lambda: +1 with probability 1 / (1 + exp(-2 x_i)), x_i = sum_mu W_{i mu} lambda_mu + h_i.
      double[] visible = model.sampleVisible(lam, draws, new long[] {5, 2});
      for (int i = 0; i < n; i++) {
        double x = h[i];
        for (int mu = 0; mu < p; mu++) {
          x += w[i * p + mu] * lambda0[mu];
        }
        double expected = 1 / (1 + Math.exp(-2 * x));
        int plus = 0;
        for (int r = 0; r < draws; r++) {
          double v = visible[r * n + i];
          assertTrue(v == 1 || v == -1);
          plus += v > 0 ? 1 : 0;
        }
        double tol = 5 * Math.sqrt(expected * (1 - expected) / draws);
        assertEquals(expected, plus / (double) draws, tol, "p(s_" + i + " = +1 | lambda), x = " + x);
      }
    }
  }

  /** The exact p(s) over all 2^n states, at temperature T: exp(-F(s) / T) / Z_T. */
  private static double[] exactDistribution(double[] w, double[] h, int n, int p, double temperature) {
    int states = 1 << n;
    double[] all = RbmModel.enumerate(0, states, n);
    double[] logits = new double[states];
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < states; k++) {
      logits[k] = negFreeEnergy(w, h, n, p, all, k) / temperature;
      max = Math.max(max, logits[k]);
    }
    double z = 0;
    for (int k = 0; k < states; k++) {
      z += Math.exp(logits[k] - max);
    }
    double[] out = new double[states];
    for (int k = 0; k < states; k++) {
      out[k] = Math.exp(logits[k] - max) / z;
    }
    return out;
  }

  private static double totalVariation(double[] a, double[] b) {
    double tv = 0;
    for (int i = 0; i < a.length; i++) {
      tv += Math.abs(a[i] - b[i]);
    }
    return tv / 2;
  }

  /** E[TV(empirical, p)] for m independent draws, to first order: sum_k sqrt(p_k (1 - p_k) / m) sqrt(2 / pi) / 2. */
  private static double expectedTv(double[] p, int m) {
    double e = 0;
    for (double pk : p) {
      e += Math.sqrt(pk * (1 - pk) / m);
    }
    return e * Math.sqrt(2 / Math.PI) / 2;
  }

  private static double[] histogram(Samples samples, int n) {
    int count = samples.count();
    double[] out = new double[1 << n];
    float[] d = samples.data();
    for (int r = 0; r < count; r++) {
      int state = 0;
      for (int i = 0; i < n; i++) {
        float v = d[r * n + i];
        assertTrue(v == 1 || v == -1, "gibbs-binary on vectors returns spins, got " + v);
        if (v > 0) {
          state |= 1 << i;
        }
      }
      out[state] += 1.0 / count;
    }
    return out;
  }

  @Test
  void exactEnumerationMatchesGibbsAndNormalises() {
    RbmConfig config = RbmConfig.exact10();
    int n = config.model().visible();
    int p = config.model().hidden();
    int states = 1 << n;
    SplittableRandom rng = new SplittableRandom(5);
    double[] w = gaussian(rng, n * p, 0.3);
    double[] h = gaussian(rng, n, 0.3);
    try (RbmModel model = new RbmModel(config, float64(false))) {
      assertTrue(model.hasLikelihood());
      model.setParameters(new RbmModel.Parameters(w, h));
      double[] exact = exactDistribution(w, h, n, p, 1);

      // logProb of every state: sums to one and equals -F(s) - log Z of the formula.
      double[] all = RbmModel.enumerate(0, states, n);
      float[] x = new float[all.length];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) all[i];
      }
      double[] lp = model.logProb(new Batch(x, new long[] {states, n}, null));
      double total = 0;
      for (int k = 0; k < states; k++) {
        total += Math.exp(lp[k]);
        assertEquals(Math.log(exact[k]), lp[k], 1e-9, "log p of state " + k);
      }
      assertEquals(1, total, 1e-9, "sum over all 2^N states of p(s)");

      // Independent Gibbs chains from random spins: the empirical law of the final states is p (within the multinomial
      // fluctuation of m draws), and clearly not p at another temperature. 200 sweeps: the s -> -s symmetry of
      // |W^T s|^2 makes two modes that h only partly breaks, and 40 sweeps do not balance them (TV 0.05).
      int m = 100_000;
      Samples samples = model.sample(m, new SampleOptions(9, 1.0, "gibbs-binary", 200, m));
      double[] empirical = histogram(samples, n);
      double bound = 1.3 * expectedTv(exact, m);
      double tv = totalVariation(empirical, exact);
      assertTrue(tv < bound, "TV(Gibbs, exact) = " + tv + " >= " + bound);
      double tvWrong = totalVariation(empirical, exactDistribution(w, h, n, p, 1.25));
      assertTrue(tvWrong > 2 * bound, "the test cannot tell T = 1.25 from T = 1: TV " + tvWrong);

      // Tempered Gibbs (T = 2) samples p(s)^(1/2) / Z_2.
      Samples hot = model.sample(m, new SampleOptions(10, 2.0, "gibbs-binary", 100, m));
      double[] exactHot = exactDistribution(w, h, n, p, 2);
      double tvHot = totalVariation(histogram(hot, n), exactHot);
      assertTrue(tvHot < 1.3 * expectedTv(exactHot, m), "TV(Gibbs at T = 2, exact) = " + tvHot);
    }
  }

  @Test
  void cd1TrainingRaisesTheExactLikelihoodTowardsTheTeachers() {
    RbmConfig config = RbmConfig.exact10();
    int n = config.model().visible();
    int p = config.model().hidden();
    int states = 1 << n;
    SplittableRandom rng = new SplittableRandom(21);
    double[] teacher = exactDistribution(gaussian(rng, n * p, 0.5), gaussian(rng, n, 0.5), n, p, 1);
    // Data: m independent draws from the teacher's exact distribution (inverse CDF), as {0, 1} vectors.
    int m = 5000;
    double[] cdf = new double[states];
    double acc = 0;
    for (int k = 0; k < states; k++) {
      acc += teacher[k];
      cdf[k] = acc;
    }
    float[] data = new float[m * n];
    double teacherLl = 0;
    for (int r = 0; r < m; r++) {
      double u = rng.nextDouble() * acc;
      int k = 0;
      while (cdf[k] < u) {
        k++;
      }
      teacherLl += Math.log(teacher[k]) / m;
      for (int i = 0; i < n; i++) {
        data[r * n + i] = (k >>> i) & 1;
      }
    }
    Batch all = new Batch(data, new long[] {m, n}, null);
    try (RbmModel model = new RbmModel(config, float64(true))) {
      double before = mean(model.logProb(all));
      TrainGraph g = model.trainGraph();
      int b = config.training().batchSize();
      for (int step = 0; step < 400; step++) {
        int start = (step * b) % m;
        float[] x = java.util.Arrays.copyOfRange(data, start * n, (start + b) * n);
        try (TFloat32 xt = HostTensors.float32(x, new long[] {b, n});
             TInt64 seed = TInt64.vectorOf(3, step)) {
          model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step()).run().close();
        }
      }
      double after = mean(model.logProb(all));
      // Untrained (W ~ 0.01, h = 0): nearly uniform, log(1 / 1024) = -6.93 nats.
      assertEquals(-n * Math.log(2), before, 0.01);
      assertTrue(after - before > 0.8 * (teacherLl - before), "log-likelihood " + before + " -> " + after
          + ", teacher " + teacherLl);
      assertTrue(after < teacherLl + 0.05, "a model cannot beat the data's own distribution by much: " + after
          + " vs " + teacherLl);
    }
  }
}
