package dev.genzoo.graphs.flow;

import java.util.SplittableRandom;

/**
 * Host-side initialisation of Glow's invertible 1x1 convolution: a random rotation W (Haar-distributed, from the QR
 * decomposition of a Gaussian matrix with the signs of R's diagonal fixed), factored as W = P L U with partial
 * pivoting (Kingma & Dhariwal 2018, section 3.2, "LU decomposition").
 */
final class Lu {
  final double[] p;
  final double[] lower;
  final double[] upper;
  final double[] signS;
  final double[] logS;

  private Lu(double[] p, double[] lower, double[] upper, double[] signS, double[] logS) {
    this.p = p;
    this.lower = lower;
    this.upper = upper;
    this.signS = signS;
    this.logS = logS;
  }

  /** A random rotation of size n (row-major n x n). */
  static double[] randomRotation(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        a[i][j] = gaussian(rng);
      }
    }
    // Modified Gram-Schmidt on the columns: a = Q R with R's diagonal positive gives a Haar rotation.
    double[][] q = new double[n][n];
    for (int j = 0; j < n; j++) {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = a[i][j];
      }
      for (int k = 0; k < j; k++) {
        double dot = 0;
        for (int i = 0; i < n; i++) {
          dot += q[i][k] * v[i];
        }
        for (int i = 0; i < n; i++) {
          v[i] -= dot * q[i][k];
        }
      }
      double norm = 0;
      for (int i = 0; i < n; i++) {
        norm += v[i] * v[i];
      }
      norm = Math.sqrt(norm);
      for (int i = 0; i < n; i++) {
        q[i][j] = v[i] / norm;
      }
    }
    double[] out = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        out[i * n + j] = q[i][j];
      }
    }
    return out;
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** W = P L U with L unit lower triangular, U upper triangular; returns P, strict L, strict U, sign and log|diag U|. */
  static Lu decompose(double[] w, int n) {
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        a[i][j] = w[i * n + j];
      }
    }
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    // Doolittle with partial pivoting: Pr A = L U, so A = Pr^T L U.
    for (int k = 0; k < n; k++) {
      int piv = k;
      for (int i = k + 1; i < n; i++) {
        if (Math.abs(a[i][k]) > Math.abs(a[piv][k])) {
          piv = i;
        }
      }
      if (a[piv][k] == 0) {
        throw new IllegalStateException("singular matrix in LU initialisation");
      }
      double[] tmp = a[k];
      a[k] = a[piv];
      a[piv] = tmp;
      int t = perm[k];
      perm[k] = perm[piv];
      perm[piv] = t;
      for (int i = k + 1; i < n; i++) {
        a[i][k] /= a[k][k];
        for (int j = k + 1; j < n; j++) {
          a[i][j] -= a[i][k] * a[k][j];
        }
      }
    }
    double[] p = new double[n * n];
    double[] lower = new double[n * n];
    double[] upper = new double[n * n];
    double[] signS = new double[n];
    double[] logS = new double[n];
    for (int i = 0; i < n; i++) {
      // (Pr A)[i] = A[perm[i]], so A = P (L U) with P[perm[i]][i] = 1.
      p[perm[i] * n + i] = 1;
      for (int j = 0; j < n; j++) {
        if (j < i) {
          lower[i * n + j] = a[i][j];
        } else if (j > i) {
          upper[i * n + j] = a[i][j];
        }
      }
      signS[i] = Math.signum(a[i][i]);
      logS[i] = Math.log(Math.abs(a[i][i]));
    }
    return new Lu(p, lower, upper, signS, logS);
  }
}
