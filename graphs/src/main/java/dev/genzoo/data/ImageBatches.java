package dev.genzoo.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Training batches over an {@link ImageDataset}, as a pure function of the step (see {@link BatchSource}).
 *
 * <p>Order: example i of step s is {@code perm_e[p mod N]} with {@code p = s * B + i} and {@code e = p / N}, where
 * {@code perm_e} is the shuffle of epoch e seeded from {@code (seed, e)}; so every example appears exactly once per
 * epoch. Augmentation: a generator seeded with {@code Seeds.mix(seed, tag("augment"), s)} decides, image by image
 * in batch order, a horizontal flip with probability 1/2 (when {@code randomFlip}) and then draws the uniform
 * dequantisation noise {@code u ~ U[0, 1)} of every value (when {@code dequantize}), giving values in [x, x + 1)
 * for a pixel x, so in [0, 256) (Theis, van den Oord and Bethge, "A note on the evaluation of generative models",
 * ICLR 2016; Dinh et al., RealNVP, 2017). Without dequantisation the values are the integers 0..255.
 * Labels, when the dataset has them, are carried.
 */
public final class ImageBatches implements BatchSource {
  static final long AUGMENT = Seeds.tag("augment");
  static final long EVAL = Seeds.tag("eval");

  private final ImageDataset dataset;
  private final long seed;
  private final boolean dequantize;
  private final boolean randomFlip;
  private final EpochOrder order;

  /**
   * @param seed the run's seed; permutations and augmentations derive from it with {@link Seeds#mix}
   * @param dequantize add {@code u ~ U[0, 1)} to every value
   * @param randomFlip mirror each image left to right with probability 1/2
   */
  public ImageBatches(ImageDataset dataset, long seed, boolean dequantize, boolean randomFlip) {
    if (dataset.size() == 0) {
      throw new IllegalArgumentException("image dataset '" + dataset.description() + "' is empty: no batches");
    }
    this.dataset = dataset;
    this.seed = seed;
    this.dequantize = dequantize;
    this.randomFlip = randomFlip;
    this.order = new EpochOrder(dataset.size(), seed);
  }

  /** The images batched. */
  public ImageDataset dataset() {
    return dataset;
  }

  @Override
  public long[] exampleShape() {
    return dataset.exampleShape();
  }

  @Override
  public Batch batch(long step, int batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size " + batchSize + " must be positive");
    }
    if (step < 0) {
      throw new IllegalArgumentException("step " + step + " must be >= 0");
    }
    int[] indices = order.indices(Math.multiplyExact(step, (long) batchSize), batchSize);
    SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, AUGMENT, step));
    return assemble(indices, rng, randomFlip, dequantize);
  }

  /** The dataset indices of the examples of {@code batch(step, batchSize)}, in batch order. */
  public int[] indices(long step, int batchSize) {
    return order.indices(Math.multiplyExact(step, (long) batchSize), batchSize);
  }

  /**
   * One pass over the whole dataset for evaluation: every example exactly once, in dataset order, in batches of
   * {@code batchSize} (the last one may be smaller), never flipped; with dequantisation noise when
   * {@code dequantize}, batch k's from a generator seeded with {@code Seeds.mix(noiseSeed, tag("eval"), k)}. Each
   * iteration starts the same pass again.
   */
  public Iterable<Batch> evalBatches(int batchSize, long noiseSeed, boolean dequantize) {
    return evalBatches(dataset, batchSize, noiseSeed, dequantize);
  }

  /** {@link #evalBatches(int, long, boolean)} for any image dataset. */
  public static Iterable<Batch> evalBatches(ImageDataset dataset, int batchSize, long noiseSeed,
      boolean dequantize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size " + batchSize + " must be positive");
    }
    return () -> new Iterator<>() {
      private int next;
      private long k;

      @Override
      public boolean hasNext() {
        return next < dataset.size();
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int n = Math.min(batchSize, dataset.size() - next);
        int[] indices = new int[n];
        for (int i = 0; i < n; i++) {
          indices[i] = next + i;
        }
        next += n;
        SplittableRandom rng = new SplittableRandom(Seeds.mix(noiseSeed, EVAL, k++));
        return assemble(dataset, indices, rng, false, dequantize);
      }
    };
  }

  @Override
  public String describe() {
    return dataset + (dequantize ? ", dequantized" : "") + (randomFlip ? ", random flips" : "") + ", seed " + seed;
  }

  private Batch assemble(int[] indices, SplittableRandom rng, boolean flip, boolean noise) {
    return assemble(dataset, indices, rng, flip, noise);
  }

  private static Batch assemble(ImageDataset dataset, int[] indices, SplittableRandom rng, boolean flip,
      boolean noise) {
    int size = dataset.exampleSize();
    float[] x = new float[indices.length * size];
    int[] labels = dataset.hasLabels() ? new int[indices.length] : null;
    for (int i = 0; i < indices.length; i++) {
      boolean flipThis = flip && rng.nextBoolean();
      dataset.copyTo(indices[i], x, i * size, flipThis);
      if (noise) {
        for (int j = i * size; j < (i + 1) * size; j++) {
          x[j] = dequantized(x[j], rng.nextDouble());
        }
      }
      if (labels != null) {
        labels[i] = dataset.label(indices[i]);
      }
    }
    long[] shape = {indices.length, dataset.height(), dataset.width(), dataset.channels()};
    return new Batch(x, shape, labels);
  }

  /** {@code x + u} as a float strictly below {@code x + 1} (rounding to float could otherwise reach it). */
  static float dequantized(float x, double u) {
    float v = (float) (x + u);
    return v < x + 1 ? v : Math.nextDown(x + 1);
  }
}
