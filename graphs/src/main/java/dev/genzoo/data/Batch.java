package dev.genzoo.data;

import java.util.Arrays;

/**
 * One batch of examples on the host: {@code x} in row-major order with shape {@code shape} (batch first; images are
 * NHWC), and optional integer class labels (null when the data has none).
 *
 * <p>Images are on the 8-bit scale: values in {0..255}, or in [0, 256) after uniform dequantisation. Each family maps
 * them to its own model space (a flow to [-0.5, 0.5), DDPM to [-1, 1], ...).
 */
public record Batch(float[] x, long[] shape, int[] labels) {
  public Batch {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != x.length) {
      throw new IllegalArgumentException("batch data has " + x.length + " values, shape " + Arrays.toString(shape)
          + " needs " + n);
    }
    if (labels != null && labels.length != shape[0]) {
      throw new IllegalArgumentException("batch has " + shape[0] + " examples but " + labels.length + " labels");
    }
  }

  public int size() {
    return (int) shape[0];
  }

  /** The shape of one example (the shape without the batch dimension). */
  public long[] exampleShape() {
    return Arrays.copyOfRange(shape, 1, shape.length);
  }
}
