package dev.genzoo.tools.metrics;

import java.util.Arrays;

/**
 * The eigendecomposition {@code A = V diag(lambda) V^T} of a real symmetric matrix, in double precision and pure
 * Java: Householder reduction to a symmetric tridiagonal matrix, then the implicit QL algorithm with Wilkinson
 * shifts (Golub and Van Loan, Matrix Computations, sections 8.3 and 8.3.5; Wilkinson and Reinsch's tql2 uses QL in
 * the same way). The eigenvalues are returned in ascending order with orthonormal eigenvectors.
 *
 * <p>Cost and speed: about {@code 4/3 n^3} flops for the reduction, as much again to accumulate its reflectors, and
 * roughly {@code 5 n^3} for the QL rotations when eigenvectors are wanted; {@link #eigenvalues} skips the last two.
 * The reduction fuses each step's rank-2 update with the next step's matrix-vector product (one pass over the
 * trailing matrix per step), and the QL rotations are buffered and applied to narrow column blocks of the eigenvector
 * matrix that stay in cache. A 2048 x 2048 decomposition with eigenvectors takes about 6 s on two cores
 * (10 s of CPU time), eigenvalues alone about 1 s.
 *
 * <p>Accuracy: absolute, about {@code n * 1e-16 * ||A||} per eigenvalue, so eigenvalues of a positive semi-definite
 * matrix that should be 0 come out as tiny numbers of either sign (callers clip them).
 */
public final class SymmetricEigen {
  private static final double EPS = Math.ulp(1.0);
  private static final int MAX_SWEEPS_PER_EIGENVALUE = 60;
  /** Column block of the eigenvector matrix that the buffered rotations are applied to (n x 128 doubles); shorter loops are not worth vectorising. */
  private static final int ROTATION_BLOCK = 128;
  /** Rotations buffered before they are applied. */
  private static final int ROTATION_BUFFER = 1 << 17;

  private final int n;
  private final double[] values;
  private final double[][] vectors;

  private SymmetricEigen(int n, double[] values, double[][] vectors) {
    this.n = n;
    this.values = values;
    this.vectors = vectors;
  }

  /**
   * Decomposes the symmetric {@code n x n} matrix {@code a} (row-major). The matrix must be symmetric up to round-off
   * (relative asymmetry at most 1e-6); its symmetric part {@code (A + A^T) / 2} is decomposed.
   *
   * @throws IllegalArgumentException for a wrong length, a NaN or infinite entry, or an asymmetric matrix
   * @throws ArithmeticException if the QL iteration does not converge (not seen for finite input)
   */
  public static SymmetricEigen of(double[] a, int n) {
    double[][] m = symmetricRows(a, n, "matrix");
    Tridiagonal t = tridiagonalize(m, n, true);
    double[][] zt = t.accumulate(m);
    ql(t.d, t.e, n, zt);
    return sorted(n, t.d, zt);
  }

  /** The eigenvalues of the symmetric {@code n x n} matrix {@code a} (row-major), ascending; see {@link #of}. */
  public static double[] eigenvalues(double[] a, int n) {
    double[][] m = symmetricRows(a, n, "matrix");
    return eigenvaluesOfRows(m, n);
  }

  /** Eigenvalues of a symmetric matrix given as rows (overwritten), ascending. */
  static double[] eigenvaluesOfRows(double[][] m, int n) {
    Tridiagonal t = tridiagonalize(m, n, false);
    ql(t.d, t.e, n, null);
    double[] d = t.d;
    Arrays.sort(d);
    return d;
  }

  /** Full decomposition of a symmetric matrix given as rows (overwritten). */
  static SymmetricEigen ofRows(double[][] m, int n) {
    Tridiagonal t = tridiagonalize(m, n, true);
    double[][] zt = t.accumulate(m);
    ql(t.d, t.e, n, zt);
    return sorted(n, t.d, zt);
  }

  /** The order of the matrix. */
  public int size() {
    return n;
  }

  /** The eigenvalues in ascending order (a copy). */
  public double[] values() {
    return values.clone();
  }

  /** The unit eigenvector of {@link #values()}{@code [i]} (a copy). */
  public double[] vector(int i) {
    return vectors[i].clone();
  }

  /** The eigenvectors as the rows of a row-major {@code n x n} matrix, i.e. {@code V^T} (a copy). */
  public double[] vectorsAsRows() {
    return DenseMath.flat(vectors, n, n);
  }

  /** Eigenvectors as rows, shared (not copied). */
  double[][] rows() {
    return vectors;
  }

  double[] valuesShared() {
    return values;
  }

