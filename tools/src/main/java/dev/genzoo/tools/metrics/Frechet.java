package dev.genzoo.tools.metrics;

/**
 * The Fréchet distance between two Gaussians, the FID of Heusel et al. (2017) when they summarise Inception pool_3
 * features: {@code ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))}, in double precision.
 *
 * <p>The trace of the square root is computed stably without forming the non-symmetric {@code S1 S2}: with
 * {@code S1 = V diag(lambda) V^T} (a symmetric eigendecomposition), the eigenvalues of {@code S1 S2} are those of the
 * symmetric PSD matrix {@code S1^(1/2) S2 S1^(1/2)}, and of its orthogonal similarity
 * {@code M = D^(1/2) V^T S2 V D^(1/2)} ({@code D = diag(lambda)}, since {@code S1^(1/2) = V D^(1/2) V^T}); so
 * {@code Tr((S1 S2)^(1/2)) = sum_i sqrt(mu_i)} over the eigenvalues {@code mu_i} of M. Eigenvalues of {@code S1} and
 * of M at round-off level count as 0: negative ones, and positive ones up to {@code max|lambda| * n * eps} (the
 * tolerance of {@code numpy.linalg.matrix_rank}); otherwise every zero eigenvalue of a singular covariance (fewer
 * samples than dimensions) would add about {@code sqrt(eps |S|)} of noise. Rows and columns of zero eigenvalues are
 * dropped from M, which makes singular covariances cheaper. The reference implementation's
 * {@code scipy.linalg.sqrtm(S1.dot(S2))} agrees to about 1e-14 relative on well-conditioned inputs and to about 1e-8
 * on singular ones, where its result carries that noise.
 *
 * <p>Cost: one eigendecomposition with vectors, two matrix products and one eigenvalue-only decomposition, in pure
 * Java on all cores (see {@link SymmetricEigen}): about 7 s for 2048-d statistics on two cores.
 */
public final class Frechet {
  private Frechet() {}

  /**
   * The four terms of the distance.
   *
   * @param meanTerm {@code ||mu1 - mu2||^2}
   * @param trace1 {@code Tr(S1)}
   * @param trace2 {@code Tr(S2)}
   * @param traceSqrt {@code Tr((S1 S2)^(1/2))}
   */
  public record Terms(double meanTerm, double trace1, double trace2, double traceSqrt) {
    /** {@code meanTerm + trace1 + trace2 - 2 traceSqrt}. */
    public double distance() {
      return meanTerm + trace1 + trace2 - 2 * traceSqrt;
    }
  }

  /** The Fréchet distance between the Gaussians {@code a} and {@code b}. */
  public static double distance(FeatureStats a, FeatureStats b) {
    return terms(a, b).distance();
  }

  /**
   * The terms of the Fréchet distance between {@code a} and {@code b}.
   *
   * @throws IllegalArgumentException when the dimensions differ, or a covariance is not symmetric or not finite
   */
  public static Terms terms(FeatureStats a, FeatureStats b) {
    int d = a.dim();
    if (b.dim() != d) {
      throw new IllegalArgumentException("the statistics have different feature dimensions: " + a.dim() + " and "
          + b.dim());
    }
    double mean = 0;
    for (int i = 0; i < d; i++) {
      double diff = a.mu()[i] - b.mu()[i];
      mean += diff * diff;
    }
    double tr = traceSqrtProduct(a.sigma(), b.sigma(), d);
    return new Terms(mean, a.trace(), b.trace(), tr);
  }

  /**
   * {@code Tr((S1 S2)^(1/2))} for symmetric PSD {@code d x d} matrices (row-major), as described in the class
   * comment.
   */
  public static double traceSqrtProduct(double[] sigma1, double[] sigma2, int d) {
    double[][] s1 = SymmetricEigen.symmetricRows(sigma1, d, "sigma1");
    double[][] s2 = SymmetricEigen.symmetricRows(sigma2, d, "sigma2");
    SymmetricEigen eig = SymmetricEigen.ofRows(s1, d);
    double[] lambda = SymmetricEigen.clipRoundOff(eig.valuesShared());
    double[][] vt = eig.rows();
    // Keep the eigenvectors with a positive eigenvalue only.
    int r = 0;
    for (double l : lambda) {
      if (l > 0) {
        r++;
      }
    }
    if (r == 0) {
      return 0;
    }
    double[][] u = new double[r][];
    double[] s = new double[r];
    for (int i = 0, k = 0; i < d; i++) {
      if (lambda[i] > 0) {
        u[k] = vt[i];
        s[k] = Math.sqrt(lambda[i]);
        k++;
      }
    }
    // X = U^T S2 (r x d), W = X U (r x r), M = diag(s) W diag(s).
    double[][] x = DenseMath.multiply(u, s2, r, d, d);
    double[][] ucols = DenseMath.transpose(u, r, d);
    double[][] w = DenseMath.multiply(x, ucols, r, d, r);
    double[][] m = new double[r][r];
    for (int i = 0; i < r; i++) {
      for (int j = i; j < r; j++) {
        double v = s[i] * s[j] * 0.5 * (w[i][j] + w[j][i]);
        m[i][j] = v;
        m[j][i] = v;
      }
    }
    double[] mu = SymmetricEigen.clipRoundOff(SymmetricEigen.eigenvaluesOfRows(m, r));
    double sum = 0;
    for (double v : mu) {
      sum += Math.sqrt(v);
    }
    return sum;
  }
}
