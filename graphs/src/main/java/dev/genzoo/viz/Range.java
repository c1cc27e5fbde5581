package dev.genzoo.viz;

/**
 * A closed interval {@code [min, max]} of an axis or of a colour scale, in data units.
 *
 * @param min the lower end, finite
 * @param max the upper end, finite and greater than {@code min}
 */
public record Range(double min, double max) {
  public Range {
    if (!Double.isFinite(min) || !Double.isFinite(max)) {
      throw new IllegalArgumentException("range [" + min + ", " + max + "] must have finite ends");
    }
    if (!(max > min)) {
      throw new IllegalArgumentException("range max (" + max + ") must be greater than min (" + min + ")");
    }
  }

  /** The range {@code [min, max]}. */
  public static Range of(double min, double max) {
    return new Range(min, max);
  }

  /** {@code max - min}. */
  public double span() {
    return max - min;
  }

  /** Whether {@code v} lies in {@code [min, max]}. */
  public boolean contains(double v) {
    return v >= min && v <= max;
  }

  /** The range grown by {@code fraction} of its span at each end (a plot's margin around its data). */
  public Range padded(double fraction) {
    if (!(fraction >= 0) || Double.isInfinite(fraction)) {
      throw new IllegalArgumentException("margin fraction " + fraction + " must be finite and >= 0");
    }
    double m = fraction * span();
    return new Range(min - m, max + m);
  }

  /**
   * The smallest range that holds the finite values among {@code lo..hi} bounds, for data that may be a single value
   * or none: a single value {@code v} gives {@code [v - d, v + d]} with {@code d = max(0.5, |v| / 10)}, no value at
   * all gives {@code fallback}.
   *
   * @param lo the smallest finite data value, or NaN/+Inf when there is none
   * @param hi the largest finite data value, or NaN/-Inf when there is none
   */
  static Range covering(double lo, double hi, Range fallback) {
    if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
      return fallback;
    }
    if (hi > lo) {
      return new Range(lo, hi);
    }
    double d = Math.max(0.5, Math.abs(lo) / 10);
    return new Range(lo - d, hi + d);
  }
}
