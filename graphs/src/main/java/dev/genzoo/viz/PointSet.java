package dev.genzoo.viz;

import java.awt.Color;
import java.util.Objects;

/**
 * One set of 2-D points for {@link Plots#scatter}: {@code points} holds N points as {@code x0, y0, x1, y1, ...}
 * (an N x 2 row-major array, as a 2-D model's samples come out of a tensor).
 *
 * @param name the legend label (shown when a plot has more than one set)
 * @param points N x 2 row-major coordinates; points with a NaN or infinite coordinate are counted and not drawn
 * @param color the marker colour
 * @param alpha marker opacity in (0, 1], or NaN to choose it from N (opaque for a few points, faint for many)
 * @param size marker diameter in pixels, or NaN to choose it from N
 */
public record PointSet(String name, float[] points, Color color, double alpha, double size) {
  public PointSet {
    Objects.requireNonNull(points, "scatter points");
    Objects.requireNonNull(color, "scatter point colour");
    if (points.length % 2 != 0) {
      throw new IllegalArgumentException("scatter points" + (name == null ? "" : " '" + name + "'") + " have "
          + points.length + " values; an N x 2 array needs an even number");
    }
    if (!Double.isNaN(alpha) && !(alpha > 0 && alpha <= 1)) {
      throw new IllegalArgumentException("scatter point alpha " + alpha + " must be in (0, 1] (or NaN for automatic)");
    }
    if (!Double.isNaN(size) && !(size > 0 && size <= 100)) {
      throw new IllegalArgumentException("scatter point size " + size + " must be in (0, 100] pixels (or NaN)");
    }
  }

  /** A set drawn in the first palette colour (blue) with automatic alpha and size. */
  public static PointSet of(String name, float[] points) {
    return new PointSet(name, points, Axes.PALETTE[0], Double.NaN, Double.NaN);
  }

  /** This set in another colour, opacity and marker diameter (NaN for automatic). */
  public PointSet withStyle(Color color, double alpha, double size) {
    return new PointSet(name, points, color, alpha, size);
  }

  /** Number of points. */
  public int count() {
    return points.length / 2;
  }

  /** The opacity used: {@link #alpha} or, when automatic, {@code clamp(sqrt(1000 / N), 0.15, 0.9)}. */
  double effectiveAlpha() {
    if (!Double.isNaN(alpha)) {
      return alpha;
    }
    return Math.max(0.15, Math.min(0.9, Math.sqrt(1000.0 / Math.max(1, count()))));
  }

  /** The diameter used: {@link #size} or, when automatic, 6 px up to 1000 points, 4.5 up to 10000, 3 beyond. */
  double effectiveSize() {
    if (!Double.isNaN(size)) {
      return size;
    }
    int n = count();
    return n <= 1000 ? 6 : n <= 10000 ? 4.5 : 3;
  }
}
