package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A spectrally normalised dense layer y = x (W / sigma(W)) + b (Miyato et al. 2018). Variables: {@code kernel} [in,
 * out], {@code kernel_u} [out] (the power-iteration vector, saved) and {@code bias}.
 */
public final class SnDense {
  private final SpectralNorm.Weight kernel;
  private final Output<TFloating> bias;

  public SnDense(VarScope scope, long in, long out, boolean useBias, Initializer kernelInit) {
    this.kernel = new SpectralNorm.Weight(scope, "kernel", new long[] {in, out}, kernelInit);
    this.bias = useBias ? scope.variable("bias", new long[] {out}, Initializer.zeros()) : null;
  }

  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> y = tf.linalg.matMul(x, kernel.weight(tf, pass));
    return bias == null ? y : tf.math.add(y, bias);
  }

  public SpectralNorm.Weight kernel() {
    return kernel;
  }
}
