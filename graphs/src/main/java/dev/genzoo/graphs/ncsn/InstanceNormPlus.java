package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * InstanceNorm++ (Song &amp; Ermon 2019, "Generative Modeling by Estimating Gradients of the Data Distribution",
 * appendix A.1; unconditional form of Song &amp; Ermon 2020, "Improved Techniques for Training Score-Based Generative
 * Models"): instance normalisation, which removes each channel's spatial mean, plus the information it removed put
 * back as alpha times the channel means normalised across channels, then a per-channel affine map:
 *
 * <pre>
 *   mu_c = mean over H, W of x_c          s_c^2 = biased variance over H, W of x_c
 *   m = mean over c of mu_c               v = UNBIASED variance over c of mu_c (torch.var, divides by C - 1)
 *   z = gamma_c * ((x_c - mu_c) / sqrt(s_c^2 + 1e-5) + alpha_c * (mu_c - m) / sqrt(v + 1e-5)) + beta_c
 * </pre>
 *
 * NHWC input of at least two channels (with one, the unbiased variance is 0/0 and upstream returns NaN). Variables, as
 * upstream's {@code InstanceNorm2dPlus} with {@code bias=True}: {@code alpha}, {@code gamma} ~ N(1, 0.02^2) and
 * {@code beta} = 0, each [C].
 */
public final class InstanceNormPlus {
  static final double EPS = 1e-5;

  private final Output<TFloating> alpha;
  private final Output<TFloating> gamma;
  private final Output<TFloating> beta;
  private final long channels;

  public InstanceNormPlus(VarScope scope, long channels) {
    checkChannels(channels);
    this.channels = channels;
    this.alpha = scope.variable("alpha", new long[] {channels}, normalAroundOne());
    this.gamma = scope.variable("gamma", new long[] {channels}, normalAroundOne());
    this.beta = scope.variable("beta", new long[] {channels}, Initializer.zeros());
  }

  /** x: [N, H, W, C]. */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    return tf.math.add(tf.math.mul(gamma, normalize(tf, x, channels, alpha)), beta);
  }

  /**
   * The normalised activations before the affine map: (x - mu) / sqrt(s^2 + eps) + alpha * normalised means; alpha
   * is [C] or [N, 1, 1, C].
   */
  static Operand<TFloating> normalize(Ops tf, Operand<TFloating> x, long channels, Operand<TFloating> alpha) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> eps = Tensors.constant(tf, dt, EPS);
    Operand<TFloating> means = Tensors.meanKeep(tf, x, 1, 2); // [N, 1, 1, C]
    Operand<TFloating> centred = tf.math.sub(x, means);
    Operand<TFloating> variance = Tensors.meanKeep(tf, tf.math.square(centred), 1, 2);
    Operand<TFloating> h = tf.math.mul(centred, tf.math.rsqrt(tf.math.add(variance, eps)));
    Operand<TFloating> meanOfMeans = Tensors.meanKeep(tf, means, 3); // [N, 1, 1, 1]
    Operand<TFloating> d = tf.math.sub(means, meanOfMeans);
    Operand<TFloating> v = tf.math.div(Tensors.sumKeep(tf, tf.math.square(d), 3),
        Tensors.constant(tf, dt, channels - 1));
    Operand<TFloating> normalisedMeans = tf.math.mul(d, tf.math.rsqrt(tf.math.add(v, eps)));
    return tf.math.add(h, tf.math.mul(normalisedMeans, alpha));
  }

  static void checkChannels(long channels) {
    if (channels < 2) {
      throw new IllegalArgumentException("InstanceNorm++ needs at least 2 channels (the variance of the channel means "
          + "is unbiased), got " + channels);
    }
  }

  /** N(1, 0.02^2), upstream's {@code normal_(1, 0.02)}. */
  static Initializer normalAroundOne() {
    Initializer noise = Initializer.normal(0.02);
    return c -> c.tf().math.add(noise.create(c), c.constant(1.0));
  }
}
