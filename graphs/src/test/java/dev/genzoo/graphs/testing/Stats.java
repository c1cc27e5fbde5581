package dev.genzoo.graphs.testing;

/** Sample moments for tests, in double precision. */
public final class Stats {
  private Stats() {}

  public static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s / x.length;
  }

  /** The biased (1/n) variance: the maximum-likelihood estimate. */
  public static double variance(double[] x) {
    return sumOfSquares(x) / x.length;
  }

  /** The unbiased (1/(n-1)) sample variance. */
  public static double sampleVariance(double[] x) {
    return sumOfSquares(x) / (x.length - 1);
  }

  private static double sumOfSquares(double[] x) {
    double mu = mean(x);
    double s = 0;
    for (double v : x) {
      s += (v - mu) * (v - mu);
    }
    return s;
  }
}
