package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The importance-weighted bound of Burda, Grosse &amp; Salakhutdinov 2016 ("Importance Weighted Autoencoders", eq. 8):
 * with k draws z_i ~ q(z | x) and log weights w_i = log p(x, z_i) - log q(z_i | x),
 * L_k = log (1/k) sum_i exp(w_i) &lt;= log p(x); L_1 is the ELBO, L_k increases with k and tends to log p(x). NVAE
 * reports test log-likelihoods this way (upstream evaluate.py, with 1000 samples).
 *
 * <p>Host arrays are indexed [draw][example].
 */
public final class ImportanceWeighted {
  private ImportanceWeighted() {}

  /** L_k per example: log (1/k) sum_i exp(w_i), by log-sum-exp around the maximum. */
  public static double[] bound(double[][] logWeights) {
    int k = logWeights.length;
    int n = checkRectangular(logWeights);
    double[] out = new double[n];
    for (int j = 0; j < n; j++) {
      double max = Double.NEGATIVE_INFINITY;
      for (double[] w : logWeights) {
        max = Math.max(max, w[j]);
      }
      if (max == Double.NEGATIVE_INFINITY) {
        out[j] = Double.NEGATIVE_INFINITY;
        continue;
      }
      double s = 0;
      for (double[] w : logWeights) {
        s += Math.exp(w[j] - max);
      }
      out[j] = max + Math.log(s / k);
    }
    return out;
  }

  /** The ELBO estimate per example: the mean of the k log weights. */
  public static double[] elbo(double[][] logWeights) {
    int k = logWeights.length;
    int n = checkRectangular(logWeights);
    double[] out = new double[n];
    for (double[] w : logWeights) {
      for (int j = 0; j < n; j++) {
        out[j] += w[j] / k;
      }
    }
    return out;
  }

  /** The standard error of {@link #elbo} per example: the sample standard deviation of the k weights / sqrt(k). */
  public static double[] elboStandardError(double[][] logWeights) {
    int k = logWeights.length;
    if (k < 2) {
      throw new IllegalArgumentException("a standard error needs at least 2 draws");
    }
    double[] mean = elbo(logWeights);
    double[] out = new double[mean.length];
    for (double[] w : logWeights) {
      for (int j = 0; j < mean.length; j++) {
        out[j] += (w[j] - mean[j]) * (w[j] - mean[j]);
      }
    }
    for (int j = 0; j < mean.length; j++) {
      out[j] = Math.sqrt(out[j] / (k - 1) / k);
    }
    return out;
  }

  /** L_k in the graph: logWeights [k, N] -> [N], log-sum-exp over the draws minus log k. */
  public static Operand<TFloating> bound(Ops tf, Operand<TFloating> logWeights) {
    Operand<TFloating> lse = Tensors.logSumExp(tf, logWeights, 0);
    Operand<TFloating> k = tf.dtypes.cast(tf.shape.size(logWeights, tf.constant(0)), logWeights.type());
    return tf.math.sub(lse, tf.math.log(k));
  }

  private static int checkRectangular(double[][] logWeights) {
    if (logWeights.length == 0) {
      throw new IllegalArgumentException("no draws");
    }
    int n = logWeights[0].length;
    for (double[] w : logWeights) {
      if (w.length != n) {
        throw new IllegalArgumentException("log weights must be [k][n]");
      }
    }
    return n;
  }
}
