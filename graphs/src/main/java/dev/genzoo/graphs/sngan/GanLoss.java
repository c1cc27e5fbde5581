package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** The adversarial losses of {@link SnganConfig.Loss}, as batch means of per-example terms of the logits D(.). */
public final class GanLoss {
  private GanLoss() {}

  /** The critic's loss from its logits on real and on generated examples. */
  public static Operand<TFloating> critic(Ops tf, SnganConfig.Loss loss, Operand<TFloating> dReal,
      Operand<TFloating> dFake) {
    Class<TFloating> dt = dReal.type();
    Operand<TFloating> one = Tensors.constant(tf, dt, 1);
    return switch (loss) {
      case HINGE -> tf.math.add(
          Tensors.mean(tf, tf.nn.relu(tf.math.sub(one, dReal)), 0),
          Tensors.mean(tf, tf.nn.relu(tf.math.add(one, dFake)), 0));
      case NON_SATURATING -> tf.math.add(
          Tensors.mean(tf, tf.math.softplus(tf.math.neg(dReal)), 0),
          Tensors.mean(tf, tf.math.softplus(dFake), 0));
    };
  }

  /** The generator's loss from the critic's logits on generated examples. */
  public static Operand<TFloating> generator(Ops tf, SnganConfig.Loss loss, Operand<TFloating> dFake) {
    return switch (loss) {
      case HINGE -> tf.math.neg(Tensors.mean(tf, dFake, 0));
      case NON_SATURATING -> Tensors.mean(tf, tf.math.softplus(tf.math.neg(dFake)), 0);
    };
  }
}