  /**
   * The eigenvalues that are zero up to round-off set to 0: those at most {@code max|lambda| * n * eps}, the tolerance
   * of {@code numpy.linalg.matrix_rank}, negative ones included. For the square root of a positive semi-definite
   * matrix this removes the {@code sqrt(eps |A|)}-sized noise that each zero eigenvalue would otherwise contribute.
   */
  static double[] clipRoundOff(double[] values) {
    double max = 0;
    for (double v : values) {
      max = Math.max(max, Math.abs(v));
    }
    double tol = max * values.length * EPS;
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i] > tol ? values[i] : 0;
    }
    return out;
  }

  /** Rows of {@code (A + A^T) / 2} after checking length, finiteness and symmetry. */
  static double[][] symmetricRows(double[] a, int n, String what) {
    if (n < 1) {
      throw new IllegalArgumentException(what + ": the order must be at least 1, got " + n);
    }
    if (a.length != (long) n * n) {
      throw new IllegalArgumentException(what + ": " + a.length + " values cannot be an " + n + " x " + n
          + " matrix");
    }
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      double v = a[i];
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException(what + ": entry (" + (i / n) + ", " + (i % n) + ") is " + v);
      }
      scale = Math.max(scale, Math.abs(v));
    }
    double[][] m = DenseMath.rows(a, n, n);
    double worst = 0;
    int wi = 0;
    int wj = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double diff = Math.abs(m[i][j] - m[j][i]);
        if (diff > worst) {
          worst = diff;
          wi = i;
          wj = j;
        }
        double s = 0.5 * (m[i][j] + m[j][i]);
        m[i][j] = s;
        m[j][i] = s;
      }
    }
    if (worst > 1e-6 * scale) {
      throw new IllegalArgumentException(what + " is not symmetric: entries (" + wi + ", " + wj + ") and (" + wj
          + ", " + wi + ") differ by " + worst + " (largest entry " + scale + ")");
    }
    return m;
  }

  private static SymmetricEigen sorted(int n, double[] d, double[][] zt) {
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
    double[] values = new double[n];
    double[][] rows = new double[n][];
    for (int i = 0; i < n; i++) {
      values[i] = d[order[i]];
      rows[i] = zt[order[i]];
    }
    return new SymmetricEigen(n, values, rows);
  }

  /** A symmetric tridiagonal matrix: diagonal {@code d}, off-diagonal {@code e[i]} = T(i, i+1), {@code e[n-1] = 0}. */
  static final class Tridiagonal {
    final int n;
    final double[] d;
    final double[] e;
    /** Householder coefficients: H_k = I - beta[k] v_k v_k^T with v_k stored in row k, columns k+1..n-1. */
    final double[] beta;

    Tridiagonal(int n) {
      this.n = n;
      d = new double[n];
      e = new double[n];
      beta = new double[n];
    }

    /**
     * The transpose of {@code Q = H_0 H_1 ... H_{n-3}} (so that {@code A = Q T Q^T}), accumulated backwards from the
     * reflectors kept in {@code m}; row {@code i} of the result is column {@code i} of Q.
     */
    double[][] accumulate(double[][] m) {
      double[][] q = new double[n][n];
      for (int i = 0; i < n; i++) {
        q[i][i] = 1;
      }
      double[] g = new double[n];
      for (int k = n - 3; k >= 0; k--) {
        double b = beta[k];
        if (b == 0) {
          continue;
        }
        double[] v = m[k];
        int lo = k + 1;
        int width = n - lo;
        int blocks = (width + ROTATION_BLOCK - 1) / ROTATION_BLOCK;
        DenseMath.parallelFor(width < 128 ? 1 : blocks, task -> {
          int j0 = width < 128 ? lo : lo + task * ROTATION_BLOCK;
          int j1 = width < 128 ? n : Math.min(n, j0 + ROTATION_BLOCK);
          for (int j = j0; j < j1; j++) {
            g[j] = 0;
          }
          for (int i = lo; i < n; i++) {
            double vi = v[i];
            if (vi != 0) {
              double[] qi = q[i];
              for (int j = j0; j < j1; j++) {
                g[j] += vi * qi[j];
              }
            }
          }
          for (int i = lo; i < n; i++) {
            double f = b * v[i];
            if (f != 0) {
              double[] qi = q[i];
              for (int j = j0; j < j1; j++) {
                qi[j] -= f * g[j];
              }
            }
          }
        });
      }
      return DenseMath.transpose(q, n, n);
    }
  }

  /**
   * Householder reduction of the symmetric matrix {@code a} (rows, overwritten: row k keeps the reflector of step k
   * in columns k+1..n-1) to tridiagonal form. Step k annihilates row/column k below the sub-diagonal with
   * {@code H = I - beta v v^T}; the trailing block B becomes {@code B - v w^T - w v^T} with {@code p = beta B v},
   * {@code w = p - (beta/2)(v.p) v}. Each step's update of a row is fused with the next step's product
   * {@code B' v'} (computed once the next reflector is known from the first updated row).
   */
  static Tridiagonal tridiagonalize(double[][] a, int n, boolean keepReflectors) {
    Tridiagonal t = new Tridiagonal(n);
    if (n == 1) {
      t.d[0] = a[0][0];
      return t;
    }
    if (n == 2) {
      t.d[0] = a[0][0];
      t.d[1] = a[1][1];
      t.e[0] = a[0][1];
      return t;
    }
    double[] p = new double[n];
    double[] w = new double[n];
    int maxTasks = DenseMath.THREADS;
    double[][] partial = new double[maxTasks][n];
    t.beta[0] = reflector(a[0], 1, n, t.e, 0);
    if (t.beta[0] != 0) {
      fusedPass(a, n, 1, null, null, 0, a[0], t.beta[0], p, partial);
    }
    for (int k = 0; k <= n - 3; k++) {
      t.d[k] = a[k][k];
      double[] v = a[k];
      double bk = t.beta[k];
      int lo = k + 1;
      if (bk != 0) {
        double vp = 0;
        for (int j = lo; j < n; j++) {
          vp += v[j] * p[j];
        }
        double kk = 0.5 * bk * vp;
        for (int j = lo; j < n; j++) {
          w[j] = p[j] - kk * v[j];
        }
        double[] r = a[lo];
        double vl = v[lo];
        double wl = w[lo];
        for (int j = lo; j < n; j++) {
          r[j] -= vl * w[j] + wl * v[j];
        }
      }
      if (k + 1 <= n - 3) {
        double bn = reflector(a[lo], lo + 1, n, t.e, lo);
        t.beta[lo] = bn;
        fusedPass(a, n, lo + 1, bk != 0 ? v : null, w, bk, a[lo], bn, p, partial);
      } else {
        if (bk != 0) {
          a[n - 1][n - 1] -= 2 * v[n - 1] * w[n - 1];
        }
        t.d[n - 2] = a[n - 2][n - 2];
        t.d[n - 1] = a[n - 1][n - 1];
        t.e[n - 2] = a[n - 2][n - 1];
      }
    }
    t.e[n - 1] = 0;
    if (!keepReflectors) {
      Arrays.fill(t.beta, 0);
    }
    return t;
  }

  /**
   * The reflector that maps {@code x = r[j0..n-1]} onto {@code alpha e_1}: stores {@code v} (with {@code v_0 =
   * x_0 - alpha}) in place, writes {@code alpha} to {@code e[idx]} and returns {@code beta = 2 / (v.v)}, or 0 (no
   * reflection, {@code x} left as it is) when {@code x} is already a multiple of {@code e_1}.
   */
  private static double reflector(double[] r, int j0, int n, double[] e, int idx) {
    double x0 = r[j0];
    double scale = 0;
    for (int j = j0 + 1; j < n; j++) {
      scale = Math.max(scale, Math.abs(r[j]));
    }
    if (scale == 0) {
      e[idx] = x0;
      return 0;
    }
    scale = Math.max(scale, Math.abs(x0));
    double sigma = 0;
    for (int j = j0 + 1; j < n; j++) {
      double s = r[j] / scale;
      sigma += s * s;
    }
    double y0 = x0 / scale;
    double mu = scale * Math.sqrt(y0 * y0 + sigma);
    double alpha = x0 <= 0 ? mu : -mu;
    double v0 = x0 - alpha;
    r[j0] = v0;
    e[idx] = alpha;
    // v.v = v0^2 + sum_{j>j0} x_j^2 = 2 mu (mu + |x0|), which needs no scaling.
    return 1.0 / (mu * (mu + Math.abs(x0)));
  }

  /**
   * Rows {@code c0..n-1}, columns {@code c0..n-1}: applies {@code r -= v_i w + w_i v} (when {@code v != null}) and
   * accumulates {@code p = bn * sum_i r_i vn_i} (when {@code bn != 0}) in one pass, split over row ranges with a
   * partial sum per worker.
   */
  private static void fusedPass(double[][] a, int n, int c0, double[] v, double[] w, double bk, double[] vn,
      double bn, double[] p, double[][] partial) {
    int rows = n - c0;
    if (rows <= 0) {
      return;
    }
    boolean update = v != null && bk != 0;
    boolean product = bn != 0;
    if (!update && !product) {
      return;
    }
    int tasks = Math.max(1, Math.min(partial.length, rows / 64));
    DenseMath.parallelFor(tasks, task -> {
      int i0 = c0 + (int) ((long) rows * task / tasks);
      int i1 = c0 + (int) ((long) rows * (task + 1) / tasks);
      double[] pp = partial[task];
      if (product) {
        Arrays.fill(pp, c0, n, 0);
      }
      for (int i = i0; i < i1; i++) {
        double[] r = a[i];
        if (update && product) {
          double vi = v[i];
          double wi = w[i];
          double vni = vn[i];
          for (int j = c0; j < n; j++) {
            double x = r[j] - (vi * w[j] + wi * v[j]);
            r[j] = x;
            pp[j] += x * vni;
          }
        } else if (update) {
          double vi = v[i];
          double wi = w[i];
          for (int j = c0; j < n; j++) {
            r[j] -= vi * w[j] + wi * v[j];
          }
        } else {
          double vni = vn[i];
          for (int j = c0; j < n; j++) {
            pp[j] += r[j] * vni;
          }
        }
      }
    });
    if (product) {
      for (int j = c0; j < n; j++) {
        double s = 0;
        for (int task = 0; task < tasks; task++) {
          s += partial[task][j];
        }
        p[j] = bn * s;
      }
    }
  }

  /**
   * Implicit QL with Wilkinson shifts on the tridiagonal {@code (d, e)}: the eigenvalues replace {@code d}
   * (unsorted). When {@code zt} is given (rows = the current basis vectors), every plane rotation of columns
   * {@code (i, i+1)} of {@code Z} is applied to rows {@code i, i+1} of {@code zt}, buffered and applied block by
   * block. Deflation uses the absolute test {@code |e_m| <= eps ||T||}.
   */
  static void ql(double[] d, double[] e, int n, double[][] zt) {
    double norm = 0;
    for (int i = 0; i < n; i++) {
      double s = Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0);
      norm = Math.max(norm, s);
    }
    double tol = EPS * norm;
    Rotations rot = zt == null ? null : new Rotations(zt, n);
    for (int l = 0; l < n; l++) {
      int sweeps = 0;
      while (true) {
        int m = l;
        while (m < n - 1 && Math.abs(e[m]) > tol) {
          m++;
        }
        if (m == l) {
          break;
        }
        if (++sweeps > MAX_SWEEPS_PER_EIGENVALUE) {
          throw new ArithmeticException("the QL iteration did not converge for eigenvalue " + l + " of " + n);
        }
        // Shift: the eigenvalue of the leading 2x2 block (d_l, e_l; e_l, d_l+1) nearer to d_l.
        double g = (d[l + 1] - d[l]) / (2 * e[l]);
        double r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
        double s = 1;
        double c = 1;
        double p = 0;
        boolean underflow = false;
        for (int i = m - 1; i >= l; i--) {
          double f = s * e[i];
          double b = c * e[i];
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r == 0) {
            // The rotation underflowed: the block splits here; finish this sweep and look again.
            d[i + 1] -= p;
            e[m] = 0;
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          if (rot != null) {
            rot.add(i, c, s);
          }
        }
        if (underflow) {
          continue;
        }
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    }
    if (rot != null) {
      rot.flush();
    }
  }

  /** Buffered plane rotations on consecutive rows of {@code zt}, applied in order to column blocks in parallel. */
  private static final class Rotations {
    private final double[][] zt;
    private final int n;
    private final int[] index = new int[ROTATION_BUFFER];
    private final double[] cos = new double[ROTATION_BUFFER];
    private final double[] sin = new double[ROTATION_BUFFER];
    private int count;

    Rotations(double[][] zt, int n) {
      this.zt = zt;
      this.n = n;
    }

    void add(int i, double c, double s) {
      if (count == ROTATION_BUFFER) {
        flush();
      }
      index[count] = i;
      cos[count] = c;
      sin[count] = s;
      count++;
    }

    void flush() {
      int total = count;
      if (total == 0) {
        return;
      }
      int blocks = (n + ROTATION_BLOCK - 1) / ROTATION_BLOCK;
      DenseMath.parallelFor(blocks, b -> {
        int j0 = b * ROTATION_BLOCK;
        int j1 = Math.min(n, j0 + ROTATION_BLOCK);
        for (int r = 0; r < total; r++) {
          int i = index[r];
          rotate(zt[i + 1], zt[i], cos[r], sin[r], j0, j1);
        }
      });
      count = 0;
    }

    /** Rows (i, i+1) by (c, s): {@code z_i+1 <- s z_i + c z_i+1}, {@code z_i <- c z_i - s z_i+1}. */
    private static void rotate(double[] z1, double[] z0, double c, double s, int j0, int j1) {
      for (int j = j0; j < j1; j++) {
        double f = z1[j];
        double z = z0[j];
        z1[j] = s * z + c * f;
        z0[j] = c * z - s * f;
      }
    }
  }
}
