package dev.genzoo.graphs.nn;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A multilayer perceptron for low-dimensional models: dense layers {@code dense_0 ... dense_{k-1}} with an activation
 * between them, and an output layer {@code out} that is either a plain dense layer or Glow's zero-initialised one.
 */
public final class Mlp {
  /** Activations by name, so that configs can choose them. */
  public enum Activation { RELU, ELU, TANH, SWISH, SOFTPLUS }

  private final List<Dense> hidden = new ArrayList<>();
  private final Dense out;
  private final ZeroInitOutput zeroOut;
  private final Activation activation;
  private final Class<TFloating> dt;

  public Mlp(VarScope scope, long in, long[] widths, long outDim, Activation activation, boolean zeroInitOutput) {
    long prev = in;
    for (int i = 0; i < widths.length; i++) {
      hidden.add(new Dense(scope.child("dense", i), prev, widths[i], true, Initializer.glorotUniform()));
      prev = widths[i];
    }
    if (zeroInitOutput) {
      this.zeroOut = new ZeroInitOutput(scope.child("out"), 0, prev, outDim);
      this.out = null;
    } else {
      this.out = new Dense(scope.child("out"), prev, outDim, true, Initializer.glorotUniform());
      this.zeroOut = null;
    }
    this.activation = activation;
    this.dt = scope.dtype();
  }

  public Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    Operand<TFloating> h = x;
    for (Dense d : hidden) {
      h = activate(tf, activation, d.call(tf, h));
    }
    return out != null ? out.call(tf, h) : zeroOut.call(tf, dt, h);
  }

  public static Operand<TFloating> activate(Ops tf, Activation a, Operand<TFloating> x) {
    return switch (a) {
      case RELU -> tf.nn.relu(x);
      case ELU -> tf.nn.elu(x);
      case TANH -> tf.math.tanh(x);
      case SWISH -> Tensors.swish(tf, x);
      case SOFTPLUS -> tf.math.softplus(x);
    };
  }
}
