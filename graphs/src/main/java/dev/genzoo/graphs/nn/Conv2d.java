package dev.genzoo.graphs.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A 2-D convolution over NHWC input with an HWIO kernel [k, k, in, out], stride 1 or 2, SAME or VALID padding.
 * Variables: {@code kernel} and, when used, {@code bias}.
 */
public final class Conv2d {
  private final Output<TFloating> kernel;
  private final Output<TFloating> bias;
  private final long stride;
  private final String padding;

  public Conv2d(VarScope scope, long kernelSize, long in, long out, long stride, String padding, boolean useBias,
      Initializer kernelInit) {
    this.kernel = scope.variable("kernel", new long[] {kernelSize, kernelSize, in, out}, kernelInit);
    this.bias = useBias ? scope.variable("bias", new long[] {out}, Initializer.zeros()) : null;
    this.stride = stride;
    this.padding = padding;
  }

  /** Stride 1, SAME padding, bias, Glorot-uniform kernel. */
  public Conv2d(VarScope scope, long kernelSize, long in, long out) {
    this(scope, kernelSize, in, out, 1, "SAME", true, Initializer.glorotUniform());
  }

  public Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    Operand<TFloating> y = tf.nn.conv2d(x, kernel, List.of(1L, stride, stride, 1L), padding);
    return bias == null ? y : tf.nn.biasAdd(y, bias);
  }

  public Output<TFloating> kernel() {
    return kernel;
  }
}
