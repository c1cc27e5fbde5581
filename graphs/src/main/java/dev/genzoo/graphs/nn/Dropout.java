package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Inverted dropout (Srivastava et al. 2014) with TensorFlow's stateless random ops: the mask is a pure function of
 * the step's seed and the layer's salt, so a resumed run draws the same masks.
 */
public final class Dropout {
  private Dropout() {}

  /**
   * Keeps each element with probability 1 - rate and scales kept ones by 1 / (1 - rate); the identity when rate is 0
   * or {@code seed} is null (inference).
   */
  public static Operand<TFloating> apply(Ops tf, Operand<TFloating> x, double rate, Operand<TInt64> seed, long salt) {
    if (rate <= 0 || seed == null) {
      return x;
    }
    if (rate >= 1) {
      throw new IllegalArgumentException("dropout rate must be below 1, got " + rate);
    }
    Class<TFloating> dt = x.type();
    Operand<TInt64> s = tf.math.add(seed, tf.constant(new long[] {0, 1_000_003L * (salt + 1)}));
    Operand<TFloating> u = tf.random.statelessRandomUniform(tf.shape(x), s, dt);
    Operand<TFloating> keep = Tensors.cast(tf, tf.math.greaterEqual(u, Tensors.constant(tf, dt, rate)), dt);
    return tf.math.mul(x, tf.math.mul(keep, Tensors.constant(tf, dt, 1 / (1 - rate))));
  }
}
