package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Tensors;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's KL warm-up and KL balancing (Vahdat &amp; Kautz 2020, section 5 "Balancing the KL terms" and appendix A;
 * upstream utils.py: groups_per_scale, kl_balancer_coeff, kl_balancer, kl_coeff).
 *
 * <p>Warm-up: the KL term is weighted by beta(step) = max(min((step - const_steps) / anneal_steps, 1), min_coeff)
 * (upstream: anneal_steps = 0.3 of the total steps, const_steps = 1e-4 of them, min_coeff = 1e-4). Balancing: while
 * beta &lt; 1, group i's KL is weighted by gamma_i proportional to (mean over the batch of |KL_i| + 0.01) / alpha_i
 * (normalised to mean 1, held constant for the gradient), so that groups with little KL get less pressure and no
 * group collapses; alpha_i ('square') is (2^s)^2 / groups at that scale for the scale s of the group (s = 0 the
 * coarsest scale), divided by its minimum. Groups are in DECODER order: the top (coarsest) scale first.
 */
public final class KlBalancer {
  private KlBalancer() {}

  /**
   * Groups per scale in ENCODER order (finest scale first), upstream groups_per_scale with divider 2: each scale gets
   * n groups; with adaptive groups n halves (integer division) after each scale, but not below {@code minGroups}.
   */
  public static int[] groupsPerScale(int numScales, int numGroupsPerScale, boolean ada, int minGroups) {
    if (numScales < 1 || numGroupsPerScale < 1) {
      throw new IllegalArgumentException("numScales and numGroupsPerScale must be positive");
    }
    int[] g = new int[numScales];
    int n = numGroupsPerScale;
    for (int s = 0; s < numScales; s++) {
      if (n < 1) {
        throw new IllegalArgumentException("a scale would get no group (minGroups " + minGroups + ")");
      }
      g[s] = n;
      if (ada) {
        n = Math.max(minGroups, n / 2);
      }
    }
    return g;
  }

  /**
   * The balancing coefficients alpha_i ('square' in upstream kl_balancer_coeff), one per group in DECODER order:
   * the groups of decoder scale i (i = 0 the top) get 4^i / groups_i, then all are divided by the minimum.
   *
   * @param groupsPerScaleEncoderOrder groups per scale, finest scale first (as {@link #groupsPerScale})
   */
  public static double[] alphas(int[] groupsPerScaleEncoderOrder) {
    int s = groupsPerScaleEncoderOrder.length;
    int total = Arrays.stream(groupsPerScaleEncoderOrder).sum();
    double[] a = new double[total];
    int j = 0;
    for (int i = 0; i < s; i++) {
      int g = groupsPerScaleEncoderOrder[s - i - 1];
      double v = Math.pow(2, i) * Math.pow(2, i) / g;
      for (int k = 0; k < g; k++) {
        a[j++] = v;
      }
    }
    double min = Arrays.stream(a).min().orElse(1);
    for (int i = 0; i < a.length; i++) {
      a[i] /= min;
    }
    return a;
  }

  /** The KL warm-up weight beta(step) = max(min((step - constSteps) / annealSteps, 1), minCoeff). */
  public static double klCoeff(long step, double annealSteps, double constSteps, double minCoeff) {
    return Math.max(Math.min((step - constSteps) / annealSteps, 1.0), minCoeff);
  }

  /** {@link #klCoeff(long, double, double, double)} as graph ops on a scalar int64 step. */
  public static Operand<TFloating> klCoeff(Ops tf, Class<TFloating> dt, Operand<TInt64> step, double annealSteps,
      double constSteps, double minCoeff) {
    Operand<TFloating> s = tf.dtypes.cast(step, dt);
    Operand<TFloating> r = tf.math.div(tf.math.sub(s, Tensors.constant(tf, dt, constSteps)),
        Tensors.constant(tf, dt, annealSteps));
    return tf.math.maximum(tf.math.minimum(r, Tensors.constant(tf, dt, 1.0)), Tensors.constant(tf, dt, minCoeff));
  }

  /**
   * The balancing weights gamma [G] of upstream kl_balancer (no stop-gradient applied here): g = mean_n |klAll| + 0.01,
   * g = g / alpha * sum(g), gamma = g / mean(g).
   */
  public static Operand<TFloating> gamma(Ops tf, Class<TFloating> dt, Operand<TFloating> klAll, double[] alphas) {
    Operand<TFloating> g = tf.math.add(Tensors.mean(tf, tf.math.abs(klAll), 0), Tensors.constant(tf, dt, 0.01));
    Operand<TFloating> total = tf.sum(g, tf.constant(0));
    Operand<TFloating> alpha = Tensors.constant(tf, dt, alphas, Shape.of(alphas.length));
    g = tf.math.mul(tf.math.div(g, alpha), total);
    return tf.math.div(g, tf.math.mean(g, tf.constant(0)));
  }

  /**
   * The per-example balanced KL [N] from klAll [N, G] (groups in decoder order), already multiplied by beta (a scalar
   * operand, the warm-up weight): beta sum_i klAll[:, i] stopgrad(gamma_i) while beta &lt; 1, beta sum_i klAll[:, i]
   * otherwise (upstream kl_balancer with kl_balance on).
   */
  public static Operand<TFloating> balance(Ops tf, Class<TFloating> dt, Operand<TFloating> klAll,
      Operand<TFloating> beta, double[] alphas) {
    long g = klAll.shape().numDimensions() == 2 ? klAll.shape().size(1) : -2;
    if (g != -1 && g != alphas.length) {
      throw new IllegalArgumentException("klAll must be [N, " + alphas.length + "], got " + klAll.shape());
    }
    Operand<TFloating> one = Tensors.constant(tf, dt, 1.0);
    Operand<TFloating> balancing = tf.dtypes.cast(tf.math.less(beta, one), dt);
    // weights = gamma while beta < 1, else 1; constant for the gradient.
    Operand<TFloating> weights = tf.stopGradient(tf.math.add(one,
        tf.math.mul(balancing, tf.math.sub(gamma(tf, dt, klAll, alphas), one))));
    Operand<TFloating> kl = tf.sum(tf.math.mul(klAll, weights), tf.constant(1));
    return tf.math.mul(beta, kl);
  }
}
