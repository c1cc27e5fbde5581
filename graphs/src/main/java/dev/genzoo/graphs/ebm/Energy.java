package dev.genzoo.graphs.ebm;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.family.TFloating;

/**
 * An energy U(x) as graph ops, the unnormalised negative log-density of p(x) = exp(-U(x)) / Z: a network, an analytic
 * energy in tests, or a sum of energies ({@link #plus}, a product of experts, Hinton 2002). The samplers and training
 * objectives of this package take an {@code Energy}, never a particular network.
 */
@FunctionalInterface
public interface Energy {
  /** {@code x}: [N, ...]; returns the N energies, shape [N]. */
  Operand<TFloating> apply(Ops tf, Operand<TFloating> x);

  /**
   * grad_x U(x), shape of {@code x}: the gradient of sum_n U(x_n), so each example gets its own gradient. The initial
   * gradient is an explicit constant (not TensorFlow's OnesLike, which has no gradient), so the result can be
   * differentiated again where the energy's ops allow it.
   */
  default Operand<TFloating> gradient(Ops tf, Operand<TFloating> x) {
    return gradientOf(tf, apply(tf, x), x);
  }

  /** The product of experts exp(-U_1) exp(-U_2): energies add (Hinton 2002; Du and Mordatch 2019, section 3.3). */
  default Energy plus(Energy other) {
    Energy self = this;
    return (tf, x) -> tf.math.add(self.apply(tf, x), other.apply(tf, x));
  }

  /** Tempered energy U(x) / T: T &lt; 1 sharpens, T &gt; 1 flattens. */
  default Energy temperature(double t) {
    Energy self = this;
    return (tf, x) -> {
      Operand<TFloating> u = self.apply(tf, x);
      return tf.math.div(u, tf.dtypes.cast(tf.constant(t), u.type()));
    };
  }

  /** d(sum of {@code y})/dx with an explicit constant seed gradient (twice differentiable where the ops are). */
  @SuppressWarnings("unchecked")
  static Operand<TFloating> gradientOf(Ops tf, Operand<TFloating> y, Operand<TFloating> x) {
    Operand<TFloating> total = tf.reduceSum(y, tf.range(tf.constant(0), tf.rank(y), tf.constant(1)));
    Operand<TFloating> one = tf.dtypes.cast(tf.constant(1.0f), total.type());
    Gradients g = tf.gradients(List.of(total), List.of(x), Gradients.dx(List.of(one)));
    Operand<?> dy = g.dy(0);
    if (dy == null) {
      throw new IllegalStateException("the energy does not depend on its input x");
    }
    return (Operand<TFloating>) dy;
  }
}
