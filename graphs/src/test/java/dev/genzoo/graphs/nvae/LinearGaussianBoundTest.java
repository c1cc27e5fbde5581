package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The variational and importance-weighted bounds (Burda, Grosse &amp; Salakhutdinov 2016) on a linear Gaussian model
 * whose evidence is known: p(z) = N(0, I_2), p(x | z) = N(W z + b, s^2 I_3), so p(x) = N(b, W W^T + s^2 I) (computed
 * on the host with a 3 x 3 determinant and Cramer's rule) and the posterior is N(Sigma W^T (x - b) / s^2, Sigma) with
 * Sigma = (I + W^T W / s^2)^-1. The log weights log p(x | z) + log p(z) - log q(z | x) are built in a float64 graph
 * from {@link Normal#exact} densities at draws of a diagonal q(z | x) that is not the posterior. Checks: the Monte
 * Carlo ELBO equals the closed-form ELBO (E_q log p(x | z) + E_q log p(z) + H(q)) and lies below log p(x) by many
 * standard errors; the mean IW bound increases with k = 1, 10, 100, 1000, stays below log p(x), and its gap shrinks to
 * a few hundredths at k = 1000; with q the exact posterior (W with orthogonal columns makes it diagonal) every log
 * weight is log p(x) to 1e-9.
 */
class LinearGaussianBoundTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;

  /** Standard errors allowed between an estimate and its exact value. */
  private static final double K = 4.0;

  private static final double S = 0.5;
  private static final double[] B = {0.2, -0.1, 0.4};
  private static final double[] X = {1.0, 0.3, -0.8};
  /** A general W (3 x 2, row-major). */
  private static final double[] W = {1.0, -0.5, 0.3, 0.8, -0.7, 0.4};
  /** A W with orthogonal columns (1, 0.5, 1) and (1, 0, -1): the posterior covariance is diagonal. */
  private static final double[] W_ORTHO = {1.0, 1.0, 0.5, 0.0, 1.0, -1.0};

  // ------------------------------------------------------------------------------------------ host math

  /** log N(x; b, W W^T + s^2 I) from the 3 x 3 covariance: determinant by cofactors, C^-1 d by Cramer's rule. */
  private static double logEvidence(double[] w) {
    double[][] c = new double[3][3];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        c[i][j] = w[2 * i] * w[2 * j] + w[2 * i + 1] * w[2 * j + 1] + (i == j ? S * S : 0);
      }
    }
    double[] d = {X[0] - B[0], X[1] - B[1], X[2] - B[2]};
    double det = det3(c);
    double quad = 0;
    for (int col = 0; col < 3; col++) {
      double[][] ci = new double[3][];
      for (int r = 0; r < 3; r++) {
        ci[r] = c[r].clone();
        ci[r][col] = d[r];
      }
      quad += d[col] * det3(ci) / det;  // (C^-1 d)_col = det(C with column col replaced by d) / det(C)
    }
    return -0.5 * (3 * Math.log(2 * Math.PI) + Math.log(det) + quad);
  }

  private static double det3(double[][] a) {
    return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  }

  /** The posterior N(mean, cov) of z given X: {mean0, mean1, cov00, cov01, cov11}. */
  private static double[] posterior(double[] w) {
    // precision I + W^T W / s^2 (2 x 2), inverted by hand
    double p00 = 1 + (w[0] * w[0] + w[2] * w[2] + w[4] * w[4]) / (S * S);
    double p01 = (w[0] * w[1] + w[2] * w[3] + w[4] * w[5]) / (S * S);
    double p11 = 1 + (w[1] * w[1] + w[3] * w[3] + w[5] * w[5]) / (S * S);
    double det = p00 * p11 - p01 * p01;
    double c00 = p11 / det;
    double c01 = -p01 / det;
    double c11 = p00 / det;
    double[] d = {X[0] - B[0], X[1] - B[1], X[2] - B[2]};
    double r0 = (w[0] * d[0] + w[2] * d[1] + w[4] * d[2]) / (S * S);
    double r1 = (w[1] * d[0] + w[3] * d[1] + w[5] * d[2]) / (S * S);
    return new double[] {c00 * r0 + c01 * r1, c01 * r0 + c11 * r1, c00, c01, c11};
  }

  /** E_q log p(x | z) + E_q log p(z) + H(q) for q = N(m, diag v). */
  private static double analyticElbo(double[] w, double[] m, double[] v) {
    double residual = 0;
    double trace = 0;
    for (int i = 0; i < 3; i++) {
      double r = X[i] - B[i] - w[2 * i] * m[0] - w[2 * i + 1] * m[1];
      residual += r * r;
      trace += w[2 * i] * w[2 * i] * v[0] + w[2 * i + 1] * w[2 * i + 1] * v[1];
    }
    double likelihood = -1.5 * Math.log(2 * Math.PI * S * S) - (residual + trace) / (2 * S * S);
    double prior = -Math.log(2 * Math.PI) - 0.5 * (m[0] * m[0] + m[1] * m[1] + v[0] + v[1]);
    double entropy = 0.5 * (Math.log(2 * Math.PI * Math.E * v[0]) + Math.log(2 * Math.PI * Math.E * v[1]));
    return likelihood + prior + entropy;
  }

  // ------------------------------------------------------------------------------------------ graph

  /** log w = log p(x | z) + log p(z) - log q(z | x) at {@code draws} draws of q = N(m, diag v) (seeded). */
  private static double[] logWeights(double[] w, double[] m, double[] v, int draws, long seed) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloating> mean = Tensors.constant(tf, F64, m, Shape.of(1, 2));
      Operand<TFloating> logSd = Tensors.constant(tf, F64, new double[] {0.5 * Math.log(v[0]), 0.5 * Math.log(v[1])},
          Shape.of(1, 2));
      Normal q = Normal.exact(tf, mean, logSd);
      Operand<TFloating> eps = tf.random.statelessRandomNormal(tf.constant(new long[] {draws, 2}),
          tf.constant(new long[] {seed, 1}), F64);
      Operand<TFloating> z = q.sample(tf, eps);
      // W z + b: [draws, 2] x [2, 3]
      Operand<TFloating> loc = tf.math.add(tf.linalg.matMul(z, Tensors.constant(tf, F64, w, Shape.of(3, 2)),
          org.tensorflow.op.linalg.MatMul.transposeB(true)), Tensors.constant(tf, F64, B, Shape.of(1, 3)));
      Normal likelihood = Normal.exact(tf, loc, tf.math.mul(tf.onesLike(loc), Tensors.constant(tf, F64, Math.log(S))));
      Normal prior = Normal.exact(tf, tf.zerosLike(z), tf.zerosLike(z));
      Operand<TFloating> logPxz = Tensors.sum(tf, likelihood.logP(tf, Tensors.constant(tf, F64, X, Shape.of(1, 3))), 1);
      Operand<TFloating> logPz = Tensors.sum(tf, prior.logP(tf, z), 1);
      Operand<TFloating> logQ = Tensors.sum(tf, q.logP(tf, z), 1);
      try (Result r = s.runner().fetch(tf.math.sub(tf.math.add(logPxz, logPz), logQ)).run()) {
        return HostTensors.toDoubles((Tensor) r.get(0));
      }
    }
  }

  /** The first k * repeats weights as [k][repeats]: each column is one independent set of k draws. */
  private static double[][] columns(double[] lw, int offset, int k, int repeats) {
    double[][] out = new double[k][repeats];
    for (int r = 0; r < repeats; r++) {
      for (int i = 0; i < k; i++) {
        out[i][r] = lw[offset + r * k + i];
      }
    }
    return out;
  }

  private static double mean(double[] a) {
    return Arrays.stream(a).average().orElseThrow();
  }

  private static double standardError(double[] a) {
    double m = mean(a);
    double ss = 0;
    for (double v : a) {
      ss += (v - m) * (v - m);
    }
    return Math.sqrt(ss / (a.length - 1) / a.length);
  }

  // ------------------------------------------------------------------------------------------ tests

  @Test
  void hostReferencesAgree() {
    // log p(x) = ELBO(q) + KL(q || posterior): at the exact posterior (diagonal for W_ORTHO) the gap is 0
    double[] post = posterior(W_ORTHO);
    assertEquals(0, post[3], 1e-15, "W_ORTHO has a diagonal posterior");
    assertEquals(logEvidence(W_ORTHO), analyticElbo(W_ORTHO, new double[] {post[0], post[1]},
        new double[] {post[2], post[4]}), 1e-12);
  }

  @Test
  void elboAndImportanceWeightedBounds() {
    double logPx = logEvidence(W);
    double[] post = posterior(W);
    // q: the mean moved by about 1.2 posterior standard deviations, variances 0.8 and 0.6 of the posterior marginals
    double[] m = {post[0] + 1.2 * Math.sqrt(post[2]), post[1] - 1.2 * Math.sqrt(post[4])};
    double[] v = {0.8 * post[2], 0.6 * post[4]};
    int[] ks = {1, 10, 100, 1000};
    int[] repeats = {100_000, 2_000, 1_000, 400};
    int total = 0;
    for (int i = 0; i < ks.length; i++) {
      total += ks[i] * repeats[i];
    }
    double[] lw = logWeights(W, m, v, total, 5);

    // ELBO: Monte Carlo against the closed form, and below log p(x)
    double[][] single = columns(lw, 0, 1, repeats[0]);
    double elboMc = ImportanceWeighted.elbo(single)[0];
    double[] elboPerDraw = single[0];
    double se = standardError(elboPerDraw);
    double elbo = analyticElbo(W, m, v);
    assertEquals(elbo, mean(elboPerDraw), K * se, "Monte Carlo ELBO vs closed form (se " + se + ")");
    assertTrue(logPx - mean(elboPerDraw) > 50 * se, "ELBO " + elboMc + " vs log p(x) " + logPx + " (se " + se + ")");
    assertTrue(logPx - elbo > 1, "q is far from the posterior: gap " + (logPx - elbo));

    // IW bounds: repeats independent estimates of L_k for each k
    double[] means = new double[ks.length];
    double[] ses = new double[ks.length];
    int offset = 0;
    for (int i = 0; i < ks.length; i++) {
      double[] lk = ImportanceWeighted.bound(columns(lw, offset, ks[i], repeats[i]));
      offset += ks[i] * repeats[i];
      means[i] = mean(lk);
      ses[i] = standardError(lk);
      assertTrue(means[i] < logPx + K * ses[i], "L_" + ks[i] + " = " + means[i] + " above log p(x) " + logPx);
    }
    assertEquals(mean(elboPerDraw), means[0], 1e-12, "L_1 is the ELBO");
    for (int i = 1; i < ks.length; i++) {
      double diff = means[i] - means[i - 1];
      double seDiff = Math.hypot(ses[i], ses[i - 1]);
      assertTrue(diff > K * seDiff, "L_" + ks[i] + " - L_" + ks[i - 1] + " = " + diff + " (se " + seDiff + ")");
    }
    // gap(k) shrinks like the chi-square divergence / (2k) at large k: about 0.06 at k = 1000 for this q
    double gap1000 = logPx - means[3];
    assertTrue(gap1000 < 0.15 && gap1000 > -K * ses[3], "log p(x) - L_1000 = " + gap1000 + " (se " + ses[3] + ")");
    assertTrue(gap1000 < 0.05 * (logPx - elbo), "the IW bound closed most of the ELBO gap: " + gap1000);
  }

  @Test
  void exactPosteriorGivesConstantWeights() {
    double logPx = logEvidence(W_ORTHO);
    double[] post = posterior(W_ORTHO);
    double[] lw = logWeights(W_ORTHO, new double[] {post[0], post[1]}, new double[] {post[2], post[4]}, 10_000, 9);
    for (int i = 0; i < lw.length; i++) {
      assertEquals(logPx, lw[i], 1e-9, "log weight " + i);
    }
    assertEquals(logPx, ImportanceWeighted.bound(new double[][] {Arrays.copyOf(lw, 1000)})[0], 1e-9);
    // and a q that is not the posterior does not give constant weights
    double[] off = logWeights(W_ORTHO, new double[] {post[0] + 0.1, post[1]}, new double[] {post[2], post[4]}, 100, 9);
    double spread = Arrays.stream(off).max().orElseThrow() - Arrays.stream(off).min().orElseThrow();
    assertTrue(spread > 0.1, "weights of a shifted q vary: " + spread);
  }

  @Test
  void boundIsStableLogMeanExp() {
    // log mean exp of {1000, 1000 + log 3} = 1000 + log 2 without overflow; of {-inf, 0} = log(1/2)
    double[] b = ImportanceWeighted.bound(new double[][] {{1000, Double.NEGATIVE_INFINITY}, {1000 + Math.log(3), 0}});
    assertEquals(1000 + Math.log(2), b[0], 1e-12);
    assertEquals(Math.log(0.5), b[1], 1e-15);
    assertEquals(0.5 * (1000 + 1000 + Math.log(3)),
        ImportanceWeighted.elbo(new double[][] {{1000}, {1000 + Math.log(3)}})[0], 1e-12);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloating> lw = Tensors.constant(tf, F64, new double[] {1000, -5, 1000 + Math.log(3), -5 + Math.log(7),
          1000, -5}, Shape.of(3, 2));
      try (Result r = s.runner().fetch(ImportanceWeighted.bound(tf, lw)).run()) {
        double[] v = HostTensors.toDoubles((Tensor) r.get(0));
        assertEquals(1000 + Math.log(5.0 / 3), v[0], 1e-12);
        assertEquals(-5 + Math.log(9.0 / 3), v[1], 1e-12);
      }
    }
  }
}
