package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The energy of a multivariate normal N(m, S), U(x) = 0.5 (x - m)^T S^-1 (x - m), for tests and demos: its moments
 * are known in closed form. The precision S^-1 is computed once on the host in double precision (Cholesky; S must be
 * symmetric positive definite) and enters the graph as a constant. Inputs are [N, d].
 */
public final class GaussianEnergy implements Energy {
  private final double[] mean;
  private final double[] covariance;
  private final double[] precision;
  private final double logDetCovariance;
  private final int dim;

  /**
   * @param mean m, length d
   * @param covariance S, d x d, symmetric positive definite
   */
  public GaussianEnergy(double[] mean, double[][] covariance) {
    this.dim = mean.length;
    if (dim == 0 || covariance.length != dim) {
      throw new IllegalArgumentException("Gaussian energy: the covariance must be " + dim + " x " + dim);
    }
    this.mean = mean.clone();
    this.covariance = new double[dim * dim];
    for (int i = 0; i < dim; i++) {
      if (covariance[i].length != dim) {
        throw new IllegalArgumentException("Gaussian energy: the covariance must be " + dim + " x " + dim);
      }
      for (int j = 0; j < dim; j++) {
        if (Math.abs(covariance[i][j] - covariance[j][i]) > 1e-12 * (1 + Math.abs(covariance[i][j]))) {
          throw new IllegalArgumentException("Gaussian energy: the covariance is not symmetric");
        }
        this.covariance[i * dim + j] = covariance[i][j];
      }
    }
    double[] l = cholesky(this.covariance, dim);
    double logDet = 0;
    for (int i = 0; i < dim; i++) {
      logDet += 2 * Math.log(l[i * dim + i]);
    }
    this.logDetCovariance = logDet;
    this.precision = inverseFromCholesky(l, dim);
  }

  /** An isotropic N(m, s^2 I). */
  public static GaussianEnergy isotropic(double[] mean, double std) {
    double[][] cov = new double[mean.length][mean.length];
    for (int i = 0; i < mean.length; i++) {
      cov[i][i] = std * std;
    }
    return new GaussianEnergy(mean, cov);
  }

  @Override
  public Operand<TFloating> apply(Ops tf, Operand<TFloating> x) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> diff = tf.math.sub(x, Tensors.constant(tf, dt, mean, Shape.of(1, dim)));
    Operand<TFloating> pd = tf.linalg.matMul(diff, Tensors.constant(tf, dt, precision, Shape.of(dim, dim)));
    return tf.math.mul(Tensors.constant(tf, dt, 0.5), Tensors.sum(tf, tf.math.mul(diff, pd), 1));
  }

  /** U at one point, on the host. */
  public double energy(double[] point) {
    double u = 0;
    for (int i = 0; i < dim; i++) {
      for (int j = 0; j < dim; j++) {
        u += (point[i] - mean[i]) * precision[i * dim + j] * (point[j] - mean[j]);
      }
    }
    return 0.5 * u;
  }

  /** log Z = (d / 2) log(2 pi) + (1 / 2) log det S, so that exp(-U) / Z is the normal density. */
  public double logPartition() {
    return 0.5 * dim * Math.log(2 * Math.PI) + 0.5 * logDetCovariance;
  }

  public int dim() {
    return dim;
  }

  public double[] mean() {
    return mean.clone();
  }

  /** S, row-major d x d. */
  public double[] covariance() {
    return covariance.clone();
  }

  /** S^-1, row-major d x d. */
  public double[] precision() {
    return precision.clone();
  }

  /** The lower Cholesky factor of a row-major symmetric positive definite matrix. */
  static double[] cholesky(double[] a, int n) {
    double[] l = new double[n * n];
    for (int j = 0; j < n; j++) {
      double s = a[j * n + j];
      for (int k = 0; k < j; k++) {
        s -= l[j * n + k] * l[j * n + k];
      }
      if (!(s > 0)) {
        throw new IllegalArgumentException("Gaussian energy: the covariance is not positive definite");
      }
      double d = Math.sqrt(s);
      l[j * n + j] = d;
      for (int i = j + 1; i < n; i++) {
        double t = a[i * n + j];
        for (int k = 0; k < j; k++) {
          t -= l[i * n + k] * l[j * n + k];
        }
        l[i * n + j] = t / d;
      }
    }
    return l;
  }

  /** (L L^T)^-1 from L, by forward and back substitution on the columns of I. */
  private static double[] inverseFromCholesky(double[] l, int n) {
    double[] inv = new double[n * n];
    double[] col = new double[n];
    for (int c = 0; c < n; c++) {
      // L z = e_c
      for (int i = 0; i < n; i++) {
        double t = i == c ? 1 : 0;
        for (int k = 0; k < i; k++) {
          t -= l[i * n + k] * col[k];
        }
        col[i] = t / l[i * n + i];
      }
      // L^T w = z
      for (int i = n - 1; i >= 0; i--) {
        double t = col[i];
        for (int k = i + 1; k < n; k++) {
          t -= l[k * n + i] * col[k];
        }
        col[i] = t / l[i * n + i];
      }
      for (int i = 0; i < n; i++) {
        inv[i * n + c] = col[i];
      }
    }
    // Symmetrise the rounding.
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double v = 0.5 * (inv[i * n + j] + inv[j * n + i]);
        inv[i * n + j] = v;
        inv[j * n + i] = v;
      }
    }
    return inv;
  }
}
