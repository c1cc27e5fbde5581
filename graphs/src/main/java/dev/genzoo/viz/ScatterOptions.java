package dev.genzoo.viz;

/**
 * How {@link Plots#scatter} draws its axes.
 *
 * @param title the title above the plot, or null
 * @param xRange a fixed x range, or null to cover the points with {@code margin}
 * @param yRange a fixed y range, or null to cover the points with {@code margin}
 * @param margin for automatic ranges, the fraction of the data's span added at each end
 * @param equalAspect whether one data unit is as long on x as on y (automatic ranges grow to make it so)
 * @param xLabel the x axis label, or null
 * @param yLabel the y axis label, or null
 * @param width picture width in pixels
 * @param height picture height in pixels
 */
public record ScatterOptions(String title, Range xRange, Range yRange, double margin, boolean equalAspect,
    String xLabel, String yLabel, int width, int height) {
  public ScatterOptions {
    if (!(margin >= 0 && margin <= 1)) {
      throw new IllegalArgumentException("scatter margin " + margin + " must be in [0, 1]");
    }
  }

  /** No title, automatic ranges with a 5% margin, equal aspect, 640 x 640 pixels. */
  public static ScatterOptions defaults() {
    return new ScatterOptions(null, null, null, 0.05, true, null, null, 640, 640);
  }

  public ScatterOptions withTitle(String title) {
    return new ScatterOptions(title, xRange, yRange, margin, equalAspect, xLabel, yLabel, width, height);
  }

  /** Fixed ranges (either may be null for automatic). */
  public ScatterOptions withRanges(Range xRange, Range yRange) {
    return new ScatterOptions(title, xRange, yRange, margin, equalAspect, xLabel, yLabel, width, height);
  }

  public ScatterOptions withMargin(double margin) {
    return new ScatterOptions(title, xRange, yRange, margin, equalAspect, xLabel, yLabel, width, height);
  }

  public ScatterOptions withEqualAspect(boolean equalAspect) {
    return new ScatterOptions(title, xRange, yRange, margin, equalAspect, xLabel, yLabel, width, height);
  }

  public ScatterOptions withLabels(String xLabel, String yLabel) {
    return new ScatterOptions(title, xRange, yRange, margin, equalAspect, xLabel, yLabel, width, height);
  }

  public ScatterOptions withSize(int width, int height) {
    return new ScatterOptions(title, xRange, yRange, margin, equalAspect, xLabel, yLabel, width, height);
  }
}
