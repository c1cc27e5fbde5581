package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The Metropolis-adjusted Langevin algorithm, MALA (Roberts and Tweedie 1996, "Exponential convergence of Langevin
 * distributions and their discrete approximations", Bernoulli 2(4)). The Langevin step is a proposal,
 * <pre>
 *   y = x - eta grad U(x) + sqrt(2 eta) xi,   xi ~ N(0, I),   q(y | x) = N(y; x - eta grad U(x), 2 eta I),
 * </pre>
 * accepted with probability min(1, exp(-U(y) + U(x) + log q(x | y) - log q(y | x))), chain by chain. The Metropolis
 * correction removes the O(eta) discretisation bias of unadjusted Langevin ({@link Langevin}): exp(-U) is invariant
 * exactly, for every step size; a large step only lowers the acceptance rate.
 *
 * <p>Randomness: the noise xi is drawn with the seed {@code seed + [1, 0]} and the acceptance uniforms with
 * {@code seed + [2, 0]} (TensorFlow's stateless draws), so the two streams are distinct and each step of
 * {@link #unroll} (seed + [0, i + 1]) gets its own pair. A proposal whose energy is not finite is rejected.
 *
 * @param stepSize eta
 */
public record Mala(double stepSize) implements McmcKernel {

  public Mala {
    if (!(stepSize > 0) || !Double.isFinite(stepSize)) {
      throw new IllegalArgumentException("MALA step size must be positive and finite, got " + stepSize);
    }
  }

  @Override
  public Move step(Ops tf, Energy energy, Operand<TFloating> x, Operand<TInt64> seed) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> eta = Tensors.constant(tf, dt, stepSize);
    Operand<TFloating> ux = energy.apply(tf, x);
    Operand<TFloating> meanX = tf.math.sub(x, tf.math.mul(eta, Energy.gradientOf(tf, ux, x)));
    Operand<TFloating> xi = tf.random.statelessRandomNormal(tf.shape(x), subSeed(tf, seed, 1), dt);
    Operand<TFloating> y = tf.math.add(meanX, tf.math.mul(Tensors.constant(tf, dt, Math.sqrt(2 * stepSize)), xi));
    Operand<TFloating> uy = energy.apply(tf, y);
    Operand<TFloating> meanY = tf.math.sub(y, tf.math.mul(eta, Energy.gradientOf(tf, uy, y)));
    // log q(y | x) - log q(x | y): the normalising constants cancel; |y - meanX|^2 / (4 eta) = |xi|^2 / 2.
    Operand<TFloating> logQForward = tf.math.neg(tf.math.mul(Tensors.constant(tf, dt, 0.5),
        perExampleSum(tf, tf.math.square(xi))));
    Operand<TFloating> logQBackward = tf.math.neg(tf.math.div(perExampleSum(tf, tf.math.square(tf.math.sub(x, meanY))),
        Tensors.constant(tf, dt, 4 * stepSize)));
    Operand<TFloating> logAlpha = tf.math.add(tf.math.sub(ux, uy), tf.math.sub(logQBackward, logQForward));
    return metropolis(tf, x, y, logAlpha, seed);
  }

  /** {@code seed + [k, 0]}: the k-th sub-stream of a step's seed. */
  static Operand<TInt64> subSeed(Ops tf, Operand<TInt64> seed, long k) {
    return tf.math.add(seed, tf.constant(new long[] {k, 0}));
  }

  /** The sum over every axis but the first of an [N, ...] tensor: [N]. */
  static Operand<TFloating> perExampleSum(Ops tf, Operand<TFloating> v) {
    return tf.reduceSum(v, tf.range(tf.constant(1), tf.rank(v), tf.constant(1)));
  }

  /**
   * The Metropolis-Hastings decision, chain by chain: accept {@code y} where log u &lt; {@code logAlpha} with
   * u ~ U[0, 1) drawn with {@code seed + [2, 0]} (so with probability min(1, exp(logAlpha))); NaN is rejected.
   */
  static Move metropolis(Ops tf, Operand<TFloating> x, Operand<TFloating> y, Operand<TFloating> logAlpha,
      Operand<TInt64> seed) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> u = tf.random.statelessRandomUniform(tf.shape(logAlpha), subSeed(tf, seed, 2), dt);
    Operand<TBool> accept = tf.math.less(tf.math.log(u), logAlpha);
    // [N] -> [N, 1, ..., 1] so that the choice broadcasts over each example.
    Operand<TInt32> ones = tf.fill(tf.reshape(tf.math.sub(tf.rank(x), tf.constant(1)), tf.constant(new int[] {1})),
        tf.constant(1));
    Operand<TBool> mask = tf.reshape(accept, tf.concat(List.of(tf.shape(logAlpha), ones), tf.constant(0)));
    Operand<TFloating> next = tf.select(mask, y, x);
    return new Move(next, tf.dtypes.cast(accept, dt));
  }
}
