package dev.genzoo.viz;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A rendered plot: the picture and the geometry that maps data to its pixels.
 *
 * <p>A data point {@code (x, y)} lands at the continuous pixel position
 * {@code px = plotArea.x + (x - xRange.min) / xRange.span * plotArea.width} and
 * {@code py = plotArea.y + plotArea.height - (y - yRange.min) / yRange.span * plotArea.height} (the y axis points up),
 * i.e. in pixel column {@code floor(px)} and row {@code floor(py)}. On a logarithmic y axis, {@code log10} of y and of
 * the range's ends take their places. Pixels outside {@code plotArea} hold the frame, ticks, labels and legends.
 *
 * @param image the picture (RGB)
 * @param plotArea the data area in pixels
 * @param xRange the x axis range in data units
 * @param yRange the y axis range in data units (positive ends when {@code logY})
 * @param logY whether the y axis is logarithmic
 */
public record Figure(BufferedImage image, Rectangle plotArea, Range xRange, Range yRange, boolean logY) {
  /** The continuous pixel x of data x. */
  public double pixelX(double x) {
    return plotArea.x + (x - xRange.min()) / xRange.span() * plotArea.width;
  }

  /** The continuous pixel y of data y (NaN on a logarithmic axis for y <= 0). */
  public double pixelY(double y) {
    double t = logY
        ? (Math.log10(y) - Math.log10(yRange.min())) / (Math.log10(yRange.max()) - Math.log10(yRange.min()))
        : (y - yRange.min()) / yRange.span();
    return plotArea.y + plotArea.height - t * plotArea.height;
  }

  /** Writes the picture as a PNG file, atomically (see {@link Png#write}); returns this figure. */
  public Figure write(Path png) throws IOException {
    Png.write(image, png);
    return this;
  }
}
