package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * A product of experts (Hinton 2002) adds energies: two Gaussian experts N(m1, s1^2 I) and N(m2, s2^2 I) multiply
 * into the Gaussian with precision 1/s^2 = 1/s1^2 + 1/s2^2 and mean s^2 (m1/s1^2 + m2/s2^2). MALA on
 * {@link Energy#plus} samples it jointly.
 */
class ProductOfExpertsTest {
  @Test
  void twoGaussianExpertsMultiplyIntoTheirPrecisionWeightedGaussian() {
    double[] m1 = {1.0, -1.0};
    double[] m2 = {-2.0, 3.0};
    double s1 = 1.0;
    double s2 = 0.5;
    Energy product = GaussianEnergy.isotropic(m1, s1).plus(GaussianEnergy.isotropic(m2, s2));
    double var = 1 / (1 / (s1 * s1) + 1 / (s2 * s2));
    int chains = 1000;
    try (McmcChain chain = McmcChain.create(product, new Mala(0.1), 2, 5)) {
      McmcChain.Run run = chain.run(new double[2 * chains], 11, 50, 20);
      // 1000 chains x 20 thinned draws; the standard error of a mean is about sqrt(var / 20000) (autocorrelation
      // within a chain inflates it somewhat: 6 SE-like tolerance)
      double se = Math.sqrt(var / (chains * 20.0));
      for (int d = 0; d < 2; d++) {
        double mean = var * (m1[d] / (s1 * s1) + m2[d] / (s2 * s2));
        assertEquals(mean, run.mean()[d], 6 * se, "mean " + d);
        assertEquals(var, run.covariance()[d * 2 + d], 0.05 * var, "variance " + d);
      }
      assertEquals(0.0, run.covariance()[1], 0.05 * var, "covariance");
    }
  }
}
