package dev.genzoo.data;

import java.util.SplittableRandom;

/**
 * Training batches from a {@link ToyDistribution}: the batch at step s is {@code toy.sample(rng, B)} with
 * {@code rng = new SplittableRandom(Seeds.mix(seed, s))}, fresh samples at every step and the same ones for the same
 * step.
 */
public final class ToyBatches implements BatchSource {
  private final ToyDistribution toy;
  private final long seed;

  /** Batches of {@code toy} under the run's {@code seed}. */
  public ToyBatches(ToyDistribution toy, long seed) {
    this.toy = toy;
    this.seed = seed;
  }

  /** The distribution sampled. */
  public ToyDistribution toy() {
    return toy;
  }

  @Override
  public long[] exampleShape() {
    return new long[] {toy.dim()};
  }

  @Override
  public Batch batch(long step, int batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size " + batchSize + " must be positive");
    }
    if (step < 0) {
      throw new IllegalArgumentException("step " + step + " must be >= 0");
    }
    float[] x = toy.sample(new SplittableRandom(Seeds.mix(seed, step)), batchSize);
    return new Batch(x, new long[] {batchSize, toy.dim()}, null);
  }

  @Override
  public String describe() {
    return "toy:" + toy.name() + " (seed " + seed + ")";
  }
}
