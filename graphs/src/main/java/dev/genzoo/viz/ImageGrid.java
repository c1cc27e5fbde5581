package dev.genzoo.viz;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A grid of images, the picture of a batch of samples (like torchvision's {@code make_grid}).
 *
 * <p>Input is {@code n} images as one {@code float[]} in NHWC order with values in [0, 1]; {@code c} is 1 (grey) or 3
 * (RGB). A value {@code v} becomes the 8-bit level {@code Math.round(255 * clamp(v, 0, 1))}; infinities clamp like any
 * other value, but a pixel with a NaN in any channel is drawn magenta ({@code 0xFF00FF}) so that a broken model is
 * visible at a glance.
 *
 * <p>Geometry ({@link Layout}): tiles of {@code h*scale} by {@code w*scale} pixels (each input pixel a
 * {@code scale x scale} block), {@code padding} pixels between tiles and around the grid, images filled in row by row.
 * Tile (r, c) starts at pixel {@code x = padding + c * (w * scale + padding)}, {@code y = padding + r * (h * scale +
 * padding)}. Unused tiles of the last row show the background.
 */
public final class ImageGrid {
  /** NaN pixels are drawn in this colour. */
  public static final int NAN_RGB = 0xFF00FF;

  /**
   * How to lay the grid out.
   *
   * @param columns tiles per row; 0 for {@code ceil(sqrt(n))}
   * @param padding pixels between tiles and around the grid, 0 or more
   * @param scale integer upscaling of every image; 0 for the smallest scale (up to 16) that makes the grid at least
   *     {@code minWidth} pixels wide
   * @param minWidth the width automatic scaling aims for
   * @param background colour of the padding and of unused tiles
   */
  public record Options(int columns, int padding, int scale, int minWidth, Color background) {
    public Options {
      if (columns < 0) {
        throw new IllegalArgumentException("grid columns " + columns + " must be >= 0 (0 = automatic)");
      }
      if (padding < 0 || padding > 64) {
        throw new IllegalArgumentException("grid padding " + padding + " must be in [0, 64]");
      }
      if (scale < 0 || scale > 64) {
        throw new IllegalArgumentException("grid scale " + scale + " must be in [0, 64] (0 = automatic)");
      }
      if (minWidth < 0) {
        throw new IllegalArgumentException("grid minWidth " + minWidth + " must be >= 0");
      }
      Objects.requireNonNull(background, "grid background");
    }

    /** Automatic columns and scale, 2 pixels of padding, at least 512 pixels wide, on white. */
    public static Options defaults() {
      return new Options(0, 2, 0, 512, Color.WHITE);
    }

    public Options withColumns(int columns) {
      return new Options(columns, padding, scale, minWidth, background);
    }

    public Options withPadding(int padding) {
      return new Options(columns, padding, scale, minWidth, background);
    }

    public Options withScale(int scale) {
      return new Options(columns, padding, scale, minWidth, background);
    }

    public Options withMinWidth(int minWidth) {
      return new Options(columns, padding, scale, minWidth, background);
    }

    public Options withBackground(Color background) {
      return new Options(columns, padding, scale, minWidth, background);
    }
  }

  /**
   * The resolved geometry of a grid.
   *
   * @param rows tile rows
   * @param columns tile columns
   * @param tileHeight image height before scaling
   * @param tileWidth image width before scaling
   * @param scale integer upscaling
   * @param padding pixels between tiles and around the grid
   */
  public record Layout(int rows, int columns, int tileHeight, int tileWidth, int scale, int padding) {
    /** Width of the picture in pixels. */
    public int width() {
      return columns * tileWidth * scale + (columns + 1) * padding;
    }

    /** Height of the picture in pixels. */
    public int height() {
      return rows * tileHeight * scale + (rows + 1) * padding;
    }

    /** Pixel x where tile column {@code c} starts. */
    public int tileX(int c) {
      return padding + c * (tileWidth * scale + padding);
    }

    /** Pixel y where tile row {@code r} starts. */
    public int tileY(int r) {
      return padding + r * (tileHeight * scale + padding);
    }
  }

  private static final int MAX_AUTO_SCALE = 16;
  private static final long MAX_PIXELS = 1L << 28;

  private ImageGrid() {}

  /** The geometry for {@code n} images of {@code h x w} pixels under {@code options}. */
  public static Layout layout(int n, int h, int w, Options options) {
    if (n < 1) {
      throw new IllegalArgumentException("image grid needs at least one image, got n = " + n);
    }
    if (h < 1 || w < 1) {
      throw new IllegalArgumentException("image grid tile size " + h + "x" + w + " (h x w) must be positive");
    }
    int cols = options.columns() > 0 ? Math.min(options.columns(), n) : (int) Math.ceil(Math.sqrt(n));
    int rows = (n + cols - 1) / cols;
    int scale = options.scale();
    if (scale == 0) {
      scale = 1;
      while (scale < MAX_AUTO_SCALE
          && (long) cols * w * scale + (long) (cols + 1) * options.padding() < options.minWidth()) {
        scale++;
      }
    }
    long width = (long) cols * w * scale + (long) (cols + 1) * options.padding();
    long height = (long) rows * h * scale + (long) (rows + 1) * options.padding();
    if (width * height > MAX_PIXELS) {
      throw new IllegalArgumentException("image grid of " + n + " images " + h + "x" + w + " at scale " + scale
          + " would be " + width + "x" + height + " pixels, more than " + MAX_PIXELS);
    }
    return new Layout(rows, cols, h, w, scale, options.padding());
  }

  /** The grid as a picture, with {@link Options#defaults()}. */
  public static BufferedImage toImage(float[] nhwc, int n, int h, int w, int c) {
    return toImage(nhwc, n, h, w, c, Options.defaults());
  }

  /** The grid as a picture. */
  public static BufferedImage toImage(float[] nhwc, int n, int h, int w, int c, Options options) {
    Objects.requireNonNull(nhwc, "images");
    Objects.requireNonNull(options, "options");
    if (c != 1 && c != 3) {
      throw new IllegalArgumentException("image grid channels c = " + c + " must be 1 (grey) or 3 (RGB)");
    }
    Layout layout = layout(n, h, w, options);
    long expected = (long) n * h * w * c;
    if (nhwc.length != expected) {
      throw new IllegalArgumentException("image grid data has " + nhwc.length + " values but n*h*w*c = " + n + "*" + h
          + "*" + w + "*" + c + " = " + expected);
    }
    int width = layout.width();
    int height = layout.height();
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] pixels = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
    java.util.Arrays.fill(pixels, options.background().getRGB() & 0xFFFFFF);
    int s = layout.scale();
    for (int i = 0; i < n; i++) {
      int x0 = layout.tileX(i % layout.columns());
      int y0 = layout.tileY(i / layout.columns());
      int base = i * h * w * c;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int at = base + (y * w + x) * c;
          int rgb = c == 1 ? grey(nhwc[at]) : rgb(nhwc[at], nhwc[at + 1], nhwc[at + 2]);
          for (int dy = 0; dy < s; dy++) {
            int row = (y0 + y * s + dy) * width + x0 + x * s;
            for (int dx = 0; dx < s; dx++) {
              pixels[row + dx] = rgb;
            }
          }
        }
      }
    }
    return image;
  }

  /** Writes the grid as a PNG file, atomically, with {@link Options#defaults()}; returns the picture. */
  public static BufferedImage write(float[] nhwc, int n, int h, int w, int c, Path png) throws IOException {
    return write(nhwc, n, h, w, c, Options.defaults(), png);
  }

  /** Writes the grid as a PNG file, atomically; returns the picture. */
  public static BufferedImage write(float[] nhwc, int n, int h, int w, int c, Options options, Path png)
      throws IOException {
    BufferedImage image = toImage(nhwc, n, h, w, c, options);
    Png.write(image, png);
    return image;
  }

  /** The 8-bit level of a value in [0, 1]: {@code round(255 v)} after clamping. NaN is not handled here. */
  static int level(float v) {
    double clamped = v <= 0 ? 0 : v >= 1 ? 1 : v;
    return (int) Math.round(255.0 * clamped);
  }

  private static int grey(float v) {
    if (Float.isNaN(v)) {
      return NAN_RGB;
    }
    int g = level(v);
    return (g << 16) | (g << 8) | g;
  }

  private static int rgb(float r, float g, float b) {
    if (Float.isNaN(r) || Float.isNaN(g) || Float.isNaN(b)) {
      return NAN_RGB;
    }
    return (level(r) << 16) | (level(g) << 8) | level(b);
  }
}
