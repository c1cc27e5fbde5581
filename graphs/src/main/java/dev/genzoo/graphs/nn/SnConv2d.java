package dev.genzoo.graphs.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A spectrally normalised 2-D convolution over NHWC input (Miyato et al. 2018): the HWIO kernel is divided by the
 * largest singular value of its [kh kw in, out] matrix. Variables: {@code kernel}, {@code kernel_u} [out], {@code bias}.
 */
public final class SnConv2d {
  private final SpectralNorm.Weight kernel;
  private final Output<TFloating> bias;
  private final long stride;
  private final String padding;

  public SnConv2d(VarScope scope, long kernelSize, long in, long out, long stride, String padding, boolean useBias,
      Initializer kernelInit) {
    this.kernel = new SpectralNorm.Weight(scope, "kernel", new long[] {kernelSize, kernelSize, in, out}, kernelInit);
    this.bias = useBias ? scope.variable("bias", new long[] {out}, Initializer.zeros()) : null;
    this.stride = stride;
    this.padding = padding;
  }

  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> y = tf.nn.conv2d(x, kernel.weight(tf, pass), List.of(1L, stride, stride, 1L), padding);
    return bias == null ? y : tf.nn.biasAdd(y, bias);
  }

  public SpectralNorm.Weight kernel() {
    return kernel;
  }
}
