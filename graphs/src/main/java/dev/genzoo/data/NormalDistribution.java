package dev.genzoo.data;

/**
 * The standard normal density and distribution function in double precision, for the toys' exact densities.
 * {@code Φ} comes from the complementary error function: {@code 1 - erf(x)} with the positive-term series of erf for
 * |x| < 1.5, and Laplace's continued fraction for erfc beyond (Abramowitz and Stegun 7.1.6 and 7.1.14); about 1e-15
 * relative error everywhere.
 */
final class NormalDistribution {
  static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

  private NormalDistribution() {}

  /** log φ(z) = -z²/2 - log √(2π). */
  static double logPdf(double z) {
    return -0.5 * z * z - LOG_SQRT_2PI;
  }

  /** Φ(z), the standard normal distribution function. */
  static double cdf(double z) {
    return z >= 0 ? 1 - 0.5 * erfc(z / Math.sqrt(2)) : 0.5 * erfc(-z / Math.sqrt(2));
  }

  /** The complementary error function erfc(x) = 1 - erf(x). */
  static double erfc(double x) {
    if (x < 0) {
      return 2 - erfc(-x);
    }
    if (x < 1.5) {
      return 1 - erfSeries(x);
    }
    // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated from the tail.
    double f = x;
    for (int k = 120; k >= 1; k--) {
      f = x + (k / 2.0) / f;
    }
    return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
  }

  /** erf(x) = 2/√π exp(-x²) Σ_n 2^n x^(2n+1) / (1·3·5···(2n+1)) for x >= 0: positive terms, no cancellation. */
  private static double erfSeries(double x) {
    double term = x;
    double sum = x;
    for (int n = 1; n < 500 && term > 1e-17 * sum; n++) {
      term *= 2 * x * x / (2 * n + 1);
      sum += term;
    }
    return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
  }


  /** log Σ exp(v[i]), stable. */
  static double logSumExp(double[] v) {
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      max = Math.max(max, x);
    }
    if (max == Double.NEGATIVE_INFINITY) {
      return max;
    }
    double s = 0;
    for (double x : v) {
      s += Math.exp(x - max);
    }
    return max + Math.log(s);
  }
}
