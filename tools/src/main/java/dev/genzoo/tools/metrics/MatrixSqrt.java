package dev.genzoo.tools.metrics;

/**
 * The principal square root of a symmetric positive semi-definite matrix, {@code A^(1/2) = V diag(sqrt(lambda')) V^T}
 * from its {@link SymmetricEigen eigendecomposition}, where {@code lambda'} is {@code lambda} with the eigenvalues at
 * round-off level set to 0: negative ones, and positive ones up to {@code max|lambda| * n * eps} (the tolerance of
 * {@code numpy.linalg.matrix_rank}). The result is real, symmetric and positive semi-definite even for singular
 * covariance matrices (fewer samples than dimensions), where {@code scipy.linalg.sqrtm}'s Schur method returns small
 * complex parts and about {@code sqrt(eps |A|)} of noise per zero eigenvalue.
 */
public final class MatrixSqrt {
  private MatrixSqrt() {}

  /**
   * The square root of the symmetric PSD {@code n x n} matrix {@code a} (row-major), row-major. Negative eigenvalues
   * are set to 0, whatever their size: check {@link #smallestEigenvalue} first where an indefinite input must be
   * rejected.
   *
   * @throws IllegalArgumentException for a wrong length, a NaN or infinite entry, or an asymmetric matrix
   */
  public static double[] sqrtPsd(double[] a, int n) {
    SymmetricEigen eig = SymmetricEigen.of(a, n);
    return DenseMath.flat(fromEigen(eig), n, n);
  }

  /** The smallest eigenvalue of the symmetric matrix {@code a}: negative beyond round-off means not PSD. */
  public static double smallestEigenvalue(double[] a, int n) {
    return SymmetricEigen.eigenvalues(a, n)[0];
  }

  /** {@code V diag(sqrt(lambda')) V^T} as rows, {@code lambda'} clipped as the class comment says. */
  static double[][] fromEigen(SymmetricEigen eig) {
    int n = eig.size();
    double[][] vt = eig.rows();
    double[] lambda = SymmetricEigen.clipRoundOff(eig.valuesShared());
    // B = diag(s) V^T (rows of V^T scaled); result = V B = (V^T)^T B.
    double[][] b = new double[n][];
    for (int i = 0; i < n; i++) {
      double s = Math.sqrt(lambda[i]);
      double[] row = vt[i].clone();
      for (int j = 0; j < n; j++) {
        row[j] *= s;
      }
      b[i] = row;
    }
    double[][] v = DenseMath.transpose(vt, n, n);
    double[][] r = DenseMath.multiply(v, b, n, n, n);
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double s = 0.5 * (r[i][j] + r[j][i]);
        r[i][j] = s;
        r[j][i] = s;
      }
    }
    return r;
  }
}
