package dev.genzoo.viz;

import java.awt.Color;
import java.util.Objects;

/**
 * One line of {@link Plots#lines}: y against x, e.g. a loss against the training step. Points where x or y is NaN or
 * infinite (or y is not positive on a logarithmic axis) are skipped and break the line there.
 *
 * @param name the legend label
 * @param x the x values
 * @param y the y values, as many as x
 * @param color the line colour, or null for the next palette colour (one colour per distinct name)
 * @param width the line width in pixels
 * @param alpha the line opacity in (0, 1]
 * @param inLegend whether the series has a legend entry
 */
public record Series(String name, double[] x, double[] y, Color color, float width, double alpha,
    boolean inLegend) {
  public Series {
    Objects.requireNonNull(x, "series x");
    Objects.requireNonNull(y, "series y");
    if (x.length != y.length) {
      throw new IllegalArgumentException("series '" + name + "' has " + x.length + " x values but " + y.length
          + " y values");
    }
    if (!(width > 0 && width <= 20)) {
      throw new IllegalArgumentException("series '" + name + "' line width " + width + " must be in (0, 20]");
    }
    if (!(alpha > 0 && alpha <= 1)) {
      throw new IllegalArgumentException("series '" + name + "' alpha " + alpha + " must be in (0, 1]");
    }
  }

  /** A 1.8 px opaque line in an automatic colour, in the legend. */
  public static Series of(String name, double[] x, double[] y) {
    return new Series(name, x, y, null, 1.8f, 1.0, true);
  }

  /** y against its index 0, 1, 2, ... */
  public static Series of(String name, double[] y) {
    double[] x = new double[y.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = i;
    }
    return of(name, x, y);
  }

  public Series withColor(Color color) {
    return new Series(name, x, y, color, width, alpha, inLegend);
  }

  /** The same data drawn with another width and opacity, in the legend or not. */
  public Series withStyle(float width, double alpha, boolean inLegend) {
    return new Series(name, x, y, color, width, alpha, inLegend);
  }

  /** This series with y replaced by its trailing {@link Smoothing#movingAverage moving average}. */
  public Series smoothed(int window) {
    return new Series(name, x, Smoothing.movingAverage(y, window), color, width, alpha, inLegend);
  }
}
