package dev.genzoo.data;

import java.util.Arrays;

/**
 * What a {@link DataSpec} opened to: images ({@link Images}), a toy distribution ({@link Toy}) or a finite set of
 * points ({@link Points}), each with a factory for training batches.
 */
public sealed interface LoadedData permits LoadedData.Images, LoadedData.Toy, LoadedData.Points {
  /** A one-line description for logs and provenance. */
  String describe();

  /** The shape of one example: {@code {H, W, C}} for images, {@code {D}} for toys and points. */
  long[] exampleShape();

  /**
   * Training batches, a pure function of the step. {@code dequantize} and {@code randomFlip} apply to images only
   * (see {@link ImageBatches}) and are ignored for toys and points.
   */
  BatchSource batches(long seed, boolean dequantize, boolean randomFlip);

  /** An image dataset. */
  record Images(ImageDataset dataset) implements LoadedData {
    @Override
    public String describe() {
      return dataset.toString();
    }

    @Override
    public long[] exampleShape() {
      return dataset.exampleShape();
    }

    @Override
    public BatchSource batches(long seed, boolean dequantize, boolean randomFlip) {
      return new ImageBatches(dataset, seed, dequantize, randomFlip);
    }
  }

  /** A toy distribution, sampled afresh at every step. */
  record Toy(ToyDistribution distribution) implements LoadedData {
    @Override
    public String describe() {
      return "toy:" + distribution.name();
    }

    @Override
    public long[] exampleShape() {
      return new long[] {distribution.dim()};
    }

    @Override
    public BatchSource batches(long seed, boolean dequantize, boolean randomFlip) {
      return new ToyBatches(distribution, seed);
    }
  }

  /** {@code size} points of dimension {@code dim}, row-major in {@code values} (treat as read-only). */
  record Points(float[] values, int size, int dim, String description) implements LoadedData {
    public Points {
      if (size <= 0 || dim <= 0 || (long) size * dim != values.length) {
        throw new IllegalArgumentException("point set '" + description + "': " + values.length
            + " values do not make " + size + " points of dimension " + dim);
      }
    }

    /** Point {@code i} (a copy). */
    public float[] point(int i) {
      return Arrays.copyOfRange(values, i * dim, (i + 1) * dim);
    }

    @Override
    public String describe() {
      return description + " (" + size + " points of dimension " + dim + ")";
    }

    @Override
    public long[] exampleShape() {
      return new long[] {dim};
    }

    @Override
    public BatchSource batches(long seed, boolean dequantize, boolean randomFlip) {
      return new PointBatches(values, size, dim, seed, description);
    }
  }
}
