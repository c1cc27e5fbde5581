package dev.genzoo.tools.metrics;

import java.util.SplittableRandom;

/**
 * The Kernel Inception Distance of Bińkowski et al. (2018, "Demystifying MMD GANs"): the unbiased estimate of the
 * squared maximum mean discrepancy between two feature sets under the polynomial kernel
 * {@code k(x, y) = (x.y / d + 1)^3}, averaged over {@code subsets} random subsets of {@code m = min(subsetSize, na,
 * nb)} vectors drawn without replacement from each set (the reference code's {@code polynomial_mmd_averages}, with its
 * defaults of 100 subsets of 1000). For subsets {@code X}, {@code Y} of size {@code m}:
 * {@code MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
 * - 2 sum_{i, j} k(x_i, y_j) / m^2}.
 *
 * <p>The subsets come from a {@link SplittableRandom} seeded with {@code seed}, so a result is reproducible; the dot
 * products are float multiply-adds summed in double per block (like the reference's float32 features), the kernel
 * and the sums in double, split over a fixed number of tasks whose partial sums are added in order, so the result does
 * not depend on the number of cores. Cost: about {@code 2 m^2 d} multiply-adds per subset; the defaults (100 subsets of
 * 1000) on 2048-d features take about 17 s on two cores.
 */
public final class Kid {
  /** The reference code's number of subsets. */
  public static final int DEFAULT_SUBSETS = 100;
  /** The reference code's subset size. */
  public static final int DEFAULT_SUBSET_SIZE = 1000;
  /** Fixed task count for the kernel sums (results independent of the core count). */
  private static final int TASKS = 16;
  /** Rows that share each tile of the other set while it is in cache. */
  private static final int BLOCK = 64;

  private Kid() {}

  /**
   * The estimate.
   *
   * @param mean the mean of the subsets' MMD^2 estimates: the KID
   * @param stderr its standard error, {@code s / sqrt(subsets)} with {@code s} the sample standard deviation of the
   *     estimates (NaN for a single subset)
   * @param std the population standard deviation of the estimates ({@code numpy.std}), which the reference code and
   *     torch-fidelity report next to the mean
   * @param subsetSize the size {@code m} of every subset
   * @param values the subsets' MMD^2 estimates, in order
   */
  public record Result(double mean, double stderr, double std, int subsetSize, double[] values) {
    /** A result with only the mean and its standard error. */
    public Result(double mean, double stderr) {
      this(mean, stderr, Double.NaN, 0, new double[0]);
    }
  }

  /**
   * The KID between {@code a} ({@code na x d}, row-major) and {@code b} ({@code nb x d}).
   *
   * @throws IllegalArgumentException for fewer than 2 vectors in a set, a wrong length, NaN or infinite values,
   *     {@code subsets < 1} or {@code subsetSize < 2}
   */
  public static Result compute(float[] a, int na, float[] b, int nb, int d, int subsets, int subsetSize, long seed) {
    FeatureStats.checkFeatures(a, na, d, 2, "first feature set");
    FeatureStats.checkFeatures(b, nb, d, 2, "second feature set");
    if (subsets < 1) {
      throw new IllegalArgumentException("KID needs at least 1 subset, got " + subsets);
    }
    if (subsetSize < 2) {
      throw new IllegalArgumentException("KID subsets need at least 2 vectors, got a subset size of " + subsetSize);
    }
    int m = Math.min(subsetSize, Math.min(na, nb));
    SplittableRandom rng = new SplittableRandom(seed);
    int[] permA = identity(na);
    int[] permB = identity(nb);
    double[] values = new double[subsets];
    for (int s = 0; s < subsets; s++) {
      int[] ia = draw(rng, permA, m);
      int[] ib = draw(rng, permB, m);
      values[s] = mmd2Unchecked(a, ia, b, ib, d);
    }
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= subsets;
    double ss = 0;
    for (double v : values) {
      ss += (v - mean) * (v - mean);
    }
    double std = Math.sqrt(ss / subsets);
    double stderr = subsets > 1 ? Math.sqrt(ss / (subsets - 1)) / Math.sqrt(subsets) : Double.NaN;
    return new Result(mean, stderr, std, m, values);
  }

  /**
   * The rows of each subset that {@link #compute} draws for these arguments: {@code [2 s]} from the first set and
   * {@code [2 s + 1]} from the second, for subset {@code s}.
   */
  public static int[][] subsetRows(int na, int nb, int subsets, int subsetSize, long seed) {
    int m = Math.min(subsetSize, Math.min(na, nb));
    SplittableRandom rng = new SplittableRandom(seed);
    int[] permA = identity(na);
    int[] permB = identity(nb);
    int[][] out = new int[2 * subsets][];
    for (int s = 0; s < subsets; s++) {
      out[2 * s] = draw(rng, permA, m);
      out[2 * s + 1] = draw(rng, permB, m);
    }
    return out;
  }

