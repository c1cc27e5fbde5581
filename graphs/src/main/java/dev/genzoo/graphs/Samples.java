package dev.genzoo.graphs;

import java.util.Arrays;

/**
 * Samples on the host: {@code data} row-major with shape {@code shape} (batch first). Images are NHWC with values in
 * [0, 1]; points of a d-dimensional model are [N, d] in the data's own coordinates.
 */
public record Samples(float[] data, long[] shape) {
  public Samples {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException("samples have " + data.length + " values, shape " + Arrays.toString(shape)
          + " needs " + n);
    }
  }

  public int count() {
    return (int) shape[0];
  }

  /** True for [N, H, W, C] images. */
  public boolean isImages() {
    return shape.length == 4;
  }
}
