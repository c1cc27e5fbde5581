package dev.genzoo.data;

import java.util.Arrays;
import java.util.List;

/**
 * {@code N} images of {@code H x W x C} unsigned 8-bit values held in memory as one {@code byte[]} in NHWC order
 * (example, row, column, channel), with optional integer class labels and their names, and a one-line description.
 *
 * <p>Pixel values are 0..255 (the Java bytes are read as unsigned). The pixel array is taken over, not copied, by the
 * constructor: callers must not change it afterwards.
 */
public final class ImageDataset {
  private final byte[] pixels;
  private final int size;
  private final int height;
  private final int width;
  private final int channels;
  private final int[] labels;
  private final List<String> classNames;
  private final String description;

  /**
   * @param pixels {@code size * height * width * channels} values in NHWC order (taken over, not copied)
   * @param labels one label per image, or null when the images have none
   * @param classNames the names of the label values (index = label), or an empty list when unknown
   */
  public ImageDataset(byte[] pixels, int size, int height, int width, int channels, int[] labels,
      List<String> classNames, String description) {
    if (size < 0 || height <= 0 || width <= 0 || channels <= 0) {
      throw new IllegalArgumentException("image dataset '" + description + "': bad dimensions size " + size
          + ", height " + height + ", width " + width + ", channels " + channels);
    }
    long expected = (long) size * height * width * channels;
    if (pixels.length != expected) {
      throw new IllegalArgumentException("image dataset '" + description + "': " + pixels.length + " pixel values, "
          + size + " x " + height + " x " + width + " x " + channels + " needs " + expected);
    }
    if (labels != null && labels.length != size) {
      throw new IllegalArgumentException("image dataset '" + description + "': " + size + " images but "
          + labels.length + " labels");
    }
    this.pixels = pixels;
    this.size = size;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.labels = labels == null ? null : labels.clone();
    this.classNames = List.copyOf(classNames);
    this.description = description;
  }

  /** Number of images N. */
  public int size() {
    return size;
  }

  /** Image height H in pixels. */
  public int height() {
    return height;
  }

  /** Image width W in pixels. */
  public int width() {
    return width;
  }

  /** Channels C per pixel (1 grayscale, 3 RGB). */
  public int channels() {
    return channels;
  }

  /** Values per image, {@code H * W * C}. */
  public int exampleSize() {
    return height * width * channels;
  }

  /** {@code {H, W, C}}. */
  public long[] exampleShape() {
    return new long[] {height, width, channels};
  }

  /** Whether every image has an integer label. */
  public boolean hasLabels() {
    return labels != null;
  }

  /** The label of image {@code index}; fails when the dataset has no labels. */
  public int label(int index) {
    if (labels == null) {
      throw new IllegalStateException("image dataset '" + description + "' has no labels");
    }
    return labels[checkIndex(index)];
  }

  /** A copy of all labels, or null when the dataset has none. */
  public int[] labels() {
    return labels == null ? null : labels.clone();
  }

  /** The names of the label values (index = label); empty when unknown. */
  public List<String> classNames() {
    return classNames;
  }

  /** Where the images came from, e.g. {@code cifar10:/data/cifar (train)}. */
  public String description() {
    return description;
  }

  /** The value (0..255) of one pixel channel. */
  public int pixel(int index, int y, int x, int c) {
    checkIndex(index);
    if (y < 0 || y >= height || x < 0 || x >= width || c < 0 || c >= channels) {
      throw new IndexOutOfBoundsException("pixel (" + y + ", " + x + ", " + c + ") outside " + height + " x " + width
          + " x " + channels);
    }
    return pixels[((index * height + y) * width + x) * channels + c] & 0xff;
  }

  /** Image {@code index} as {@code H * W * C} floats with values 0..255, in HWC order. */
  public float[] example(int index) {
    float[] out = new float[exampleSize()];
    copyTo(index, out, 0, false);
    return out;
  }

  /**
   * Copies image {@code index} into {@code dst} at {@code offset} as floats 0..255 in HWC order, mirrored left to
   * right when {@code flipHorizontal} is set.
   */
  public void copyTo(int index, float[] dst, int offset, boolean flipHorizontal) {
    checkIndex(index);
    int rowLength = width * channels;
    int base = index * height * rowLength;
    for (int y = 0; y < height; y++) {
      int src = base + y * rowLength;
      int out = offset + y * rowLength;
      if (!flipHorizontal) {
        for (int i = 0; i < rowLength; i++) {
          dst[out + i] = pixels[src + i] & 0xff;
        }
      } else {
        for (int x = 0; x < width; x++) {
          int from = src + (width - 1 - x) * channels;
          for (int c = 0; c < channels; c++) {
            dst[out + x * channels + c] = pixels[from + c] & 0xff;
          }
        }
      }
    }
  }

  /** A copy of the raw bytes of image {@code index} (HWC). */
  public byte[] exampleBytes(int index) {
    checkIndex(index);
    int n = exampleSize();
    return Arrays.copyOfRange(pixels, index * n, (index + 1) * n);
  }

  /** Images {@code from} (inclusive) to {@code to} (exclusive), copied. */
  public ImageDataset subset(int from, int to) {
    if (from < 0 || to > size || from > to) {
      throw new IndexOutOfBoundsException("subset [" + from + ", " + to + ") of image dataset '" + description
          + "' with " + size + " images");
    }
    int n = exampleSize();
    return new ImageDataset(Arrays.copyOfRange(pixels, from * n, to * n), to - from, height, width, channels,
        labels == null ? null : Arrays.copyOfRange(labels, from, to), classNames,
        description + " [" + from + ", " + to + ")");
  }

  /**
   * The images of {@code parts} one after the other. All parts must have the same image shape, and either all or none
   * must have labels.
   */
  public static ImageDataset concat(List<ImageDataset> parts, String description) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("no image datasets to concatenate for '" + description + "'");
    }
    ImageDataset first = parts.get(0);
    long total = 0;
    for (ImageDataset p : parts) {
      if (p.height != first.height || p.width != first.width || p.channels != first.channels) {
        throw new IllegalArgumentException("cannot concatenate '" + p.description + "' (" + p.height + " x "
            + p.width + " x " + p.channels + ") with '" + first.description + "' (" + first.height + " x "
            + first.width + " x " + first.channels + ")");
      }
      if (p.hasLabels() != first.hasLabels()) {
        throw new IllegalArgumentException("cannot concatenate '" + p.description + "' and '" + first.description
            + "': only one of them has labels");
      }
      total += p.size;
    }
    long bytes = total * first.exampleSize();
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("'" + description + "' would hold " + bytes
          + " bytes, more than one Java array can (2^31 - 9)");
    }
    byte[] pixels = new byte[(int) bytes];
    int[] labels = first.hasLabels() ? new int[(int) total] : null;
    int at = 0;
    for (ImageDataset p : parts) {
      System.arraycopy(p.pixels, 0, pixels, at * first.exampleSize(), p.pixels.length);
      if (labels != null) {
        System.arraycopy(p.labels, 0, labels, at, p.size);
      }
      at += p.size;
    }
    return new ImageDataset(pixels, (int) total, first.height, first.width, first.channels, labels,
        first.classNames, description);
  }

  /** The description with the size, e.g. {@code mnist:/data/mnist (train): 60000 images of 28x28x1, labelled}. */
  @Override
  public String toString() {
    return description + ": " + size + " images of " + height + "x" + width + "x" + channels
        + (labels != null ? ", labelled" : "");
  }

  private int checkIndex(int index) {
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException("image " + index + " of image dataset '" + description + "' with " + size
          + " images");
    }
    return index;
  }
}
