package dev.genzoo.graphs.ddpm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The schedule arrays against values derived independently in double precision: products as sums of logs, the
 * posterior by Bayes' rule for Gaussians (precisions add), the cosine schedule against its closed-form alphaBar.
 */
class DiffusionScheduleTest {
  @Test
  void linearBetasAreHoEtAlsLinspace() {
    double[] b = BetaSchedule.LINEAR.betas(1000, 1e-4, 0.02);
    assertEquals(1000, b.length);
    assertEquals(1e-4, b[0], 0);
    assertEquals(0.02, b[999], 0);
    // numpy.linspace(1e-4, 0.02, 1000)[500] = 1e-4 + 500 * 0.0199 / 999
    assertEquals(0.010_06, b[500], 1e-6);
    assertEquals(1e-4 + 500 * 0.0199 / 999, b[500], 1e-15);
  }

  @Test
  void alphasCumprodIsTheProductOfOneMinusBeta() {
    GaussianDiffusion d = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000, 1e-4, 0.02);
    double[] ab = d.alphasCumprod();
    double logSum = 0;
    for (int t = 0; t < 1000; t++) {
      logSum += Math.log1p(-(1e-4 + t * 0.0199 / 999));
      assertEquals(Math.exp(logSum), ab[t], 1e-12 * Math.max(1, Math.exp(logSum)) + 1e-15, "alphasCumprod[" + t + "]");
    }
    // Ho et al.'s schedule leaves almost no signal at T: alphaBar_T ~ 4.0e-5.
    assertEquals(4.04e-5, ab[999], 0.02e-5);
    assertEquals(1.0, d.alphasCumprodPrev()[0], 0);
    assertEquals(ab[499], d.alphasCumprodPrev()[500], 0);
  }

  @Test
  void posteriorIsBayesRuleForTheTwoGaussians() {
    for (BetaSchedule schedule : BetaSchedule.values()) {
      GaussianDiffusion d = GaussianDiffusion.of(schedule, 1000, 1e-4, 0.02);
      double[] beta = d.betas();
      double[] ab = d.alphasCumprod();
      double[] var = d.posteriorVariance();
      double[] c1 = d.posteriorMeanCoef1();
      double[] c2 = d.posteriorMeanCoef2();
      for (int t = 1; t < 1000; t++) {
        // q(x_{t-1} | x_0) = N(sqrt(ab_{t-1}) x0, 1 - ab_{t-1}); q(x_t | x_{t-1}) = N(sqrt(a_t) x_{t-1}, beta_t).
        double alpha = 1 - beta[t];
        double precision = 1 / (1 - ab[t - 1]) + alpha / beta[t];
        double v = 1 / precision;
        assertEquals(v, var[t], 1e-12 * v, schedule + " posteriorVariance[" + t + "]");
        assertEquals(v * Math.sqrt(ab[t - 1]) / (1 - ab[t - 1]), c1[t], 1e-10, schedule + " coef1[" + t + "]");
        assertEquals(v * Math.sqrt(alpha) / beta[t], c2[t], 1e-10, schedule + " coef2[" + t + "]");
        assertEquals(Math.log(var[t]), d.posteriorLogVarianceClipped()[t], 1e-12);
      }
      // At t = 1 (index 0) x_0 is known exactly given x_0: the posterior is a point mass at x_0.
      assertEquals(0, var[0], 0);
      assertEquals(1, c1[0], 1e-12);
      assertEquals(0, c2[0], 1e-12);
      assertEquals(Math.log(var[1]), d.posteriorLogVarianceClipped()[0], 0);
    }
  }

  @Test
  void cosineScheduleFollowsItsClosedFormAlphaBar() {
    int steps = 1000;
    GaussianDiffusion d = GaussianDiffusion.of(BetaSchedule.COSINE, steps, 0, 0);
    double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
    double[] ab = d.alphasCumprod();
    for (int t = 0; t < 990; t++) {
      double f = Math.pow(Math.cos(((t + 1.0) / steps + 0.008) / 1.008 * Math.PI / 2), 2);
      assertEquals(f / f0, ab[t], 1e-9, "cosine alphasCumprod[" + t + "]");
    }
    // The last betas are capped at 0.999.
    assertEquals(0.999, d.betas()[steps - 1], 0);
  }

  @Test
  void ddimTimestepsAreTheUniformSkip() {
    org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0},
        DiffusionSampler.ddimTimesteps(1000, 10));
    assertEquals(1000, DiffusionSampler.ddimTimesteps(1000, 1000).length);
    assertEquals(999, DiffusionSampler.ddimTimesteps(1000, 1000)[0]);
  }
}
