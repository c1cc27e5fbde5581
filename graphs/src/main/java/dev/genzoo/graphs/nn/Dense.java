package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** A fully connected layer y = x W + b with W of shape [in, out] (TF layout). Variables: {@code kernel}, {@code bias}. */
public final class Dense {
  private final Output<TFloating> kernel;
  private final Output<TFloating> bias;

  public Dense(VarScope scope, long in, long out, boolean useBias, Initializer kernelInit) {
    this.kernel = scope.variable("kernel", new long[] {in, out}, kernelInit);
    this.bias = useBias ? scope.variable("bias", new long[] {out}, Initializer.zeros()) : null;
  }

  /** Glorot-uniform kernel, zero bias. */
  public Dense(VarScope scope, long in, long out) {
    this(scope, in, out, true, Initializer.glorotUniform());
  }

  public Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    Operand<TFloating> y = tf.linalg.matMul(x, kernel);
    return bias == null ? y : tf.math.add(y, bias);
  }
}
