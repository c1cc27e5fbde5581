package dev.genzoo.graphs.ddpm;

import static dev.genzoo.graphs.testing.Stats.mean;
import static dev.genzoo.graphs.testing.Stats.sampleVariance;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.nn.Tensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * For one-dimensional Gaussian data N(m, s^2) the optimal noise predictor is analytic:
 * E[eps | x_t] = sqrt(1 - ab_t) (x_t - sqrt(ab_t) m) / (ab_t s^2 + 1 - ab_t), since x_t and eps are jointly Gaussian.
 * Plugged into the samplers it must reproduce N(m, s^2); plugged into the bound it must never beat the entropy, and for
 * N(0, 1), where the FIXED_LARGE reverse process is the exact reverse of the forward process, it must equal it.
 */
class GaussianDataTest {
  private static final GaussianDiffusion HO = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000, 1e-4, 0.02);

  /** A graph holding the samplers and the bound for N(m, s^2) data with the optimal predictor. */
  private static final class Fixture implements AutoCloseable {
    final Graph g = new Graph();
    final Session session;
    final DiffusionSampler sampler;
    final VariationalBound bound;

    @SuppressWarnings("unchecked")
    Fixture(double m, double s) {
      Ops tf = Ops.create(g);
      Class<TFloating> dt = (Class<TFloating>) (Class<?>) TFloat64.class;
      double[] ab = HO.alphasCumprod();
      EpsFunction optimal = (ops, xt, t) -> {
        double[] num = new double[ab.length];
        double[] shift = new double[ab.length];
        for (int i = 0; i < ab.length; i++) {
          num[i] = Math.sqrt(1 - ab[i]) / (ab[i] * s * s + 1 - ab[i]);
          shift[i] = Math.sqrt(ab[i]) * m;
        }
        Operand<TFloating> a = GaussianDiffusion.extract(ops, dt, num, t, 2);
        Operand<TFloating> b = GaussianDiffusion.extract(ops, dt, shift, t, 2);
        return ops.math.mul(a, ops.math.sub(xt, b));
      };
      sampler = new DiffusionSampler(tf, dt, HO, optimal, new long[] {1}, GaussianDiffusion.Decoder.GAUSSIAN, false);
      bound = new VariationalBound(tf, dt, HO, optimal, new long[] {1}, VarianceType.FIXED_LARGE,
          GaussianDiffusion.Decoder.GAUSSIAN, false);
      session = new Session(g);
    }

    double[] sample(int n, long seed, DiffusionSampler.Spec spec) {
      return sampler.sample(session, sampler.priorNoise(session, n, seed), n, seed, spec, null, null);
    }

    @Override
    public void close() {
      session.close();
      g.close();
    }
  }

  private static final DiffusionSampler.Spec LARGE =
      new DiffusionSampler.Spec(DiffusionSampler.Spec.Kind.ANCESTRAL, VarianceType.FIXED_LARGE, 1000, 1);
  private static final DiffusionSampler.Spec SMALL =
      new DiffusionSampler.Spec(DiffusionSampler.Spec.Kind.ANCESTRAL, VarianceType.FIXED_SMALL, 1000, 1);
  private static final DiffusionSampler.Spec DDIM =
      new DiffusionSampler.Spec(DiffusionSampler.Spec.Kind.DDIM, VarianceType.FIXED_LARGE, 1000, 0);



  @Test
  void samplersReproduceTheGaussian() {
    int n = 10_000;
    double[][] cases = {{0, 1}, {1.5, 0.5}, {-2, 2}};
    for (double[] c : cases) {
      double m = c[0];
      double s = c[1];
      try (Fixture f = new Fixture(m, s)) {
        for (DiffusionSampler.Spec spec : new DiffusionSampler.Spec[] {LARGE, SMALL, DDIM}) {
          double[] x = f.sample(n, 7, spec);
          // Sampling error: sd(mean) = s / sqrt(n), sd(variance) = s^2 sqrt(2 / (n - 1)); 4 standard errors.
          String what = spec + " on N(" + m + ", " + s * s + ")";
          assertEquals(m, mean(x), 4 * s / Math.sqrt(n), what + ": mean");
          assertEquals(s * s, sampleVariance(x), 4 * s * s * Math.sqrt(2.0 / (n - 1)), what + ": variance");
        }
      }
    }
  }

  @Test
  void ddimWithEtaZeroIsDeterministicGivenTheInitialNoise() {
    try (Fixture f = new Fixture(1.5, 0.5)) {
      double[] xT = f.sampler.priorNoise(f.session, 100, 3);
      DiffusionSampler.Spec ddim50 = new DiffusionSampler.Spec(DiffusionSampler.Spec.Kind.DDIM,
          VarianceType.FIXED_LARGE, 50, 0);
      double[] a = f.sampler.sample(f.session, xT, 100, 1, ddim50, null, null);
      double[] b = f.sampler.sample(f.session, xT, 100, 2, ddim50, null, null);
      assertArrayEquals(a, b, 0, "DDIM eta = 0 must not depend on the step noise");
      DiffusionSampler.Spec stochastic = new DiffusionSampler.Spec(DiffusionSampler.Spec.Kind.DDIM,
          VarianceType.FIXED_LARGE, 50, 1);
      double[] c = f.sampler.sample(f.session, xT, 100, 1, stochastic, null, null);
      double[] d = f.sampler.sample(f.session, xT, 100, 2, stochastic, null, null);
      assertFalse(java.util.Arrays.equals(c, d), "DDIM eta = 1 draws fresh noise per seed");
      assertArrayEquals(c, f.sampler.sample(f.session, xT, 100, 1, stochastic, null, null), 0,
          "the same seed gives the same samples");
    }
  }

  /** Mean and standard error of the bound over n draws of x_0 ~ N(m, s^2). */
  private static double[] boundStats(Fixture f, double m, double s, int n) {
    SplittableRandom rng = new SplittableRandom(11);
    double[] x0 = new double[n];
    for (int i = 0; i < n; i++) {
      x0[i] = m + s * rng.nextGaussian();
    }
    double[] total = f.bound.evaluate(f.session, x0, n, 5, null, null).total();
    return new double[] {mean(total), Math.sqrt(sampleVariance(total) / n)};
  }

  @Test
  void boundEqualsTheEntropyForStandardNormalData() {
    try (Fixture f = new Fixture(0, 1)) {
      double[] b = boundStats(f, 0, 1, 8000);
      double entropy = 0.5 * Math.log(2 * Math.PI * Math.E);
      assertEquals(entropy, b[0], 0.05, "bound " + b[0] + " +- " + b[1] + " vs entropy " + entropy);
    }
  }

  @Test
  void boundIsNeverBelowTheEntropy() {
    for (double[] c : new double[][] {{1.5, 0.5}, {-2, 2}, {0.3, 0.1}}) {
      try (Fixture f = new Fixture(c[0], c[1])) {
        double[] b = boundStats(f, c[0], c[1], 4000);
        double entropy = 0.5 * Math.log(2 * Math.PI * Math.E * c[1] * c[1]);
        assertTrue(b[0] >= entropy - 3 * b[1], "N(" + c[0] + ", " + c[1] * c[1] + "): bound " + b[0] + " +- " + b[1]
            + " is below the entropy " + entropy);
      }
    }
  }

  @Test
  void priorKlOfTheLinearScheduleIsTiny() {
    try (Fixture f = new Fixture(0, 1)) {
      VariationalBound.Result r = f.bound.evaluate(f.session, new double[] {0, 1, -1}, 3, 0, null, null);
      // KL(N(sqrt(ab) x, 1 - ab) || N(0, 1)) = 0.5 (ab x^2 - ab - log(1 - ab)) ~ 0.5 ab x^2 for tiny ab.
      double ab = HO.alphasCumprod()[999];
      for (int i = 0; i < 3; i++) {
        double x = new double[] {0, 1, -1}[i];
        assertEquals(0.5 * (ab * x * x - ab - Math.log(1 - ab)), r.priorKl()[i], 1e-12);
      }
    }
  }
}
