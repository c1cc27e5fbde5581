package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Analytic toy densities in the graph, for flows fitted by reverse KL: isotropic Gaussian mixtures
 * log p(x) = logsumexp_k (log w_k + sum_d log N(x_d; mu_kd, sigma_k^2)).
 */
final class TargetDensity {
  private final double[][] means;
  private final double[] stds;
  private final double[] weights;

  private TargetDensity(double[][] means, double[] stds, double[] weights) {
    this.means = means;
    this.stds = stds;
    this.weights = weights;
  }

  /** "8gaussians" (DESIGN: std 0.2, radius 2, angles k pi / 4) or "bimodal" (0.2 N(-10, 1) + 0.8 N(10, 1)). */
  static TargetDensity byName(String name) {
    switch (name) {
      case "8gaussians" -> {
        double[][] mu = new double[8][];
        double[] s = new double[8];
        double[] w = new double[8];
        for (int k = 0; k < 8; k++) {
          mu[k] = new double[] {2 * Math.cos(k * Math.PI / 4), 2 * Math.sin(k * Math.PI / 4)};
          s[k] = 0.2;
          w[k] = 1.0 / 8;
        }
        return new TargetDensity(mu, s, w);
      }
      case "bimodal" -> {
        return new TargetDensity(new double[][] {{-10}, {10}}, new double[] {1, 1}, new double[] {0.2, 0.8});
      }
      default -> throw new IllegalArgumentException("no analytic target density for '" + name
          + "'; planar flows support 8gaussians and bimodal");
    }
  }

  int dims() {
    return means[0].length;
  }

  /** log p(x) for x [N, D]. */
  Operand<TFloating> logDensity(Ops tf, Class<TFloating> dt, Operand<TFloating> x) {
    int k = means.length;
    int d = dims();
    double[] mu = new double[k * d];
    double[] logStd = new double[k];
    double[] logW = new double[k];
    for (int i = 0; i < k; i++) {
      System.arraycopy(means[i], 0, mu, i * d, d);
      logStd[i] = Math.log(stds[i]);
      logW[i] = Math.log(weights[i]);
    }
    Operand<TFloating> muT = Tensors.constant(tf, dt, mu, Shape.of(1, k, d));
    Operand<TFloating> logStdT = Tensors.constant(tf, dt, logStd, Shape.of(1, k, 1));
    Operand<TFloating> xe = tf.expandDims(x, tf.constant(1));
    Operand<TFloating> comp = Tensors.sum(tf, Tensors.gaussianLogDensity(tf, dt, xe, muT, logStdT), 2);
    comp = tf.math.add(comp, Tensors.constant(tf, dt, logW, Shape.of(1, k)));
    return Tensors.logSumExp(tf, comp, 1);
  }
}
