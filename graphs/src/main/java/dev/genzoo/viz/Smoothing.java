package dev.genzoo.viz;

/** Smoothing of noisy curves such as per-step training losses. */
public final class Smoothing {
  private Smoothing() {}

  /**
   * The trailing moving average: {@code out[i]} is the mean of the finite values among
   * {@code values[max(0, i - window + 1)..i]}, or NaN when there is none. NaN and infinite values are left out of the
   * means (one diverged step does not wipe out a window), and the first {@code window - 1} outputs average the values
   * seen so far.
   *
   * @param window the number of points averaged, at least 1 (1 returns a copy with non-finite values as NaN)
   */
  public static double[] movingAverage(double[] values, int window) {
    if (window < 1) {
      throw new IllegalArgumentException("moving-average window " + window + " must be at least 1");
    }
    double[] out = new double[values.length];
    double sum = 0;
    int count = 0;
    for (int i = 0; i < values.length; i++) {
      if (Double.isFinite(values[i])) {
        sum += values[i];
        count++;
      }
      if (i >= window) {
        double leaving = values[i - window];
        if (Double.isFinite(leaving)) {
          sum -= leaving;
          count--;
        }
      }
      if (count == 0) {
        sum = 0;
        out[i] = Double.NaN;
      } else {
        out[i] = sum / count;
      }
    }
    return out;
  }
}
