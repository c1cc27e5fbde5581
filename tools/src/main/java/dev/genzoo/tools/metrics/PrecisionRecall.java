package dev.genzoo.tools.metrics;

import java.util.Arrays;

/**
 * Improved precision and recall of Kynkäänniemi et al. (2019): each feature set stands for a manifold, the union of
 * balls around its vectors whose radius is the distance to the vector's {@code k}-th nearest neighbour in the same set
 * (the vector itself not counted). Precision is the share of generated vectors inside the real manifold, recall the
 * share of real vectors inside the generated one. A vector is inside when its distance to some ball's centre is at
 * most that ball's radius, as in the reference code (which compares squared distances; so does this).
 *
 * <p>Distances are computed brute force, in chunks: {@code |x|^2 + |y|^2 - 2 x.y} with float multiply-adds summed in
 * double per block of 128 terms and the norms in double, for blocks of 64 vectors against tiles of 128 vectors of the
 * other set (transposed once), so memory stays at the two feature sets plus one transposed copy of each; membership
 * stops scanning for a block once all of its vectors are found inside. At most four all-pairs passes (two for the
 * radii, two for membership): 10,000 real and 10,000 generated 2048-d features take about 35 s on two cores.
 */
public final class PrecisionRecall {
  /** The reference's neighbourhood size. */
  public static final int DEFAULT_K = 3;
  /** Fixed task count (results independent of the core count). */
  private static final int TASKS = 32;
  /** Rows that share each tile of the other set while it is in cache (64 rows of 2048 floats: 512 KiB). */
  private static final int BLOCK = 64;

  private PrecisionRecall() {}

  /**
   * Precision and recall.
   *
   * @param precision the share of generated vectors inside the real manifold
   * @param recall the share of real vectors inside the generated manifold
   */
  public record Result(double precision, double recall) {}

  /**
   * Precision and recall of {@code fake} ({@code nf x d}, row-major) against {@code real} ({@code nr x d}) with
   * {@code k}-nearest-neighbour radii.
   *
   * @throws IllegalArgumentException for {@code k < 1}, a set of at most {@code k} vectors, wrong lengths, or NaN or
   *     infinite values
   */
  public static Result compute(float[] real, int nr, float[] fake, int nf, int d, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    FeatureStats.checkFeatures(real, nr, d, k + 1, "real features");
    FeatureStats.checkFeatures(fake, nf, d, k + 1, "generated features");
    DenseMath.PackedRows pr = new DenseMath.PackedRows(real, null, nr, d);
    DenseMath.PackedRows pf = new DenseMath.PackedRows(fake, null, nf, d);
    double[] radiiReal = kthNeighbourDistances2(real, pr, k);
    double[] radiiFake = kthNeighbourDistances2(fake, pf, k);
    int inReal = countInside(fake, nf, pf.norms, pr, radiiReal);
    int inFake = countInside(real, nr, pr.norms, pf, radiiFake);
    return new Result((double) inReal / nf, (double) inFake / nr);
  }

  /**
   * The squared distance from each of the {@code n} vectors of {@code x} to its {@code k}-th nearest neighbour in
   * {@code x}, itself excluded (so duplicates count as neighbours at distance 0).
   */
  static double[] kthNeighbourDistances2(float[] x, int n, int d, int k) {
    FeatureStats.checkFeatures(x, n, d, k + 1, "features");
    return kthNeighbourDistances2(x, new DenseMath.PackedRows(x, null, n, d), k);
  }

