package dev.genzoo.graphs.ebm;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Unadjusted Langevin dynamics, x' = x - eta grad U(x) + s xi with xi ~ N(0, I) (Roberts and Tweedie 1996; Welling and
 * Teh 2011). With the default noise scale s = sqrt(2 eta) it discretises dX = -grad U dt + sqrt(2) dB, whose stationary
 * law is exp(-U); deep EBMs decouple the two (Du and Mordatch 2019 take eta = 10 on the gradient and s = 0.005) and
 * then sample a tempered, biased version of exp(-U), as the paper says. Optionally the state is clipped to a box after
 * each step (images in [0, 1]) and the gradient's elements are clipped.
 *
 * @param stepSize eta, the step on the gradient
 * @param noiseScale s, the standard deviation of the added noise
 * @param clipMin lower bound of the state after each step, or NaN for none
 * @param clipMax upper bound of the state after each step, or NaN for none
 * @param gradClip element-wise bound on the gradient, or 0 for none
 */
public record Langevin(double stepSize, double noiseScale, double clipMin, double clipMax, double gradClip)
    implements McmcKernel {

  public Langevin {
    if (!(stepSize > 0) || !Double.isFinite(stepSize)) {
      throw new IllegalArgumentException("Langevin step size must be positive and finite, got " + stepSize);
    }
    if (!(noiseScale >= 0) || !Double.isFinite(noiseScale)) {
      throw new IllegalArgumentException("Langevin noise scale must be non-negative, got " + noiseScale);
    }
    if (!Double.isNaN(clipMin) && !Double.isNaN(clipMax) && clipMin >= clipMax) {
      throw new IllegalArgumentException("Langevin clip range is empty: [" + clipMin + ", " + clipMax + "]");
    }
    if (gradClip < 0) {
      throw new IllegalArgumentException("Langevin gradient clip must be non-negative, got " + gradClip);
    }
  }

  /** The discretised Langevin diffusion: noise sqrt(2 eta), no clipping. */
  public static Langevin of(double stepSize) {
    return new Langevin(stepSize, Math.sqrt(2 * stepSize), Double.NaN, Double.NaN, 0);
  }

  /** Step and noise chosen separately, as deep EBMs do. */
  public static Langevin of(double stepSize, double noiseScale) {
    return new Langevin(stepSize, noiseScale, Double.NaN, Double.NaN, 0);
  }

  /** The same kernel with the state clipped to [min, max] after each step. */
  public Langevin clipped(double min, double max) {
    return new Langevin(stepSize, noiseScale, min, max, gradClip);
  }

  /** The same kernel with the gradient's elements clipped to [-c, c]. */
  public Langevin withGradClip(double c) {
    return new Langevin(stepSize, noiseScale, clipMin, clipMax, c);
  }

  @Override
  public Move step(Ops tf, Energy energy, Operand<TFloating> x, Operand<TInt64> seed) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> grad = energy.gradient(tf, x);
    if (gradClip > 0) {
      grad = tf.clipByValue(grad, c(tf, dt, -gradClip), c(tf, dt, gradClip));
    }
    Operand<TFloating> next = tf.math.sub(x, tf.math.mul(c(tf, dt, stepSize), grad));
    if (noiseScale > 0) {
      Operand<TFloating> xi = tf.random.statelessRandomNormal(tf.shape(x), seed, dt);
      next = tf.math.add(next, tf.math.mul(c(tf, dt, noiseScale), xi));
    }
    if (!Double.isNaN(clipMin)) {
      next = tf.math.maximum(next, c(tf, dt, clipMin));
    }
    if (!Double.isNaN(clipMax)) {
      next = tf.math.minimum(next, c(tf, dt, clipMax));
    }
    return new Move(next, null);
  }

  private static Operand<TFloating> c(Ops tf, Class<TFloating> dt, double v) {
    return dev.genzoo.graphs.nn.Tensors.constant(tf, dt, v);
  }
}
