package dev.genzoo.data;

/**
 * Training batches over a finite set of N points of dimension D (for example an {@code (N, D)} float array from a
 * {@code .npy} file), shuffled epoch by epoch exactly like {@link ImageBatches}: example i of step s is point
 * {@code perm_e[p mod N]} with {@code p = s * B + i}, {@code e = p / N}.
 */
public final class PointBatches implements BatchSource {
  private final float[] points;
  private final int size;
  private final int dim;
  private final long seed;
  private final String description;
  private final EpochOrder order;

  /**
   * @param points {@code size * dim} values, row-major (taken over, not copied)
   * @param seed the run's seed; the epoch permutations derive from it with {@link Seeds#mix}
   * @param description where the points came from, for logs
   */
  public PointBatches(float[] points, int size, int dim, long seed, String description) {
    if (size <= 0 || dim <= 0 || (long) size * dim != points.length) {
      throw new IllegalArgumentException("point set '" + description + "': " + points.length + " values do not make "
          + size + " points of dimension " + dim);
    }
    this.points = points;
    this.size = size;
    this.dim = dim;
    this.seed = seed;
    this.description = description;
    this.order = new EpochOrder(size, seed);
  }

  @Override
  public long[] exampleShape() {
    return new long[] {dim};
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
    float[] x = new float[batchSize * dim];
    for (int i = 0; i < batchSize; i++) {
      System.arraycopy(points, indices[i] * dim, x, i * dim, dim);
    }
    return new Batch(x, new long[] {batchSize, dim}, null);
  }

  /** The point indices of {@code batch(step, batchSize)}, in batch order. */
  public int[] indices(long step, int batchSize) {
    return order.indices(Math.multiplyExact(step, (long) batchSize), batchSize);
  }

  @Override
  public String describe() {
    return description + " (" + size + " points of dimension " + dim + ", seed " + seed + ")";
  }
}