  /**
   * The unbiased MMD^2 estimate with the polynomial kernel between the rows {@code rowsA} of {@code a} and the rows
   * {@code rowsB} of {@code b} (each {@code d} floats; {@code null} means every row). Sets of different sizes use
   * {@code m_x (m_x - 1)}, {@code m_y (m_y - 1)} and {@code m_x m_y} as the denominators.
   */
  public static double mmd2(float[] a, int[] rowsA, float[] b, int[] rowsB, int d) {
    if (d < 1 || a.length % d != 0 || b.length % d != 0) {
      throw new IllegalArgumentException("feature arrays of " + a.length + " and " + b.length + " values are not "
          + "rows of " + d);
    }
    int[] ia = rowsA == null ? identity(a.length / d) : rowsA;
    int[] ib = rowsB == null ? identity(b.length / d) : rowsB;
    if (ia.length < 2 || ib.length < 2) {
      throw new IllegalArgumentException("the unbiased MMD needs at least 2 vectors per set, got " + ia.length
          + " and " + ib.length);
    }
    checkRows(ia, a.length / d);
    checkRows(ib, b.length / d);
    return mmd2Unchecked(a, ia, b, ib, d);
  }

  private static void checkRows(int[] rows, int n) {
    for (int r : rows) {
      if (r < 0 || r >= n) {
        throw new IllegalArgumentException("row " + r + " is outside a set of " + n + " vectors");
      }
    }
  }

  private static double mmd2Unchecked(float[] a, int[] ia, float[] b, int[] ib, int d) {
    int mx = ia.length;
    int my = ib.length;
    DenseMath.PackedRows pa = new DenseMath.PackedRows(a, ia, mx, d);
    DenseMath.PackedRows pb = new DenseMath.PackedRows(b, ib, my, d);
    double kxx = 2 * kernelSum(a, ia, pa, d, true);
    double kyy = 2 * kernelSum(b, ib, pb, d, true);
    double kxy = kernelSum(a, ia, pb, d, false);
    return kxx / ((double) mx * (mx - 1)) + kyy / ((double) my * (my - 1)) - 2 * kxy / ((double) mx * my);
  }

  /**
   * The sum of {@code (x_i . y_j / d + 1)^3} over rows {@code i} of {@code x} (by {@code rows}) and {@code j} of the
   * packed {@code y}; with {@code strictUpper} ({@code y} the same set) only over {@code j > i}.
   */
  private static double kernelSum(float[] x, int[] rows, DenseMath.PackedRows y, int d, boolean strictUpper) {
    int n = rows.length;
    int blocks = (n + BLOCK - 1) / BLOCK;
    double[] partial = new double[TASKS];
    double invD = 1.0 / d;
    DenseMath.parallelFor(Math.min(TASKS, blocks), task -> {
      int tasks = Math.min(TASKS, blocks);
      int[] offsets = new int[4];
      float[][] f = new float[4][DenseMath.PackedRows.TILE];
      double[][] out = new double[4][DenseMath.PackedRows.TILE];
      double sum = 0;
      for (int blk = task; blk < blocks; blk += tasks) {
        int b0 = blk * BLOCK;
        int b1 = Math.min(n, b0 + BLOCK);
        // Tiles outside, rows inside: a tile stays in cache while the block's rows use it.
        for (int t = 0; t < y.tileCount(); t++) {
          int j0 = t * DenseMath.PackedRows.TILE;
          int w = y.tileRows(t);
          for (int i0 = b0; i0 < b1; i0 += 4) {
            if (strictUpper && j0 + w <= i0 + 1) {
              continue;
            }
            int count = Math.min(4, b1 - i0);
            for (int r = 0; r < count; r++) {
              offsets[r] = rows[i0 + r] * d;
            }
            DenseMath.dots4(x, offsets, count, y, t, f, out);
            for (int r = 0; r < count; r++) {
              double[] o = out[r];
              int start = strictUpper ? Math.max(0, i0 + r + 1 - j0) : 0;
              for (int jj = start; jj < w; jj++) {
                double k = o[jj] * invD + 1;
                sum += k * k * k;
              }
            }
          }
        }
      }
      partial[task] = sum;
    });
    double total = 0;
    for (double p : partial) {
      total += p;
    }
    return total;
  }

  private static int[] identity(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    return p;
  }

  /** {@code m} distinct rows, uniformly: a partial Fisher-Yates shuffle of {@code perm}, whose first m it returns. */
  private static int[] draw(SplittableRandom rng, int[] perm, int m) {
    for (int i = 0; i < m; i++) {
      int j = i + rng.nextInt(perm.length - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return java.util.Arrays.copyOf(perm, m);
  }
}
