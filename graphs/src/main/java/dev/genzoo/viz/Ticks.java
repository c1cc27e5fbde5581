package dev.genzoo.viz;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Tick values and tick labels for plot axes.
 *
 * <p>Linear axes get "nice" steps, {1, 2, 5} x 10^k (the classic choice of P. S. Heckbert, "Nice numbers for graph
 * labels", Graphics Gems, 1990, without its loose range extension: ticks stay inside the range). Logarithmic axes get
 * powers of ten, with 2 and 5 times powers of ten added when the range spans too few decades.
 */
public final class Ticks {
  private static final double[] MANTISSAS = {1, 2, 5, 10};
  /** Labels switch to scientific notation for magnitudes at or above this... */
  private static final double SCI_LARGE = 1e6;
  /** ...or for tick steps below this. */
  private static final double SCI_SMALL = 1e-4;
  private static final String SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹";

  private Ticks() {}

  /**
   * The smallest nice step, {1, 2, 5} x 10^k, that is at least {@code rawStep}.
   *
   * @throws IllegalArgumentException if {@code rawStep} is not finite and positive
   */
  public static double niceStep(double rawStep) {
    if (!(rawStep > 0) || Double.isInfinite(rawStep)) {
      throw new IllegalArgumentException("tick step " + rawStep + " must be finite and positive");
    }
    int e = (int) Math.floor(Math.log10(rawStep));
    for (double m : MANTISSAS) {
      double s = scaled(m, e);
      if (s >= rawStep * (1 - 1e-12)) {
        return s;
      }
    }
    return scaled(1, e + 1);
  }

  /**
   * Nice ticks inside {@code [min, max]}: the multiples of {@code niceStep((max - min) / target)} that lie in the
   * range, so there are about {@code target} to {@code 2.5 target} intervals' worth of them.
   *
   * @param target the wanted number of intervals between ticks, at least 1
   */
  public static double[] linear(double min, double max, int target) {
    checkRange(min, max);
    if (target < 1) {
      throw new IllegalArgumentException("tick target " + target + " must be at least 1");
    }
    double step = niceStep((max - min) / target);
    int e = (int) Math.floor(Math.log10(step) + 1e-9);
    long m = Math.round(step / scaled(1, e));
    double tol = 1e-9 * step;
    long first = (long) Math.ceil((min - tol) / step);
    long last = (long) Math.floor((max + tol) / step);
    List<Double> out = new ArrayList<>();
    for (long k = first; k <= last; k++) {
      double v = scaled((double) (k * m), e);
      out.add(v == 0 ? 0.0 : v);
    }
    return toArray(out);
  }

  /**
   * Ticks for a logarithmic axis over {@code [min, max]} (both positive): the powers of ten in the range, every
   * {@code n}-th one when there are more than {@code target + 1}; when the range holds fewer than three powers of ten,
   * 2 and 5 times powers of ten are added; when even that gives fewer than two ticks, {@link #linear} ticks are used.
   */
  public static double[] log(double min, double max, int target) {
    checkRange(min, max);
    if (!(min > 0)) {
      throw new IllegalArgumentException("logarithmic axis range [" + min + ", " + max + "] must be positive");
    }
    if (target < 1) {
      throw new IllegalArgumentException("tick target " + target + " must be at least 1");
    }
    double tol = 1e-9;
    int lo = (int) Math.ceil(Math.log10(min) - tol);
    int hi = (int) Math.floor(Math.log10(max) + tol);
    List<Double> out = new ArrayList<>();
    int decades = hi - lo + 1;
    if (decades >= 3) {
      int stride = (int) Math.ceil((double) (decades - 1) / target);
      int start = Math.floorDiv(lo + stride - 1, stride) * stride;
      for (int e = start; e <= hi; e += stride) {
        out.add(scaled(1, e));
      }
      if (out.size() >= 2) {
        return toArray(out);
      }
      out.clear();
    }
    for (int e = lo - 1; e <= hi; e++) {
      for (double m : new double[] {1, 2, 5}) {
        double v = scaled(m, e);
        if (v >= min * (1 - tol) && v <= max * (1 + tol)) {
          out.add(v);
        }
      }
    }
    if (out.size() >= 2 && out.size() <= 2 * target + 2) {
      return toArray(out);
    }
    return linear(min, max, target);
  }

  /**
   * Labels for ticks made by {@link #linear}: every label has the number of decimals the smallest step needs, so that
   * {@code 0, 0.5, 1} reads {@code "0", "0.5", "1"} and {@code 0, 0.25, 0.5} reads {@code "0", "0.25", "0.50"} (zero is
   * always {@code "0"}). See {@link #format} for when labels are scientific.
   */
  public static String[] labels(double[] ticks) {
    String[] out = new String[ticks.length];
    double step = Double.NaN;
    for (int i = 1; i < ticks.length; i++) {
      double d = Math.abs(ticks[i] - ticks[i - 1]);
      if (d > 0 && !(d >= step)) {
        step = d;
      }
    }
    double maxAbs = 0;
    for (double t : ticks) {
      maxAbs = Math.max(maxAbs, Math.abs(t));
    }
    if (Double.isNaN(step)) {
      step = maxAbs > 0 ? scaled(1, (int) Math.floor(Math.log10(maxAbs))) : 1;
    }
    for (int i = 0; i < ticks.length; i++) {
      out[i] = format(ticks[i], step, maxAbs);
    }
    return out;
  }

  /**
   * Labels for ticks made by {@link #log}: plain decimals when every tick lies in [0.001, 10000], otherwise powers of
   * ten with superscript exponents ({@code "10⁻³"}, and {@code "2×10⁻³"} for the others).
   */
  public static String[] logLabels(double[] ticks) {
    boolean plain = true;
    for (double t : ticks) {
      plain &= t >= 1e-3 * (1 - 1e-9) && t <= 1e4 * (1 + 1e-9);
    }
    String[] out = new String[ticks.length];
    for (int i = 0; i < ticks.length; i++) {
      double t = ticks[i];
      if (plain) {
        out[i] = BigDecimal.valueOf(t).round(new MathContext(3)).stripTrailingZeros().toPlainString();
        continue;
      }
      int e = (int) Math.floor(Math.log10(t) + 1e-9);
      double m = t / scaled(1, e);
      String mant = BigDecimal.valueOf(m).setScale(2, RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
      out[i] = (mant.equals("1") ? "" : mant + "×") + "10" + superscript(e);
    }
    return out;
  }

  /**
   * Formats {@code value} as a tick label on an axis whose ticks are {@code step} apart: fixed-point with the decimals
   * the step needs, or, for magnitudes of a million and more or steps below 0.0001, {@code 2.5e-6}-style scientific
   * notation with the digits the step needs. Zero (also -0) is {@code "0"}.
   */
  public static String format(double value, double step) {
    return format(value, step, Math.abs(value));
  }

  private static String format(double value, double step, double axisMaxAbs) {
    if (!Double.isFinite(value)) {
      return Double.toString(value);
    }
    if (!(step > 0) || Double.isInfinite(step)) {
      throw new IllegalArgumentException("tick step " + step + " must be finite and positive");
    }
    if (Math.abs(value) < step * 1e-9) {
      return "0";
    }
    boolean sci = axisMaxAbs >= SCI_LARGE || step < SCI_SMALL * (1 - 1e-6);
    int last = lastDigitExponent(step);
    if (!sci) {
      int decimals = Math.max(0, -last);
      return clean(BigDecimal.valueOf(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString());
    }
    int e = (int) Math.floor(Math.log10(Math.abs(value)) + 1e-12);
    int decimals = Math.min(15, Math.max(0, e - last));
    BigDecimal mant = BigDecimal.valueOf(value).movePointLeft(e).setScale(decimals, RoundingMode.HALF_EVEN);
    if (mant.abs().compareTo(BigDecimal.TEN) >= 0) {
      e += 1;
      mant = BigDecimal.valueOf(value).movePointLeft(e).setScale(Math.max(0, decimals - 1), RoundingMode.HALF_EVEN);
    }
    return clean(mant.toPlainString()) + "e" + e;
  }

  /**
   * The power of ten of the last significant digit of {@code step} (to six significant digits): 0.2 gives -1, 0.25
   * gives -2, 0.30000000000000004 gives -1, 2e6 gives 6, 2.5e6 gives 5.
   */
  private static int lastDigitExponent(double step) {
    return -BigDecimal.valueOf(step).round(new MathContext(6)).stripTrailingZeros().scale();
  }

  private static String clean(String s) {
    if (s.startsWith("-") && s.chars().skip(1).allMatch(ch -> ch == '0' || ch == '.')) {
      return s.substring(1);
    }
    return s;
  }

  private static String superscript(int e) {
    StringBuilder sb = new StringBuilder();
    String digits = Integer.toString(Math.abs(e));
    if (e < 0) {
      sb.append('⁻');
    }
    for (char ch : digits.toCharArray()) {
      sb.append(SUPERSCRIPTS.charAt(ch - '0'));
    }
    return sb.toString();
  }

  /** {@code m * 10^e}, computed so that decimal values such as 0.3 come out as the nearest double. */
  private static double scaled(double m, int e) {
    return e >= 0 ? m * Math.pow(10, e) : m / Math.pow(10, -e);
  }

  private static void checkRange(double min, double max) {
    if (!Double.isFinite(min) || !Double.isFinite(max) || !(max > min)) {
      throw new IllegalArgumentException("tick range [" + min + ", " + max
          + "] must be finite with max greater than min");
    }
  }

  private static double[] toArray(List<Double> list) {
    double[] a = new double[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = list.get(i);
    }
    return a;
  }
}