  private static double[] kthNeighbourDistances2(float[] x, DenseMath.PackedRows px, int k) {
    int n = px.n;
    int d = px.d;
    int blocks = (n + BLOCK - 1) / BLOCK;
    int tasks = Math.min(TASKS, blocks);
    double[] radii = new double[n];
    DenseMath.parallelFor(tasks, task -> {
      int[] offsets = new int[4];
      float[][] f = new float[4][DenseMath.PackedRows.TILE];
      double[][] out = new double[4][DenseMath.PackedRows.TILE];
      // best[r]: the k smallest distances from row r of the block to other vectors so far, ascending.
      double[][] best = new double[BLOCK][k];
      for (int blk = task; blk < blocks; blk += tasks) {
        int b0 = blk * BLOCK;
        int b1 = Math.min(n, b0 + BLOCK);
        for (int r = 0; r < b1 - b0; r++) {
          Arrays.fill(best[r], Double.POSITIVE_INFINITY);
        }
        // Tiles outside, rows inside: a tile stays in cache while the block's rows use it.
        for (int t = 0; t < px.tileCount(); t++) {
          int j0 = t * DenseMath.PackedRows.TILE;
          int w = px.tileRows(t);
          for (int i0 = b0; i0 < b1; i0 += 4) {
            int count = Math.min(4, b1 - i0);
            for (int r = 0; r < count; r++) {
              offsets[r] = (i0 + r) * d;
            }
            DenseMath.dots4(x, offsets, count, px, t, f, out);
            for (int r = 0; r < count; r++) {
              int i = i0 + r;
              double ni = px.norms[i];
              double[] o = out[r];
              double[] b = best[i - b0];
              for (int jj = 0; jj < w; jj++) {
                int j = j0 + jj;
                if (j == i) {
                  continue;
                }
                double d2 = Math.max(0, ni + px.norms[j] - 2 * o[jj]);
                if (d2 < b[k - 1]) {
                  int p = k - 1;
                  while (p > 0 && b[p - 1] > d2) {
                    b[p] = b[p - 1];
                    p--;
                  }
                  b[p] = d2;
                }
              }
            }
          }
        }
        for (int i = b0; i < b1; i++) {
          radii[i] = best[i - b0][k - 1];
        }
      }
    });
    return radii;
  }

  /**
   * How many of the {@code n} vectors of {@code x} lie in some ball of {@code centres}: squared distance to centre
   * {@code j} at most {@code radii2[j]}.
   */
  private static int countInside(float[] x, int n, double[] xNorms, DenseMath.PackedRows centres, double[] radii2) {
    int d = centres.d;
    int blocks = (n + BLOCK - 1) / BLOCK;
    int tasks = Math.min(TASKS, blocks);
    int[] counts = new int[tasks];
    DenseMath.parallelFor(tasks, task -> {
      int[] offsets = new int[4];
      float[][] f = new float[4][DenseMath.PackedRows.TILE];
      double[][] out = new double[4][DenseMath.PackedRows.TILE];
      boolean[] inside = new boolean[BLOCK];
      int found = 0;
      for (int blk = task; blk < blocks; blk += tasks) {
        int b0 = blk * BLOCK;
        int b1 = Math.min(n, b0 + BLOCK);
        Arrays.fill(inside, false);
        int left = b1 - b0;
        for (int t = 0; t < centres.tileCount() && left > 0; t++) {
          int j0 = t * DenseMath.PackedRows.TILE;
          int w = centres.tileRows(t);
          for (int i0 = b0; i0 < b1; i0 += 4) {
            int count = Math.min(4, b1 - i0);
            boolean open = false;
            for (int r = 0; r < count; r++) {
              offsets[r] = (i0 + r) * d;
              open |= !inside[i0 + r - b0];
            }
            if (!open) {
              continue;
            }
            DenseMath.dots4(x, offsets, count, centres, t, f, out);
            for (int r = 0; r < count; r++) {
              if (inside[i0 + r - b0]) {
                continue;
              }
              double ni = xNorms[i0 + r];
              double[] o = out[r];
              for (int jj = 0; jj < w; jj++) {
                int j = j0 + jj;
                double d2 = Math.max(0, ni + centres.norms[j] - 2 * o[jj]);
                if (d2 <= radii2[j]) {
                  inside[i0 + r - b0] = true;
                  left--;
                  break;
                }
              }
            }
          }
        }
        found += (b1 - b0) - left;
      }
      counts[task] = found;
    });
    int total = 0;
    for (int c : counts) {
      total += c;
    }
    return total;
  }
}
