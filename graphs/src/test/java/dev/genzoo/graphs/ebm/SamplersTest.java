package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.ToyDistribution;
import dev.genzoo.data.Toys;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The samplers against closed forms: unadjusted Langevin, MALA and random-walk Metropolis on a correlated 2-D
 * Gaussian and on toy:8gaussians reproduce the analytic mean and covariance within a tolerance of 4.5 Monte Carlo
 * standard errors (estimated from the independent parallel chains, see {@link ChainStats}; with ~45 such
 * comparisons a correct sampler fails one with probability about 3e-4); the Metropolis kernels' acceptance rates
 * match their stationary expectation E_pi[min(1, alpha)] computed by plain Monte Carlo on the host with exact draws
 * from pi; rejection sampling gives the bimodal toy's mode weights and per-mode moments and refuses a violated bound;
 * the same seed gives the same chain bit for bit.
 */
class SamplersTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F32 = (Class<TFloating>) (Class<?>) TFloat32.class;

  /** Standard errors allowed between an estimate and its exact value. */
  private static final double K = 4.5;

  // The correlated Gaussian N(m, S), with its precision P = S^-1 and Cholesky factor L written out by hand (2 x 2).
  private static final double[] M = {1, -2};
  private static final double[][] S = {{2, 0.8}, {0.8, 1}};
  private static final double DET = 2 * 1 - 0.8 * 0.8;
  private static final double[][] P = {{1 / DET, -0.8 / DET}, {-0.8 / DET, 2 / DET}};
  private static final double L11 = Math.sqrt(2);
  private static final double L21 = 0.8 / L11;
  private static final double L22 = Math.sqrt(1 - L21 * L21);

  private static final int CHAINS = 2000;

  // ---------------------------------------------------------------- host references, independent of the graph code

  private static double gaussU(double[] x) {
    double a = x[0] - M[0];
    double b = x[1] - M[1];
    return 0.5 * (P[0][0] * a * a + 2 * P[0][1] * a * b + P[1][1] * b * b);
  }

  private static double[] gaussGrad(double[] x) {
    double a = x[0] - M[0];
    double b = x[1] - M[1];
    return new double[] {P[0][0] * a + P[0][1] * b, P[1][0] * a + P[1][1] * b};
  }

  private static Supplier<double[]> gaussDraws(SplittableRandom rng) {
    return () -> {
      double z0 = rng.nextGaussian();
      double z1 = rng.nextGaussian();
      return new double[] {M[0] + L11 * z0, M[1] + L21 * z0 + L22 * z1};
    };
  }

  private static final double EG_RADIUS = 2.0;
  private static final double EG_STD = 0.2;

  private static double[] egCenter(int k) {
    return new double[] {EG_RADIUS * Math.cos(k * Math.PI / 4), EG_RADIUS * Math.sin(k * Math.PI / 4)};
  }

  /** Responsibilities r_k(x) of the equal-weight 8-component mixture. */
  private static double[] egResp(double[] x) {
    double[] l = new double[8];
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < 8; k++) {
      double[] c = egCenter(k);
      l[k] = -((x[0] - c[0]) * (x[0] - c[0]) + (x[1] - c[1]) * (x[1] - c[1])) / (2 * EG_STD * EG_STD);
      max = Math.max(max, l[k]);
    }
    double s = 0;
    for (int k = 0; k < 8; k++) {
      l[k] = Math.exp(l[k] - max);
      s += l[k];
    }
    for (int k = 0; k < 8; k++) {
      l[k] /= s;
    }
    return l;
  }

  private static double egU(double[] x) {
    double[] l = new double[8];
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < 8; k++) {
      double[] c = egCenter(k);
      double sq = (x[0] - c[0]) * (x[0] - c[0]) + (x[1] - c[1]) * (x[1] - c[1]);
      l[k] = -sq / (2 * EG_STD * EG_STD) - Math.log(8 * 2 * Math.PI * EG_STD * EG_STD);
      max = Math.max(max, l[k]);
    }
    double s = 0;
    for (double v : l) {
      s += Math.exp(v - max);
    }
    return -(Math.log(s) + max);
  }

  /** The index of the component mean nearest to x. */
  private static int egNearest(double x0, double x1) {
    int best = 0;
    double bestSq = Double.POSITIVE_INFINITY;
    for (int k = 0; k < 8; k++) {
      double[] c = egCenter(k);
      double sq = (x0 - c[0]) * (x0 - c[0]) + (x1 - c[1]) * (x1 - c[1]);
      if (sq < bestSq) {
        bestSq = sq;
        best = k;
      }
    }
    return best;
  }

  /**
   * The within-component variance per coordinate, |x - m_nearest(x)|^2 / 2 averaged over every draw, against its
   * exact value within K standard errors (stratified chain averages). Insensitive to the rare mode crossings, it is
   * the sharp test of the dynamics: 0 at the start, s^2 at equilibrium.
   */
  private static void assertWithinVariance(String label, McmcChain.Run run, int[] strata, double exact) {
    int n = run.chains();
    double[] perChain = new double[n];
    double total = 0;
    int crossed = 0;
    double[] s = run.samples();
    for (int t = 0; t < run.draws(); t++) {
      for (int i = 0; i < n; i++) {
        double x0 = s[2 * (t * n + i)];
        double x1 = s[2 * (t * n + i) + 1];
        int k = egNearest(x0, x1);
        double[] c = egCenter(k);
        double w = ((x0 - c[0]) * (x0 - c[0]) + (x1 - c[1]) * (x1 - c[1])) / 2;
        perChain[i] += w / run.draws();
        total += w;
        if (t == run.draws() - 1 && k != strata[i]) {
          crossed++;
        }
      }
    }
    double mean = total / run.count();
    double se = ChainStats.stratifiedSe(perChain, strata);
    System.out.printf("%s: within-component variance %.5f (exact %.5f, se %.5f); %d of %d chains end in another "
        + "component than they started in%n", label, mean, exact, se, crossed, n);
    assertTrue(K * se < 0.002, label + ": within-component standard error too large " + se);
    assertEquals(exact, mean, K * se, label + ": within-component variance");
  }

  private static double[] egGrad(double[] x) {
    double[] r = egResp(x);
    double[] g = new double[2];
    for (int k = 0; k < 8; k++) {
      double[] c = egCenter(k);
      g[0] += r[k] * (x[0] - c[0]) / (EG_STD * EG_STD);
      g[1] += r[k] * (x[1] - c[1]) / (EG_STD * EG_STD);
    }
    return g;
  }

  /** E_pi[min(1, alpha)] for MALA with step eta, by Monte Carlo over exact draws x ~ pi and proposals y | x. */
  private static double malaAcceptance(ToDoubleFunction<double[]> u, Function<double[], double[]> grad,
      Supplier<double[]> draws, double eta, int n, SplittableRandom rng) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double[] x = draws.get();
      double[] gx = grad.apply(x);
      double[] y = new double[2];
      double xi2 = 0;
      for (int j = 0; j < 2; j++) {
        double xi = rng.nextGaussian();
        xi2 += xi * xi;
        y[j] = x[j] - eta * gx[j] + Math.sqrt(2 * eta) * xi;
      }
      double[] gy = grad.apply(y);
      double back = 0;
      for (int j = 0; j < 2; j++) {
        double r = x[j] - y[j] + eta * gy[j];
        back += r * r;
      }
      double logAlpha = u.applyAsDouble(x) - u.applyAsDouble(y) - back / (4 * eta) + xi2 / 2;
      sum += Math.min(1, Math.exp(logAlpha));
    }
    return sum / n;
  }

  /** E_pi[min(1, exp(U(x) - U(x + s xi)))] by Monte Carlo. */
  private static double rwmAcceptance(ToDoubleFunction<double[]> u, Supplier<double[]> draws, double s, int n,
      SplittableRandom rng) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double[] x = draws.get();
      double[] y = {x[0] + s * rng.nextGaussian(), x[1] + s * rng.nextGaussian()};
      sum += Math.min(1, Math.exp(u.applyAsDouble(x) - u.applyAsDouble(y)));
    }
    return sum / n;
  }

  // ---------------------------------------------------------------- helpers

  private static double[] repeat(double[] point, int n) {
    double[] x = new double[n * point.length];
    for (int i = 0; i < n; i++) {
      System.arraycopy(point, 0, x, i * point.length, point.length);
    }
    return x;
  }

  /**
   * Asserts the run's mean and covariance equal the exact ones within K standard errors, and that those errors are
   * below {@code resolution} (so that the comparison can fail).
   */
  private static void assertMoments(String label, McmcChain.Run run, double[] mean, double[] cov, int[] strata,
      double resolution) {
    ChainStats st = new ChainStats(run, mean, strata);
    int d = run.dim();
    StringBuilder report = new StringBuilder(label + ":");
    for (int a = 0; a < d; a++) {
      report.append(String.format(" mean[%d] %.4f (exact %.4f, se %.4f)", a, run.mean()[a], mean[a], st.seMean[a]));
    }
    for (int k = 0; k < d * d; k++) {
      report.append(String.format(" cov[%d] %.4f (exact %.4f, se %.4f)", k, run.covariance()[k], cov[k], st.seCov[k]));
    }
    System.out.println(report);
    for (int a = 0; a < d; a++) {
      assertTrue(K * st.seMean[a] < resolution, label + ": mean standard error too large " + st.seMean[a]);
      assertEquals(mean[a], run.mean()[a], K * st.seMean[a], label + ": mean[" + a + "]");
    }
    for (int k = 0; k < d * d; k++) {
      assertTrue(K * st.seCov[k] < resolution, label + ": covariance standard error too large " + st.seCov[k]);
      assertEquals(cov[k], run.covariance()[k], K * st.seCov[k], label + ": cov[" + k + "]");
    }
  }

  private static double[] flat(double[][] a) {
    return new double[] {a[0][0], a[0][1], a[1][0], a[1][1]};
  }

  // ---------------------------------------------------------------- tests

  @Test
  void langevinOnCorrelatedGaussian() {
    // Unadjusted Langevin on N(m, S) is a linear recursion x' = (I - eta P) x + eta P m + sqrt(2 eta) xi whose
    // stationary law is exactly Gaussian with mean m (no bias) and covariance C solving C = A C A^T + 2 eta I,
    // A = I - eta P: C = S (I - eta P / 2)^-1 = S + (eta / 2) I + O(eta^2), the O(eta) discretisation bias. With
    // eta = 0.02 the bias on the variances is 0.010, about the standard errors, so the test compares with
    // the exact C (and checks that C - S is that small). The slowest direction relaxes at a rate eta lambda_min(P) =
    // 0.0082 per step: 1000 burn-in steps from the origin shrink the initial offset |m| = 2.2 by e^-8.2.
    double eta = 0.02;
    double[] c = ulaCovariance(eta);
    for (int k = 0; k < 4; k++) {
      assertEquals(flat(S)[k], c[k], 0.6 * eta, "the O(eta) bias of unadjusted Langevin");
    }
    try (McmcChain chain = McmcChain.create(new GaussianEnergy(M, S), Langevin.of(eta), 2, 50)) {
      McmcChain.Run run = chain.run(repeat(new double[] {0, 0}, CHAINS), 11, 20, 20);
      assertTrue(Double.isNaN(run.acceptanceRate()), "Langevin always moves");
      assertMoments("Langevin, N(m, S), eta " + eta, run, M, c, null, 0.1);
      System.out.printf("Langevin on N(m, S): %.2f s%n", run.seconds());
    }
  }

  /** The stationary covariance S (I - eta P / 2)^-1 of unadjusted Langevin on N(m, S), row-major 2 x 2. */
  private static double[] ulaCovariance(double eta) {
    double[][] b = {{1 - eta / 2 * P[0][0], -eta / 2 * P[0][1]}, {-eta / 2 * P[1][0], 1 - eta / 2 * P[1][1]}};
    double det = b[0][0] * b[1][1] - b[0][1] * b[1][0];
    double[][] bi = {{b[1][1] / det, -b[0][1] / det}, {-b[1][0] / det, b[0][0] / det}};
    double[] c = new double[4];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        c[i * 2 + j] = S[i][0] * bi[0][j] + S[i][1] * bi[1][j];
      }
    }
    return c;
  }

  @Test
  void malaOnCorrelatedGaussian() {
    // MALA leaves N(m, S) invariant exactly for any step: eta = 0.5, where unadjusted Langevin's covariance would be
    // S (I - eta P / 2)^-1, 1.8 times S along the stiff direction, must still give S itself. Relaxation ~5 steps.
    double eta = 0.5;
    double expected = malaAcceptance(SamplersTest::gaussU, SamplersTest::gaussGrad,
        gaussDraws(new SplittableRandom(3)), eta, 200_000, new SplittableRandom(4));
    try (McmcChain chain = McmcChain.create(new GaussianEnergy(M, S), new Mala(eta), 2, 10)) {
      McmcChain.Run run = chain.run(repeat(new double[] {0, 0}, CHAINS), 12, 10, 30);
      System.out.printf("MALA on N(m, S), eta %.2f: acceptance %.4f (stationary expectation %.4f), %.2f s%n", eta,
          run.acceptanceRate(), expected, run.seconds());
      // The rates are means of 2e5 (host) and 6e5 (chains) indicators, standard errors below 1e-3: 0.01 is over 5.
      assertEquals(expected, run.acceptanceRate(), 0.01, "MALA acceptance rate");
      assertTrue(run.acceptanceRate() > 0.5 && run.acceptanceRate() < 0.95, "acceptance in a sensible range");
      assertMoments("MALA, N(m, S), eta " + eta, run, M, flat(S), null, 0.1);
    }
  }

  @Test
  void randomWalkMetropolisOnCorrelatedGaussian() {
    double s = 1.2;
    double expected = rwmAcceptance(SamplersTest::gaussU, gaussDraws(new SplittableRandom(5)), s, 200_000,
        new SplittableRandom(6));
    try (McmcChain chain = McmcChain.create(new GaussianEnergy(M, S), new RandomWalkMetropolis(s), 2, 10)) {
      McmcChain.Run run = chain.run(repeat(new double[] {0, 0}, CHAINS), 13, 30, 30);
      System.out.printf("random-walk Metropolis on N(m, S), s %.2f: acceptance %.4f (expected %.4f), %.2f s%n", s,
          run.acceptanceRate(), expected, run.seconds());
      assertEquals(expected, run.acceptanceRate(), 0.01, "random-walk Metropolis acceptance rate");
      assertMoments("RWM, N(m, S), s " + s, run, M, flat(S), null, 0.1);
    }
  }

  /**
   * Chains on toy:8gaussians cannot cross between modes quickly (adjacent means are 3.8 standard deviations from
   * their saddle, a barrier of 6.6 nats), so each chain stays, nearly always, in the component it starts in. They
   * start in equal numbers at the eight component means, the mixture's own component assignment: the mass per
   * component is then right by construction, and the within-component spread (0 at the start, s^2 = 0.04 per
   * coordinate at equilibrium) must come from the dynamics; a kernel that does not move gives covariance 2 I instead
   * of (2 + s^2) I. Standard errors are stratified by starting component (a chain that does cross is counted).
   */
  private static McmcChain.Run runEightGaussians(McmcKernel kernel, int thin, int burnIn, int draws, long seed,
      int[] strata) {
    double[] x0 = new double[2 * CHAINS];
    for (int i = 0; i < CHAINS; i++) {
      strata[i] = i % 8;
      double[] c = egCenter(strata[i]);
      x0[2 * i] = c[0];
      x0[2 * i + 1] = c[1];
    }
    try (McmcChain chain = McmcChain.create(GaussianMixtureEnergy.eightGaussians(), kernel, 2, thin)) {
      return chain.run(x0, seed, burnIn, draws);
    }
  }

  @Test
  void langevinOnEightGaussians() {
    // Within a component U is quadratic with curvature 1 / s^2 = 25, so unadjusted Langevin's within-component
    // variance is s^2 / (1 - eta / (2 s^2)) (the 1-D case of the Gaussian test's formula): eta = 0.002 gives
    // 0.04103, an O(eta) bias of 0.001 that the comparison includes. The component means' second moment is
    // (1/8) sum_k m_k m_k^T = (R^2 / 2) I = 2 I. The within-component deviation relaxes at a rate eta / s^2 = 0.05 per
    // step (its variance twice as fast): 150 burn-in steps, then 40 draws 10 steps apart.
    double eta = 0.002;
    double within = EG_STD * EG_STD / (1 - eta / (2 * EG_STD * EG_STD));
    int[] strata = new int[CHAINS];
    McmcChain.Run run = runEightGaussians(Langevin.of(eta), 10, 15, 40, 21, strata);
    double v = EG_RADIUS * EG_RADIUS / 2 + within;
    assertWithinVariance("Langevin, 8gaussians, eta " + eta, run, strata, within);
    assertMoments("Langevin, 8gaussians, eta " + eta, run, new double[] {0, 0}, new double[] {v, 0, 0, v}, strata,
        0.04);
    System.out.printf("Langevin on 8gaussians: %.2f s%n", run.seconds());
  }

  @Test
  void malaOnEightGaussians() {
    // eta = 0.02 = s^2 / 2: unadjusted Langevin would inflate the within-component variance by a third
    // (1 / (1 - eta / (2 s^2)) = 4/3); MALA must give exactly the mixture's covariance (R^2 / 2 + s^2) I = 2.04 I.
    double eta = 0.02;
    SplittableRandom comp = new SplittableRandom(7);
    Supplier<double[]> draws = () -> {
      double[] c = egCenter(comp.nextInt(8));
      return new double[] {c[0] + EG_STD * comp.nextGaussian(), c[1] + EG_STD * comp.nextGaussian()};
    };
    double expected = malaAcceptance(SamplersTest::egU, SamplersTest::egGrad, draws, eta, 200_000,
        new SplittableRandom(8));
    int[] strata = new int[CHAINS];
    McmcChain.Run run = runEightGaussians(new Mala(eta), 2, 20, 40, 22, strata);
    System.out.printf("MALA on 8gaussians, eta %.3f: acceptance %.4f (stationary expectation %.4f), %.2f s%n", eta,
        run.acceptanceRate(), expected, run.seconds());
    assertEquals(expected, run.acceptanceRate(), 0.01, "MALA acceptance rate");
    GaussianMixtureEnergy eg = GaussianMixtureEnergy.eightGaussians();
    assertArrayEquals(new double[] {0, 0}, eg.mean(), 1e-15);
    assertArrayEquals(new double[] {2.04, 0, 0, 2.04}, eg.covariance(), 1e-12);
    assertWithinVariance("MALA, 8gaussians, eta " + eta, run, strata, EG_STD * EG_STD);
    assertMoments("MALA, 8gaussians, eta " + eta, run, eg.mean(), eg.covariance(), strata, 0.04);
  }

  @Test
  void energiesMatchTheirDensities() {
    ToyDistribution toy = Toys.byName("8gaussians");
    GaussianMixtureEnergy eg = GaussianMixtureEnergy.eightGaussians();
    GaussianMixtureEnergy bi = GaussianMixtureEnergy.bimodal(-10, 10, -Math.log(4));
    GaussianEnergy ga = new GaussianEnergy(M, S);
    SplittableRandom rng = new SplittableRandom(9);
    int n = 64;
    double[] pts = new double[2 * n];
    for (int i = 0; i < pts.length; i++) {
      pts[i] = 3 * rng.nextGaussian();
    }
    double[] line = new double[n];
    for (int i = 0; i < n; i++) {
      line[i] = -20 + 40.0 * i / (n - 1);
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloating> x2 = Tensors.constant(tf, F64, pts, Shape.of(n, 2));
      Operand<TFloating> x1 = Tensors.constant(tf, F64, line, Shape.of(n, 1));
      Operand<TFloating> gradEg = eg.gradient(tf, x2);
      try (Result r = s.runner().fetch(eg.apply(tf, x2)).fetch(bi.apply(tf, x1)).fetch(ga.apply(tf, x2))
          .fetch(gradEg).run()) {
        double[] ue = HostTensors.toDoubles(r.get(0));
        double[] ub = HostTensors.toDoubles(r.get(1));
        double[] ug = HostTensors.toDoubles(r.get(2));
        double[] ge = HostTensors.toDoubles(r.get(3));
        for (int i = 0; i < n; i++) {
          double[] p = {pts[2 * i], pts[2 * i + 1]};
          // exp(-U) is toy:8gaussians' density, from the data package's own formula.
          assertEquals(-toy.logDensity(p), ue[i], 1e-9 * (1 + Math.abs(ue[i])), "8gaussians energy at " + i);
          assertEquals(egU(p), ue[i], 1e-9 * (1 + Math.abs(ue[i])));
          double[] gr = egGrad(p);
          assertEquals(gr[0], ge[2 * i], 1e-7 * (1 + Math.abs(gr[0])), "8gaussians gradient at " + i);
          assertEquals(gr[1], ge[2 * i + 1], 1e-7 * (1 + Math.abs(gr[1])), "8gaussians gradient at " + i);
          assertEquals(gaussU(p), ug[i], 1e-12 * (1 + ug[i]), "Gaussian energy at " + i);
          double t = line[i];
          double exact = -Math.log(Math.exp(-(t + 10) * (t + 10) / 2) + 4 * Math.exp(-(t - 10) * (t - 10) / 2));
          if (Double.isFinite(exact)) {
            assertEquals(exact, ub[i], 1e-9 * (1 + Math.abs(exact)), "bimodal energy at " + t);
          }
        }
      }
    }
    assertEquals(0.5 * Math.log(4 * Math.PI * Math.PI * DET), ga.logPartition(), 1e-12);
    assertEquals(Math.log(Math.sqrt(2 * Math.PI) * 5), bi.logPartition(), 1e-12);
  }

  @Test
  void rejectionSamplerOnBimodal() {
    // U = -log(exp(-(x + 10)^2 / 2) + 4 exp(-(x - 10)^2 / 2)): max(-U) = log 4 (at x = 10, where the other mode adds
    // e^-200), so log M = log 4 + log 40 bounds -U - log q on [-20, 20]; a margin of 0.01 is for rounding. The
    // acceptance rate is Z / M = sqrt(2 pi) 5 / (160 e^0.01) = 0.0776; truncation to the box is e^-50, negligible.
    GaussianMixtureEnergy energy = GaussianMixtureEnergy.bimodal(-10, 10, -Math.log(4));
    double logM = Math.log(4) + Math.log(40) + 0.01;
    RejectionSampler sampler = new RejectionSampler(new double[] {-20}, new double[] {20}, logM);
    RejectionSampler grid = RejectionSampler.onGrid(energy, new double[] {-20}, new double[] {20}, 1001, 0.01);
    // x = 10 is a grid point (spacing 0.04), so the grid bound is the exact one.
    assertEquals(logM, grid.logBound(), 1e-9, "grid bound");
    long t0 = System.nanoTime();
    int n = 20_000;
    RejectionSampler.Draws d = sampler.draw(energy, n, 31, 8192, 10_000_000);
    double rate = Math.sqrt(2 * Math.PI) * 5 / Math.exp(logM);
    System.out.printf("rejection sampling: %d samples from %d candidates, acceptance %.4f (exact %.4f), max log "
        + "ratio %.4f, %.2f s%n", n, d.proposed(), d.acceptanceRate(), rate, d.maxLogRatio(),
        (System.nanoTime() - t0) / 1e9);
    assertEquals(rate, d.acceptanceRate(), K * Math.sqrt(rate * (1 - rate) / d.proposed()), "acceptance rate");
    assertTrue(d.maxLogRatio() <= 0 && d.maxLogRatio() > -0.05, "the bound is nearly attained: " + d.maxLogRatio());
    double[] x = d.x();
    assertEquals(n, x.length);
    double[] sum = new double[2];
    double[] sq = new double[2];
    int[] count = new int[2];
    for (double v : x) {
      int k = v > 0 ? 1 : 0;
      sum[k] += v;
      sq[k] += v * v;
      count[k]++;
    }
    double frac = (double) count[1] / n;
    assertEquals(0.8, frac, 4 * Math.sqrt(0.8 * 0.2 / n), "mass of the mode at b = 10 (4 standard errors)");
    double[] modes = {-10, 10};
    for (int k = 0; k < 2; k++) {
      double mean = sum[k] / count[k];
      double var = sq[k] / count[k] - mean * mean;
      System.out.printf("mode %+.0f: weight %.4f, mean %.4f, variance %.4f%n", modes[k], (double) count[k] / n, mean,
          var);
      assertEquals(modes[k], mean, K * Math.sqrt(1.0 / count[k]), "mean of the mode at " + modes[k]);
      assertEquals(1, var, K * Math.sqrt(2.0 / count[k]), "variance of the mode at " + modes[k]);
    }
    // The convenience form gives the same draws for the same seed.
    assertArrayEquals(Arrays.copyOf(sampler.draw(energy, 100, 31, 4096, Long.MAX_VALUE).x(), 100),
        sampler.sample(energy, 100, 31));
  }

  @Test
  void rejectionSamplerInGraph() {
    // The training form: one round of m candidates, then a masked mean over the accepted ones. E_p x =
    // 0.2 (-10) + 0.8 (10) = 6 and Var_p x = E x^2 - 36 = 101 - 36 = 65.
    GaussianMixtureEnergy energy = GaussianMixtureEnergy.bimodal(-10, 10, -Math.log(4));
    RejectionSampler sampler = new RejectionSampler(new double[] {-20}, new double[] {20},
        Math.log(4) + Math.log(40) + 0.01);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      RejectionSampler.Proposals p = sampler.propose(tf, energy, 50_000, tf.constant(new long[] {5, 6}), F64);
      Operand<TFloating> acc = p.accepted();
      Operand<TFloating> maskedMean = tf.math.div(Tensors.sum(tf, tf.math.mul(tf.reshape(p.candidates(),
          tf.constant(new long[] {-1})), acc), 0), Tensors.sum(tf, acc, 0));
      try (Result r = s.runner().fetch(maskedMean).fetch(Tensors.sum(tf, acc, 0)).run()) {
        double mean = HostTensors.toDoubles(r.get(0))[0];
        double k = HostTensors.toDoubles(r.get(1))[0];
        System.out.printf("in-graph rejection: %.0f of 50000 accepted, masked mean %.4f%n", k, mean);
        assertEquals(6, mean, K * Math.sqrt(65 / k), "masked mean over accepted candidates");
      }
    }
  }

  @Test
  void rejectionSamplerRefusesAViolatedBound() {
    // log M = log 40 assumes max exp(-U) = 1, but exp(-U(10)) = 4: ratios up to 4 > 1.
    GaussianMixtureEnergy energy = GaussianMixtureEnergy.bimodal(-10, 10, -Math.log(4));
    RejectionSampler bad = new RejectionSampler(new double[] {-20}, new double[] {20}, Math.log(40));
    IllegalStateException host = assertThrows(IllegalStateException.class,
        () -> bad.draw(energy, 1000, 1, 4096, 1_000_000));
    System.out.println("host form: " + host.getMessage());
    assertTrue(host.getMessage().contains("bound is violated"), host.getMessage());
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      RejectionSampler.Proposals p = bad.propose(tf, energy, 4096, tf.constant(new long[] {1, 2}), F64);
      TFInvalidArgumentException e = assertThrows(TFInvalidArgumentException.class,
          () -> s.runner().fetch(p.accepted()).run().close());
      System.out.println("graph form: " + e.getMessage().lines().findFirst().orElse(""));
      assertTrue(e.getMessage().contains("bound is violated"), e.getMessage());
    }
  }

  @Test
  void sameSeedGivesBitIdenticalChains() {
    // float32, examples of shape [2, 2, 1] (the accept mask broadcasts over an image-like example): U = |x|^2 / 2.
    Energy normal = (tf, x) -> tf.math.mul(Tensors.constant(tf, x.type(), 0.5),
        tf.reduceSum(tf.math.square(x), tf.constant(new int[] {1, 2, 3})));
    double[] x0 = new double[64 * 4];
    SplittableRandom rng = new SplittableRandom(10);
    for (int i = 0; i < x0.length; i++) {
      x0[i] = 3 * rng.nextGaussian();
    }
    long[] shape = {2, 2, 1};
    McmcChain.Run a;
    McmcChain.Run b;
    McmcChain.Run c;
    try (McmcChain ca = McmcChain.create(normal, new Mala(0.3), shape, F32, 3);
        McmcChain cb = McmcChain.create(normal, new Mala(0.3), shape, F32, 3)) {
      a = ca.run(x0, 42, 5, 10);
      b = cb.run(x0, 42, 5, 10);
      c = ca.run(x0, 43, 5, 10);
    }
    assertArrayEquals(a.samples(), b.samples(), 0, "same seed, same chain");
    assertArrayEquals(a.last(), b.last(), 0);
    assertEquals(a.acceptanceRate(), b.acceptanceRate(), 0);
    assertFalse(Arrays.equals(a.samples(), c.samples()), "another seed, another chain");
    assertTrue(a.acceptanceRate() > 0 && a.acceptanceRate() < 1, "some proposals accepted, some rejected");
    assertEquals(2 * 2 * 1, a.dim());
  }

  @Test
  void chainsInAGivenGraphReadItsVariables() {
    // The trained-energy use: the energy reads variables of an existing graph whose session holds their values; two
    // chains share the graph. U = |x - mu|^2 / 2 with mu a variable set to (3, -1): both sample N(mu, I).
    double[] mu = {3, -1};
    try (Graph g = new Graph(); Session s = new Session(g)) {
      var store = new dev.genzoo.graphs.nn.VarStore(g, TFloat64.class, 0);
      Operand<TFloating> muVar = store.root().variable("mu", new long[] {2}, dev.genzoo.graphs.nn.Initializer.zeros());
      Ops tf = Ops.create(g);
      var set = store.assign(muVar, Tensors.constant(tf, F64, mu, Shape.of(2)));
      s.runner().addTarget(store.initializer(store.all())).run().close();
      s.runner().addTarget(set).run().close();
      Energy energy = (ops, x) -> ops.math.mul(Tensors.constant(ops, x.type(), 0.5),
          Tensors.sum(ops, ops.math.square(ops.math.sub(x, muVar)), 1));
      double[] x0 = new double[2 * 1000];
      try (McmcChain rwm = new McmcChain(g, s, energy, new RandomWalkMetropolis(1.5), new long[] {2}, F64, 5);
          McmcChain mala = new McmcChain(g, s, energy, new Mala(0.6), new long[] {2}, F64, 5)) {
        for (McmcChain chain : List.of(rwm, mala)) {
          McmcChain.Run run = chain.run(x0, 14, 10, 20);
          assertMoments("given graph", run, mu, new double[] {1, 0, 0, 1}, null, 0.15);
        }
      }
      // The chains closed nothing of the graph or session: they still run.
      try (Result r = s.runner().fetch(muVar).run()) {
        assertArrayEquals(mu, HostTensors.toDoubles(r.get(0)), 0);
      }
    }
  }

  @Test
  void metropolisKeepsTheStateOfRejectedChains() {
    // With a step so large that almost every MALA proposal is rejected, each chain either keeps its state exactly or
    // moves, and the indicator says which.
    GaussianEnergy energy = GaussianEnergy.isotropic(new double[] {0, 0}, 1);
    int n = 256;
    double[] x0 = new double[2 * n];
    SplittableRandom rng = new SplittableRandom(12);
    for (int i = 0; i < x0.length; i++) {
      x0[i] = rng.nextGaussian();
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloating> x = Tensors.constant(tf, F64, x0, Shape.of(n, 2));
      McmcKernel.Move m = new Mala(1.5).step(tf, energy, x, tf.constant(new long[] {3, 4}));
      try (Result r = s.runner().fetch(m.x()).fetch(m.accepted()).run()) {
        double[] y = HostTensors.toDoubles(r.get(0));
        double[] acc = HostTensors.toDoubles(r.get(1));
        int accepted = 0;
        for (int i = 0; i < n; i++) {
          boolean same = y[2 * i] == x0[2 * i] && y[2 * i + 1] == x0[2 * i + 1];
          assertTrue(acc[i] == 0 || acc[i] == 1);
          assertEquals(acc[i] == 0, same, "chain " + i);
          accepted += (int) acc[i];
        }
        assertTrue(accepted > 0 && accepted < n, "accepted " + accepted + " of " + n);
      }
    }
  }
}
