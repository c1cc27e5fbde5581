package dev.genzoo.data;

import java.util.Locale;

/**
 * Mode coverage of samples from a model of a Gaussian-mixture toy, the measure of the GAN literature on
 * {@code toy:8gaussians} (Metz et al. 2017, unrolled GANs; Srivastava et al. 2017, VEEGAN): each sample is assigned to
 * its nearest mode; a sample is of high quality when it lies within 3 standard deviations of that mode (Euclidean
 * distance below 3 sigma); a mode is covered when at least {@code minPerMode} high-quality samples fall on it.
 *
 * @param shares fraction of all samples nearest to each mode
 * @param spreads per-coordinate standard deviation of each mode's samples around its centre, sqrt(E|x - mu|^2 / d)
 * @param highQuality fraction of samples within 3 sigma of their nearest mode
 * @param modesCovered number of modes with at least {@code minPerMode} high-quality samples
 * @param count number of samples
 */
public record ModeCoverage(double[] shares, double[] spreads, double highQuality, int modesCovered, int count) {

  /**
   * The coverage of {@code samples} (row-major, n x dim) of the mixture; a mode counts as covered with at least
   * {@code minPerMode} high-quality samples.
   */
  public static ModeCoverage of(MixtureToy toy, float[] samples, int minPerMode) {
    double[][] centres = toy.modeCentres();
    int k = centres.length;
    int d = toy.dim();
    if (samples.length % d != 0 || samples.length == 0) {
      throw new IllegalArgumentException("mode coverage needs n x " + d + " values, got " + samples.length);
    }
    int n = samples.length / d;
    double radius2 = 9 * toy.modeStd() * toy.modeStd();
    long[] counts = new long[k];
    long[] good = new long[k];
    double[] squared = new double[k];
    for (int i = 0; i < n; i++) {
      int best = 0;
      double bestD = Double.MAX_VALUE;
      for (int c = 0; c < k; c++) {
        double dist = 0;
        for (int j = 0; j < d; j++) {
          double diff = samples[i * d + j] - centres[c][j];
          dist += diff * diff;
        }
        if (dist < bestD) {
          bestD = dist;
          best = c;
        }
      }
      counts[best]++;
      squared[best] += bestD;
      if (bestD <= radius2) {
        good[best]++;
      }
    }
    double[] shares = new double[k];
    double[] spreads = new double[k];
    long totalGood = 0;
    int covered = 0;
    for (int c = 0; c < k; c++) {
      shares[c] = counts[c] / (double) n;
      spreads[c] = counts[c] == 0 ? Double.NaN : Math.sqrt(squared[c] / ((double) d * counts[c]));
      totalGood += good[c];
      if (good[c] >= minPerMode) {
        covered++;
      }
    }
    return new ModeCoverage(shares, spreads, totalGood / (double) n, covered, n);
  }

  public double minShare() {
    double m = Double.MAX_VALUE;
    for (double s : shares) {
      m = Math.min(m, s);
    }
    return m;
  }

  public double maxShare() {
    double m = 0;
    for (double s : shares) {
      m = Math.max(m, s);
    }
    return m;
  }

  /** One line: covered modes, high-quality fraction, and each mode's share and spread. */
  public String describe() {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%d of %d modes covered, %.1f%% within 3 sd;",
        modesCovered, shares.length, 100 * highQuality));
    for (int c = 0; c < shares.length; c++) {
      sb.append(String.format(Locale.ROOT, " mode %d %.3f (sd %.3f)", c, shares[c], spreads[c]));
    }
    return sb.toString();
  }
}
