package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Random-walk Metropolis (Metropolis et al. 1953): the symmetric proposal y = x + s xi, xi ~ N(0, I), accepted with
 * probability min(1, exp(U(x) - U(y))), chain by chain. It needs no gradient, so it samples any energy, but its step
 * must shrink like d^(-1/2) with the dimension (Roberts, Gelman and Gilks 1997: acceptance about 0.234 in high
 * dimension). Noise from {@code seed + [1, 0]}, acceptance uniforms from {@code seed + [2, 0]}, as in {@link Mala}.
 *
 * @param scale s, the proposal's standard deviation
 */
public record RandomWalkMetropolis(double scale) implements McmcKernel {

  public RandomWalkMetropolis {
    if (!(scale > 0) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException("random-walk Metropolis scale must be positive and finite, got " + scale);
    }
  }

  @Override
  public Move step(Ops tf, Energy energy, Operand<TFloating> x, Operand<TInt64> seed) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> xi = tf.random.statelessRandomNormal(tf.shape(x), Mala.subSeed(tf, seed, 1), dt);
    Operand<TFloating> y = tf.math.add(x, tf.math.mul(Tensors.constant(tf, dt, scale), xi));
    Operand<TFloating> logAlpha = tf.math.sub(energy.apply(tf, x), energy.apply(tf, y));
    return Mala.metropolis(tf, x, y, logAlpha, seed);
  }
}
