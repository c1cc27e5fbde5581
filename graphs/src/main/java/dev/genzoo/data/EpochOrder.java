package dev.genzoo.data;

import java.util.SplittableRandom;

/**
 * The shuffled order shared by {@link ImageBatches} and {@link PointBatches}: example {@code i} of the batch at step
 * {@code s} with batch size {@code B} is at global position {@code p = s * B + i}, in epoch {@code e = p / N}, and is
 * example {@code perm_e[p mod N]}, where {@code perm_e} is a Fisher-Yates shuffle of 0..N-1 driven by a
 * {@link SplittableRandom} seeded with {@code Seeds.mix(seed, tag("perm"), e)}. Every example appears exactly once
 * per epoch. The two most recent permutations are cached (a batch spans at most two epochs when B <= N).
 */
final class EpochOrder {
  static final long PERMUTATION = Seeds.tag("perm");

  private final int size;
  private final long seed;
  private long cachedEpochA = -1;
  private int[] cachedA;
  private long cachedEpochB = -1;
  private int[] cachedB;

  EpochOrder(int size, long seed) {
    if (size <= 0) {
      throw new IllegalArgumentException("cannot shuffle an empty dataset");
    }
    this.size = size;
    this.seed = seed;
  }

  /** The dataset indices of positions {@code start .. start + n - 1}. */
  int[] indices(long start, int n) {
    if (start < 0) {
      throw new IllegalArgumentException("negative position " + start + " (negative step?)");
    }
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      long p = start + i;
      out[i] = permutation(p / size)[(int) (p % size)];
    }
    return out;
  }

  /** The permutation of epoch {@code epoch}. */
  synchronized int[] permutation(long epoch) {
    if (epoch == cachedEpochA) {
      return cachedA;
    }
    if (epoch == cachedEpochB) {
      return cachedB;
    }
    int[] perm = shuffle(size, Seeds.mix(seed, PERMUTATION, epoch));
    cachedEpochB = cachedEpochA;
    cachedB = cachedA;
    cachedEpochA = epoch;
    cachedA = perm;
    return perm;
  }

  static int[] shuffle(int n, long seed) {
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return perm;
  }
}
