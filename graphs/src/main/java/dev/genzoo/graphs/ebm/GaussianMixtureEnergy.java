package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The energy of a mixture of isotropic normals, U(x) = -log sum_k w_k N(x; m_k, s_k^2 I), for tests and demos. The
 * weights need only be positive: with weights summing to one, exp(-U) is the normalised mixture density (Z = 1);
 * otherwise Z = sum_k w_k. The log-sum-exp is the stable one, log sum_k exp(l_k - c) + c with c = max_k l_k held
 * constant (StopGradient), built from ops that have gradients (Sub, Exp, Sum, Log), so grad U and the samplers that
 * use it work. Inputs are [N, d].
 */
public final class GaussianMixtureEnergy implements Energy {
  private final double[] weights;
  private final double[][] means;
  private final double[] stds;
  private final int dim;

  /**
   * @param weights w_k &gt; 0, length K
   * @param means m_k, K x d
   * @param stds s_k &gt; 0, length K
   */
  public GaussianMixtureEnergy(double[] weights, double[][] means, double[] stds) {
    int k = weights.length;
    if (k == 0 || means.length != k || stds.length != k) {
      throw new IllegalArgumentException("Gaussian mixture energy: " + weights.length + " weights, " + means.length
          + " means and " + stds.length + " standard deviations; they must be as many and at least one");
    }
    this.dim = means[0].length;
    this.weights = weights.clone();
    this.stds = stds.clone();
    this.means = new double[k][];
    for (int i = 0; i < k; i++) {
      if (!(weights[i] > 0) || !Double.isFinite(weights[i])) {
        throw new IllegalArgumentException("Gaussian mixture energy: weight " + i + " must be positive, got "
            + weights[i]);
      }
      if (!(stds[i] > 0) || !Double.isFinite(stds[i])) {
        throw new IllegalArgumentException("Gaussian mixture energy: std " + i + " must be positive, got " + stds[i]);
      }
      if (means[i].length != dim || dim == 0) {
        throw new IllegalArgumentException("Gaussian mixture energy: every mean must have the same positive length");
      }
      this.means[i] = means[i].clone();
    }
  }

  /**
   * {@code toy:8gaussians} (dev.genzoo.data.EightGaussians, the toy of Grathwohl et al. 2019's FFJORD experiments):
   * eight equally weighted components N(m_k, 0.2^2 I) with m_k = 2 (cos(k pi / 4), sin(k pi / 4)), k = 0..7, the
   * data class's RADIUS = 2 and STD = 0.2 with no further scaling. exp(-U) is that toy's exact density.
   */
  public static GaussianMixtureEnergy eightGaussians() {
    double radius = 2.0;
    double std = 0.2;
    double[] w = new double[8];
    double[][] m = new double[8][];
    double[] s = new double[8];
    for (int k = 0; k < 8; k++) {
      w[k] = 1.0 / 8;
      m[k] = new double[] {radius * Math.cos(k * Math.PI / 4), radius * Math.sin(k * Math.PI / 4)};
      s[k] = std;
    }
    return new GaussianMixtureEnergy(w, m, s);
  }

  /**
   * The one-dimensional bimodal energy U_theta(x) = -log(exp(-(x - a)^2 / 2) + exp(-theta) exp(-(x - b)^2 / 2)):
   * unit-variance modes at a and b with relative weight exp(-theta) on b, so the mode at b carries
   * exp(-theta) / (1 + exp(-theta)) of the mass (theta = -log 4: 0.8), and Z = sqrt(2 pi) (1 + exp(-theta)).
   * As a mixture: weights sqrt(2 pi) (1, exp(-theta)), unit standard deviations.
   */
  public static GaussianMixtureEnergy bimodal(double a, double b, double theta) {
    double c = Math.sqrt(2 * Math.PI);
    return new GaussianMixtureEnergy(new double[] {c, c * Math.exp(-theta)}, new double[][] {{a}, {b}},
        new double[] {1, 1});
  }

  /** log(w_k) - (d / 2) log(2 pi s_k^2): the log of each component's factor in front of exp(-|x - m_k|^2 / 2s_k^2). */
  private double logFactor(int k) {
    return Math.log(weights[k]) - 0.5 * dim * Math.log(2 * Math.PI * stds[k] * stds[k]);
  }

  @Override
  public Operand<TFloating> apply(Ops tf, Operand<TFloating> x) {
    Class<TFloating> dt = x.type();
    int k = weights.length;
    double[] flatMeans = new double[k * dim];
    double[] logC = new double[k];
    double[] halfPrecision = new double[k];
    for (int i = 0; i < k; i++) {
      System.arraycopy(means[i], 0, flatMeans, i * dim, dim);
      logC[i] = logFactor(i);
      halfPrecision[i] = 1 / (2 * stds[i] * stds[i]);
    }
    // [N, 1, d] - [1, K, d] -> squared distances [N, K]
    Operand<TFloating> diff = tf.math.sub(tf.expandDims(x, tf.constant(1)),
        Tensors.constant(tf, dt, flatMeans, Shape.of(1, k, dim)));
    Operand<TFloating> sq = Tensors.sum(tf, tf.math.square(diff), 2);
    Operand<TFloating> logits = tf.math.sub(Tensors.constant(tf, dt, logC, Shape.of(1, k)),
        tf.math.mul(sq, Tensors.constant(tf, dt, halfPrecision, Shape.of(1, k))));
    return tf.math.neg(Tensors.logSumExp(tf, logits, 1));
  }

  /** U at one point, on the host (double precision, stable log-sum-exp). */
  public double energy(double[] point) {
    double[] l = new double[weights.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < l.length; i++) {
      double sq = 0;
      for (int j = 0; j < dim; j++) {
        double d = point[j] - means[i][j];
        sq += d * d;
      }
      l[i] = logFactor(i) - sq / (2 * stds[i] * stds[i]);
      max = Math.max(max, l[i]);
    }
    double s = 0;
    for (double v : l) {
      s += Math.exp(v - max);
    }
    return -(Math.log(s) + max);
  }

  /** log Z = log sum_k w_k. */
  public double logPartition() {
    double s = 0;
    for (double w : weights) {
      s += w;
    }
    return Math.log(s);
  }

  /** The mixture's mean, sum_k w_k m_k / sum_k w_k. */
  public double[] mean() {
    double total = Math.exp(logPartition());
    double[] m = new double[dim];
    for (int i = 0; i < weights.length; i++) {
      for (int j = 0; j < dim; j++) {
        m[j] += weights[i] / total * means[i][j];
      }
    }
    return m;
  }

  /** The mixture's covariance, sum_k pi_k (m_k m_k^T + s_k^2 I) - mu mu^T with pi_k = w_k / sum w, row-major. */
  public double[] covariance() {
    double total = Math.exp(logPartition());
    double[] mu = mean();
    double[] c = new double[dim * dim];
    for (int i = 0; i < weights.length; i++) {
      double p = weights[i] / total;
      for (int a = 0; a < dim; a++) {
        for (int b = 0; b < dim; b++) {
          c[a * dim + b] += p * (means[i][a] * means[i][b] + (a == b ? stds[i] * stds[i] : 0));
        }
      }
    }
    for (int a = 0; a < dim; a++) {
      for (int b = 0; b < dim; b++) {
        c[a * dim + b] -= mu[a] * mu[b];
      }
    }
    return c;
  }

  public int dim() {
    return dim;
  }

  public int components() {
    return weights.length;
  }

  public double weight(int k) {
    return weights[k];
  }

  public double[] componentMean(int k) {
    return means[k].clone();
  }

  public double componentStd(int k) {
    return stds[k];
  }
}
