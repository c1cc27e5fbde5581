package dev.genzoo.tools.metrics;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Dense kernels for the metrics, in pure Java: matrices are jagged arrays of rows ({@code double[][]}) so that the
 * inner loops run over one index in every array, which HotSpot's C2 compiles to SIMD instructions (loops whose arrays
 * carry different offsets are not vectorised by JDK 17). Work is split over the cores with the common fork-join
 * pool.
 */
final class DenseMath {
  /** Worker count: the cores the JVM sees. */
  static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

  /** Columns per block in {@link #multiplyAdd}: a row segment of 4 KiB. */
  private static final int JB = 512;
  /** Inner-dimension block in {@link #multiplyAdd}: a 256 x 512 block of B is 1 MiB, which stays in L2. */
  private static final int KB = 256;

  private DenseMath() {}

  /** Runs {@code body(0..tasks-1)}, in parallel when there is more than one task and more than one core. */
  static void parallelFor(int tasks, IntConsumer body) {
    if (tasks <= 0) {
      return;
    }
    if (tasks == 1 || THREADS == 1) {
      for (int t = 0; t < tasks; t++) {
        body.accept(t);
      }
    } else {
      IntStream.range(0, tasks).parallel().forEach(body);
    }
  }

  /** The rows of a row-major {@code n x m} matrix, copied. */
  static double[][] rows(double[] flat, int n, int m) {
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = new double[m];
      System.arraycopy(flat, i * m, a[i], 0, m);
    }
    return a;
  }

  /** The row-major flat copy of an {@code n x m} matrix. */
  static double[] flat(double[][] a, int n, int m) {
    double[] out = new double[Math.multiplyExact(n, m)];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, out, i * m, m);
    }
    return out;
  }

  /** The transpose of an {@code n x m} matrix, in 64 x 64 tiles. */
  static double[][] transpose(double[][] a, int n, int m) {
    double[][] t = new double[m][n];
    final int b = 64;
    for (int i0 = 0; i0 < n; i0 += b) {
      int i1 = Math.min(n, i0 + b);
      for (int j0 = 0; j0 < m; j0 += b) {
        int j1 = Math.min(m, j0 + b);
        for (int i = i0; i < i1; i++) {
          double[] ai = a[i];
          for (int j = j0; j < j1; j++) {
            t[j][i] = ai[j];
          }
        }
      }
    }
    return t;
  }

  /** {@code C = A B} for {@code A} of {@code n x k} and {@code B} of {@code k x m}. */
  static double[][] multiply(double[][] a, double[][] b, int n, int k, int m) {
    double[][] c = new double[n][m];
    multiplyAdd(a, b, c, n, k, m, false);
    return c;
  }

  /**
   * {@code C += A B} for {@code A} of {@code n x k}, {@code B} of {@code k x m}. With {@code upper}, only the blocks of
   * C on or above the diagonal are updated (each row {@code i} at least from column {@code i - 3}), for symmetric
   * products whose lower triangle is mirrored afterwards. Rows go to the workers in groups of four that share every
   * load of B; B is walked in blocks that stay in cache.
   */
  static void multiplyAdd(double[][] a, double[][] b, double[][] c, int n, int k, int m, boolean upper) {
    int groups = (n + 3) / 4;
    // Interleaved groups balance the triangle of an upper-only product.
    int tasks = Math.min(groups, THREADS * 8);
    parallelFor(tasks, t -> {
      for (int jb = 0; jb < m; jb += JB) {
        int je = Math.min(m, jb + JB);
        for (int kb = 0; kb < k; kb += KB) {
          int ke = Math.min(k, kb + KB);
          for (int g = t; g < groups; g += tasks) {
            int i = 4 * g;
            int js = upper ? Math.max(jb, i) : jb;
            if (js >= je) {
              continue;
            }
            if (i + 4 <= n) {
              kernel4(a[i], a[i + 1], a[i + 2], a[i + 3], c[i], c[i + 1], c[i + 2], c[i + 3], b, kb, ke, js, je);
            } else {
              for (int r = i; r < n; r++) {
                kernel1(a[r], c[r], b, kb, ke, js, je);
              }
            }
          }
        }
      }
    });
  }

  private static void kernel4(double[] a0, double[] a1, double[] a2, double[] a3, double[] c0, double[] c1,
      double[] c2, double[] c3, double[][] b, int kb, int ke, int jb, int je) {
    for (int k = kb; k < ke; k++) {
      double x0 = a0[k];
      double x1 = a1[k];
      double x2 = a2[k];
      double x3 = a3[k];
      double[] bk = b[k];
      for (int j = jb; j < je; j++) {
        double v = bk[j];
        c0[j] += x0 * v;
        c1[j] += x1 * v;
        c2[j] += x2 * v;
        c3[j] += x3 * v;
      }
    }
  }

  private static void kernel1(double[] a0, double[] c0, double[][] b, int kb, int ke, int jb, int je) {
    for (int k = kb; k < ke; k++) {
      double x0 = a0[k];
      double[] bk = b[k];
      for (int j = jb; j < je; j++) {
        c0[j] += x0 * bk[j];
      }
    }
  }

  /** Copies the upper triangle of a square matrix onto its lower triangle. */
  static void mirrorUpper(double[][] c, int n) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < i; j++) {
        c[i][j] = c[j][i];
      }
    }
  }

  /**
   * Float feature vectors packed for dot products: the rows of an {@code n x d} matrix transposed in tiles of
   * {@link #TILE} rows, so that the dot products of one vector with a whole tile are {@code d} SIMD multiply-adds
   * over contiguous memory. The last tile is padded with zero rows.
   */
  static final class PackedRows {
    static final int TILE = 128;
    final int n;
    final int d;
    /** tiles[t][k][jj] = x[(t * TILE + jj) * d + k]. */
    final float[][][] tiles;
    /** Squared norms of the rows, accumulated in double. */
    final double[] norms;

    PackedRows(float[] x, int[] rows, int n, int d) {
      this.n = n;
      this.d = d;
      int count = (n + TILE - 1) / TILE;
      tiles = new float[count][][];
      norms = new double[n];
      parallelFor(count, t -> {
        float[][] tile = new float[d][TILE];
        int j0 = t * TILE;
        int j1 = Math.min(n, j0 + TILE);
        for (int j = j0; j < j1; j++) {
          int off = (rows == null ? j : rows[j]) * d;
          double s = 0;
          for (int k = 0; k < d; k++) {
            float v = x[off + k];
            tile[k][j - j0] = v;
            s += (double) v * v;
          }
          norms[j] = s;
        }
        tiles[t] = tile;
      });
    }

    int tileCount() {
      return tiles.length;
    }

    /** Rows in tile {@code t}. */
    int tileRows(int t) {
      return Math.min(TILE, n - t * TILE);
    }
  }

  /** Inner-dimension block: products are summed in float over this many terms, then in double. */
  private static final int DOT_BLOCK = 128;

  /**
   * The dot products of up to four rows of {@code x} ({@code rows[0..count-1]} are row offsets into {@code x}, each
   * {@code d} floats) with every row of tile {@code t} of {@code y}, into {@code out[r][jj]} (double; float products
   * summed in float over blocks of {@value #DOT_BLOCK} terms, the blocks in double). {@code f} is scratch of four
   * tiles' width.
   */
  static void dots4(float[] x, int[] offsets, int count, PackedRows y, int t, float[][] f, double[][] out) {
    float[][] tile = y.tiles[t];
    int d = y.d;
    final int w = PackedRows.TILE;
    float[] f0 = f[0];
    float[] f1 = f[1];
    float[] f2 = f[2];
    float[] f3 = f[3];
    double[] o0 = out[0];
    double[] o1 = out[1];
    double[] o2 = out[2];
    double[] o3 = out[3];
    java.util.Arrays.fill(o0, 0);
    java.util.Arrays.fill(o1, 0);
    java.util.Arrays.fill(o2, 0);
    java.util.Arrays.fill(o3, 0);
    int p0 = offsets[0];
    int p1 = count > 1 ? offsets[1] : p0;
    int p2 = count > 2 ? offsets[2] : p0;
    int p3 = count > 3 ? offsets[3] : p0;
    for (int k0 = 0; k0 < d; k0 += DOT_BLOCK) {
      int k1 = Math.min(d, k0 + DOT_BLOCK);
      java.util.Arrays.fill(f0, 0f);
      java.util.Arrays.fill(f1, 0f);
      java.util.Arrays.fill(f2, 0f);
      java.util.Arrays.fill(f3, 0f);
      for (int k = k0; k < k1; k++) {
        float x0 = x[p0 + k];
        float x1 = x[p1 + k];
        float x2 = x[p2 + k];
        float x3 = x[p3 + k];
        float[] tk = tile[k];
        for (int j = 0; j < w; j++) {
          float v = tk[j];
          f0[j] += x0 * v;
          f1[j] += x1 * v;
          f2[j] += x2 * v;
          f3[j] += x3 * v;
        }
      }
      for (int j = 0; j < w; j++) {
        o0[j] += f0[j];
        o1[j] += f1[j];
        o2[j] += f2[j];
        o3[j] += f3[j];
      }
    }
  }
}
