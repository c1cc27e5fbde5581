package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The diagonal Gaussian of NVAE (Vahdat &amp; Kautz 2020, "NVAE: A Deep Hierarchical Variational Autoencoder";
 * upstream distributions.py), elementwise over tensors of any shape.
 *
 * <p>{@link #of} is NVAE's parametrisation from raw network outputs: the mean is soft-clamped,
 * mu = 5 tanh(mu_raw / 5), and the scale is sigma = exp(5 tanh(log_sigma_raw / 5)) + 0.01, then multiplied by a
 * sampling temperature t. {@link #residual} is the paper's residual normal posterior (section 3.2, "Residual Normal
 * Distributions"): the encoder predicts changes (dmu, dlog_sigma) of the prior's RAW parameters and the clamp applies
 * to the sums, so that without the clamp and the +0.01 the posterior is N(mu_p + dmu, (sigma_p dsigma)^2) with
 * dsigma = exp(dlog_sigma). {@link #exact} is the plain N(mu, exp(log_sigma)^2), used where the paper's formulas are
 * meant literally (tests, analytic references).
 *
 * <p>All ops stay in the dtype of the parameters (float32 or float64).
 */
public final class Normal {
  private static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

  private final Operand<TFloating> mu;
  private final Operand<TFloating> sigma;

  private Normal(Operand<TFloating> mu, Operand<TFloating> sigma) {
    this.mu = mu;
    this.sigma = sigma;
  }

  /** NVAE's Normal from raw parameters at temperature 1. */
  public static Normal of(Ops tf, Operand<TFloating> muRaw, Operand<TFloating> logSigmaRaw) {
    return of(tf, muRaw, logSigmaRaw, 1.0);
  }

  /**
   * NVAE's Normal from raw parameters: mu = 5 tanh(muRaw / 5), sigma = (exp(5 tanh(logSigmaRaw / 5)) + 0.01) t.
   */
  public static Normal of(Ops tf, Operand<TFloating> muRaw, Operand<TFloating> logSigmaRaw, double temperature) {
    Class<TFloating> dt = muRaw.type();
    Operand<TFloating> mu = softClamp5(tf, muRaw);
    Operand<TFloating> sigma = tf.math.add(tf.math.exp(softClamp5(tf, logSigmaRaw)), Tensors.constant(tf, dt, 1e-2));
    if (temperature != 1.0) {
      sigma = tf.math.mul(sigma, Tensors.constant(tf, dt, temperature));
    }
    return new Normal(mu, sigma);
  }

  /**
   * The residual normal posterior of NVAE: {@code of(muPRaw + dMuRaw, logSigmaPRaw + dLogSigmaRaw)}, relative to the
   * prior's raw parameters.
   */
  public static Normal residual(Ops tf, Operand<TFloating> muPRaw, Operand<TFloating> logSigmaPRaw,
      Operand<TFloating> dMuRaw, Operand<TFloating> dLogSigmaRaw) {
    return of(tf, tf.math.add(muPRaw, dMuRaw), tf.math.add(logSigmaPRaw, dLogSigmaRaw));
  }

  /**
   * The residual normal of the paper without NVAE's clamp and +0.01: N(mu_p + dmu, (sigma_p dsigma)^2) with
   * sigma_p = exp(logSigmaP) and dsigma = exp(dLogSigma).
   */
  public static Normal residualExact(Ops tf, Operand<TFloating> muP, Operand<TFloating> logSigmaP,
      Operand<TFloating> dMu, Operand<TFloating> dLogSigma) {
    return exact(tf, tf.math.add(muP, dMu), tf.math.add(logSigmaP, dLogSigma));
  }

  /** N(mu, exp(logSigma)^2) exactly: no clamp, no +0.01. */
  public static Normal exact(Ops tf, Operand<TFloating> mu, Operand<TFloating> logSigma) {
    return new Normal(mu, tf.math.exp(logSigma));
  }

  /** 5 tanh(x / 5): NVAE's differentiable clamp to (-5, 5). */
  public static Operand<TFloating> softClamp5(Ops tf, Operand<TFloating> x) {
    Class<TFloating> dt = x.type();
    return tf.math.mul(Tensors.constant(tf, dt, 5.0), tf.math.tanh(tf.math.div(x, Tensors.constant(tf, dt, 5.0))));
  }

  public Operand<TFloating> mu() {
    return mu;
  }

  public Operand<TFloating> sigma() {
    return sigma;
  }

  /** The reparametrised draw mu + sigma eps for standard normal {@code eps} (Kingma &amp; Welling 2014). */
  public Operand<TFloating> sample(Ops tf, Operand<TFloating> eps) {
    return tf.math.add(mu, tf.math.mul(sigma, eps));
  }

  /** The elementwise log-density -0.5 ((z - mu) / sigma)^2 - 0.5 log(2 pi) - log sigma. */
  public Operand<TFloating> logP(Ops tf, Operand<TFloating> z) {
    Class<TFloating> dt = mu.type();
    Operand<TFloating> u = tf.math.div(tf.math.sub(z, mu), sigma);
    return tf.math.sub(
        tf.math.sub(tf.math.mul(Tensors.constant(tf, dt, -0.5), tf.math.square(u)), Tensors.constant(tf, dt,
            LOG_SQRT_2PI)),
        tf.math.log(sigma));
  }

  /**
   * The elementwise KL(this || p) of two Gaussians:
   * 0.5 (((mu_q - mu_p) / sigma_p)^2 + (sigma_q / sigma_p)^2) - 0.5 - log(sigma_q / sigma_p).
   */
  public Operand<TFloating> kl(Ops tf, Normal p) {
    Class<TFloating> dt = mu.type();
    Operand<TFloating> term1 = tf.math.div(tf.math.sub(mu, p.mu), p.sigma);
    Operand<TFloating> term2 = tf.math.div(sigma, p.sigma);
    Operand<TFloating> half = Tensors.constant(tf, dt, 0.5);
    return tf.math.sub(
        tf.math.sub(tf.math.mul(half, tf.math.add(tf.math.square(term1), tf.math.square(term2))), half),
        tf.math.log(term2));
  }
}
