package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.VarScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.types.family.TFloating;

/**
 * The convolution of the NCSN networks: k x k (k odd), stride 1, optionally dilated, zero padding that keeps the size
 * (PyTorch {@code padding = dilation * (k - 1) / 2}, which is TensorFlow's SAME), NHWC input, HWIO kernel.
 * Initialised as PyTorch's {@code nn.Conv2d}: kernel and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * fan_in = k * k * in. Variables: {@code kernel} and, when used, {@code bias}.
 */
final class NcsnConv {
  private static final List<Long> UNIT_STRIDES = List.of(1L, 1L, 1L, 1L);

  private final Output<TFloating> kernel;
  private final Output<TFloating> bias;
  private final long dilation;

  NcsnConv(VarScope scope, long kernelSize, long in, long out, long dilation, boolean useBias) {
    if (kernelSize % 2 != 1 || dilation < 1) {
      throw new IllegalArgumentException("kernel size must be odd and dilation >= 1, got " + kernelSize + ", "
          + dilation);
    }
    this.kernel = scope.variable("kernel", new long[] {kernelSize, kernelSize, in, out},
        Initializer.varianceScaling(1.0 / 3.0));
    this.bias = useBias
        ? scope.variable("bias", new long[] {out}, Initializer.uniform(1.0 / Math.sqrt(kernelSize * kernelSize * in)))
        : null;
    this.dilation = dilation;
  }

  Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    Operand<TFloating> y = dilation == 1
        ? tf.nn.conv2d(x, kernel, UNIT_STRIDES, "SAME")
        : tf.nn.conv2d(x, kernel, UNIT_STRIDES, "SAME", Conv2d.dilations(List.of(1L, dilation, dilation, 1L)));
    return bias == null ? y : tf.nn.biasAdd(y, bias);
  }
}
