package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's Normal against the math: the KL between diagonal Gaussians against its closed form (written on the host as
 * log(s_p / s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2) and against a Monte Carlo estimate E_q[log q - log p]
 * (within 4 standard errors); the log-density against the host Gaussian; NVAE's soft-clamped parametrisation
 * 5 tanh(. / 5) and exp(5 tanh(. / 5)) + 0.01 with its temperature; the residual normal of the paper (section 3.2):
 * N(mu_p + dmu, sigma_p dsigma), sampled moments and its KL to the prior, 0.5 (dmu^2 / sigma_p^2 + dsigma^2 -
 * log dsigma^2 - 1). Each check runs in float32 and float64.
 */
class NormalTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F32 = (Class<TFloating>) (Class<?>) TFloat32.class;
  private static final List<Class<TFloating>> DTYPES = List.of(F64, F32);

  /** Standard errors allowed between a Monte Carlo estimate and its exact value. */
  private static final double K = 4.0;

  private static final int D = 6;
  // raw parameters of q and p, chosen to cover both signs, the soft clamp's curved region (|raw| > 5) and sigma < 1
  private static final double[] MU_Q = {0.3, -1.2, 6.5, -0.05, 2.0, -7.0};
  private static final double[] LS_Q = {-0.4, 0.2, -1.5, 0.9, -6.0, 0.0};
  private static final double[] MU_P = {-0.5, 0.4, 4.0, 0.0, 1.0, -5.5};
  private static final double[] LS_P = {0.1, -0.3, -1.0, 0.5, -4.0, 1.2};

  // ------------------------------------------------------------------------------------------ host references

  private static double clampedMu(double raw) {
    return 5 * Math.tanh(raw / 5);
  }

  private static double clampedSigma(double raw) {
    return Math.exp(5 * Math.tanh(raw / 5)) + 0.01;
  }

  /** KL(N(mq, sq^2) || N(mp, sp^2)) in the textbook form. */
  private static double klHost(double mq, double sq, double mp, double sp) {
    return Math.log(sp / sq) + (sq * sq + (mq - mp) * (mq - mp)) / (2 * sp * sp) - 0.5;
  }

  private static double logDensityHost(double z, double m, double s) {
    return -Math.log(s * Math.sqrt(2 * Math.PI)) - (z - m) * (z - m) / (2 * s * s);
  }

  // ------------------------------------------------------------------------------------------ graph plumbing

  /** Builds ops in a fresh graph, runs them once and returns their values as doubles. */
  private static double[][] eval(Class<TFloating> dt,
      BiFunction<Ops, Class<TFloating>, List<Operand<TFloating>>> build) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloating>> outs = build.apply(tf, dt);
      Session.Runner r = s.runner();
      outs.forEach(r::fetch);
      try (Result res = r.run()) {
        double[][] v = new double[outs.size()][];
        for (int i = 0; i < outs.size(); i++) {
          v[i] = HostTensors.toDoubles((Tensor) res.get(i));
        }
        return v;
      }
    }
  }

  private static Operand<TFloating> c(Ops tf, Class<TFloating> dt, double[] v) {
    return Tensors.constant(tf, dt, v, Shape.of(v.length));
  }

  private static double tol(Class<TFloating> dt) {
    return dt == F64 ? 1e-12 : 2e-5;
  }

  // ------------------------------------------------------------------------------------------ tests

  @Test
  void clampedParametersAndTemperature() {
    for (Class<TFloating> dt : DTYPES) {
      double[][] v = eval(dt, (tf, d) -> {
        Normal q = Normal.of(tf, c(tf, d, MU_Q), c(tf, d, LS_Q));
        Normal hot = Normal.of(tf, c(tf, d, MU_Q), c(tf, d, LS_Q), 0.7);
        Normal top = Normal.of(tf, c(tf, d, new double[] {0, 0}), c(tf, d, new double[] {0, 0}));
        return List.of(q.mu(), q.sigma(), hot.mu(), hot.sigma(), top.mu(), top.sigma());
      });
      for (int i = 0; i < D; i++) {
        double mu = clampedMu(MU_Q[i]);
        double sigma = clampedSigma(LS_Q[i]);
        assertEquals(mu, v[0][i], tol(dt) * 10, dt.getSimpleName() + " mu[" + i + "]");
        assertEquals(sigma, v[1][i], tol(dt) * 10 * sigma, dt.getSimpleName() + " sigma[" + i + "]");
        assertEquals(mu, v[2][i], tol(dt) * 10, "temperature leaves mu");
        assertEquals(0.7 * sigma, v[3][i], tol(dt) * 10 * sigma, "temperature scales sigma");
        assertTrue(Math.abs(v[0][i]) < 5, "the clamp keeps |mu| < 5");
      }
      // the clamp is not the identity where |raw| is large: 5 tanh(6.5 / 5) = 4.3086..., 5 tanh(-7 / 5) = -4.427...
      assertEquals(4.3086, v[0][2], 1e-4);
      assertEquals(-4.4267, v[0][5], 1e-4);
      // NVAE's top prior Normal(0, 0) is N(0, 1.01^2).
      assertEquals(0, v[4][0], 0);
      assertEquals(1.01, v[5][0], tol(dt));
    }
  }

  @Test
  void logDensityIsTheGaussian() {
    double[] z = {0.1, -2.0, 4.5, 3.0, 1.0, -4.0};
    for (Class<TFloating> dt : DTYPES) {
      double[][] v = eval(dt, (tf, d) -> List.of(
          Normal.of(tf, c(tf, d, MU_Q), c(tf, d, LS_Q)).logP(tf, c(tf, d, z)),
          Normal.exact(tf, c(tf, d, MU_Q), c(tf, d, LS_Q)).logP(tf, c(tf, d, z))));
      for (int i = 0; i < D; i++) {
        double clamped = logDensityHost(z[i], clampedMu(MU_Q[i]), clampedSigma(LS_Q[i]));
        double exact = logDensityHost(z[i], MU_Q[i], Math.exp(LS_Q[i]));
        assertEquals(clamped, v[0][i], tol(dt) * 10 * Math.max(1, Math.abs(clamped)), "of().logP[" + i + "]");
        // exact() at log sigma = -6 puts z = 1 at 403 standard deviations: log p ~ -8e4
        assertEquals(exact, v[1][i], tol(dt) * 10 * Math.max(1, Math.abs(exact)), "exact().logP[" + i + "]");
      }
    }
  }

  @Test
  void klMatchesClosedFormAndMonteCarlo() {
    int draws = 200_000;
    for (Class<TFloating> dt : DTYPES) {
      for (boolean clamped : new boolean[] {true, false}) {
        double[][] v = eval(dt, (tf, d) -> {
          Normal q = clamped ? Normal.of(tf, c(tf, d, MU_Q), c(tf, d, LS_Q))
              : Normal.exact(tf, c(tf, d, MU_Q), c(tf, d, LS_Q));
          Normal p = clamped ? Normal.of(tf, c(tf, d, MU_P), c(tf, d, LS_P))
              : Normal.exact(tf, c(tf, d, MU_P), c(tf, d, LS_P));
          Operand<TFloating> eps = tf.random.statelessRandomNormal(tf.constant(new long[] {draws, D}),
              tf.constant(new long[] {7, clamped ? 1 : 2}), d);
          Operand<TFloating> z = q.sample(tf, eps);
          // log q - log p at draws of q: its mean is KL(q || p)
          return List.of(q.kl(tf, p), tf.math.sub(q.logP(tf, z), p.logP(tf, z)));
        });
        for (int i = 0; i < D; i++) {
          double mq = clamped ? clampedMu(MU_Q[i]) : MU_Q[i];
          double sq = clamped ? clampedSigma(LS_Q[i]) : Math.exp(LS_Q[i]);
          double mp = clamped ? clampedMu(MU_P[i]) : MU_P[i];
          double sp = clamped ? clampedSigma(LS_P[i]) : Math.exp(LS_P[i]);
          double exact = klHost(mq, sq, mp, sp);
          String what = dt.getSimpleName() + (clamped ? " of()" : " exact()") + " KL[" + i + "]";
          assertEquals(exact, v[0][i], tol(dt) * 10 * Math.max(1, exact), what + " closed form");
          double sum = 0;
          double sumSq = 0;
          for (int s = 0; s < draws; s++) {
            double w = v[1][s * D + i];
            sum += w;
            sumSq += w * w;
          }
          double mean = sum / draws;
          double se = Math.sqrt((sumSq / draws - mean * mean) / (draws - 1));
          // float32 rounding of log q - log p at large magnitudes adds a bias far below the tolerance
          double allowed = K * se + (dt == F64 ? 1e-9 : 1e-4 * Math.max(1, exact));
          assertEquals(exact, mean, allowed, what + " Monte Carlo (se " + se + ")");
        }
        // the group's KLs differ: a wrong formula with the right value on one element would still fail elsewhere
        assertTrue(v[0][4] > 1 && v[0][3] < 1, "KLs cover small and large values: " + java.util.Arrays.toString(v[0]));
      }
    }
  }

  @Test
  void residualNormalIsThePapersPosterior() {
    double[] muP = {0.5, -1.0, 2.0, 0.0};
    double[] lsP = {0.3, -0.7, 0.0, -1.5};
    double[] dMu = {0.4, 0.2, -1.5, 0.05};
    double[] dLs = {-0.6, 0.5, 0.1, 0.8};
    int n = muP.length;
    int draws = 100_000;
    for (Class<TFloating> dt : DTYPES) {
      double[][] v = eval(dt, (tf, d) -> {
        Normal q = Normal.residualExact(tf, c(tf, d, muP), c(tf, d, lsP), c(tf, d, dMu), c(tf, d, dLs));
        Normal p = Normal.exact(tf, c(tf, d, muP), c(tf, d, lsP));
        Normal qc = Normal.residual(tf, c(tf, d, muP), c(tf, d, lsP), c(tf, d, dMu), c(tf, d, dLs));
        Operand<TFloating> eps = tf.random.statelessRandomNormal(tf.constant(new long[] {draws, n}),
            tf.constant(new long[] {11, 3}), d);
        return List.of(q.mu(), q.sigma(), q.kl(tf, p), q.sample(tf, eps), qc.mu(), qc.sigma());
      });
      for (int i = 0; i < n; i++) {
        double sigmaP = Math.exp(lsP[i]);
        double dSigma = Math.exp(dLs[i]);
        String what = dt.getSimpleName() + " [" + i + "]";
        assertEquals(muP[i] + dMu[i], v[0][i], tol(dt) * 10, what + " mean mu_p + dmu");
        assertEquals(sigmaP * dSigma, v[1][i], tol(dt) * 10, what + " sd sigma_p dsigma");
        double paper = 0.5 * (dMu[i] * dMu[i] / (sigmaP * sigmaP) + dSigma * dSigma - Math.log(dSigma * dSigma) - 1);
        assertEquals(paper, v[2][i], tol(dt) * 10 * Math.max(1, paper), what + " KL (paper, eq. 2 region)");
        double[] z = new double[draws];
        for (int s = 0; s < draws; s++) {
          z[s] = v[3][s * n + i];
        }
        double m = dev.genzoo.graphs.testing.Stats.mean(z);
        double sd = Math.sqrt(dev.genzoo.graphs.testing.Stats.sampleVariance(z));
        double sTrue = sigmaP * dSigma;
        assertEquals(muP[i] + dMu[i], m, K * sTrue / Math.sqrt(draws), what + " sample mean");
        // the standard error of a Gaussian sample sd is about sigma / sqrt(2 n)
        assertEquals(sTrue, sd, K * sTrue / Math.sqrt(2.0 * draws), what + " sample sd");
        // NVAE's clamped form acts on the sums of the raw parameters
        assertEquals(5 * Math.tanh((muP[i] + dMu[i]) / 5), v[4][i], tol(dt) * 10, what + " clamped mean");
        assertEquals(Math.exp(5 * Math.tanh((lsP[i] + dLs[i]) / 5)) + 0.01, v[5][i], tol(dt) * 10,
            what + " clamped sd");
      }
    }
  }

  @Test
  void sampleIsMuPlusSigmaEps() {
    double[] eps = {0.5, -1.0, 2.0, 0.0, -0.3, 1.7};
    for (Class<TFloating> dt : DTYPES) {
      double[][] v = eval(dt, (tf, d) -> List.of(Normal.of(tf, c(tf, d, MU_Q), c(tf, d, LS_Q), 0.5)
          .sample(tf, c(tf, d, eps))));
      for (int i = 0; i < D; i++) {
        double expected = clampedMu(MU_Q[i]) + 0.5 * clampedSigma(LS_Q[i]) * eps[i];
        assertEquals(expected, v[0][i], tol(dt) * 10 * Math.max(1, Math.abs(expected)), "sample[" + i + "]");
      }
    }
  }
}
