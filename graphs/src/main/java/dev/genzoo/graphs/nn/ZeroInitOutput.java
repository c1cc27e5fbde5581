package dev.genzoo.graphs.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The zero-initialised output layer of Glow (Kingma & Dhariwal 2018, "conv2d_zeros"): y = (W * x + b) exp(3 logs),
 * with W, b and logs all zero at initialisation, so that a coupling layer starts as the identity and a split prior as
 * N(0, 1). A 3x3 (or k x k) convolution for NHWC input, or a dense layer for [N, D] input ({@code kernelSize = 0}).
 * Variables: {@code kernel}, {@code bias}, {@code logs}.
 */
public final class ZeroInitOutput {
  /** Glow's logscale_factor. */
  public static final double LOG_SCALE_FACTOR = 3.0;

  private final Output<TFloating> kernel;
  private final Output<TFloating> bias;
  private final Output<TFloating> logs;
  private final boolean conv;

  /** @param kernelSize the convolution size, or 0 for a dense layer */
  public ZeroInitOutput(VarScope scope, long kernelSize, long in, long out) {
    this.conv = kernelSize > 0;
    long[] shape = conv ? new long[] {kernelSize, kernelSize, in, out} : new long[] {in, out};
    this.kernel = scope.variable("kernel", shape, Initializer.zeros());
    this.bias = scope.variable("bias", new long[] {out}, Initializer.zeros());
    this.logs = scope.variable("logs", new long[] {out}, Initializer.zeros());
  }

  public Operand<TFloating> call(Ops tf, Class<TFloating> dt, Operand<TFloating> x) {
    Operand<TFloating> y = conv
        ? tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME")
        : tf.linalg.matMul(x, kernel);
    y = tf.math.add(y, bias);
    return tf.math.mul(y, tf.math.exp(tf.math.mul(logs, Tensors.constant(tf, dt, LOG_SCALE_FACTOR))));
  }
}
