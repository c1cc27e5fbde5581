package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Activation normalisation (Kingma & Dhariwal 2018, Glow, section 3.1): y = (x + bias) * exp(logs) per channel (the
 * last axis), with data-dependent initialisation so that the first batch comes out with zero mean and unit variance
 * per channel. Works on [N, C] and [N, H, W, C]. As a flow layer its log-determinant is H * W * sum(logs).
 * Variables: {@code bias}, {@code logs}.
 */
public final class ActNorm {
  private final Output<TFloating> bias;
  private final Output<TFloating> logs;
  private final Class<TFloating> dt;
  private final double initScale;
  private final VarStore store;

  public ActNorm(VarScope scope, long channels) {
    this(scope, channels, 1.0);
  }

  /** @param initScale the standard deviation the first batch is initialised to (Glow's {@code scale}, 1.0) */
  public ActNorm(VarScope scope, long channels, double initScale) {
    this.bias = scope.variable("bias", new long[] {channels}, Initializer.zeros());
    this.logs = scope.variable("logs", new long[] {channels}, Initializer.zeros());
    this.dt = scope.dtype();
    this.initScale = initScale;
    this.store = scope.store();
  }

  /** The forward map and the (bias, logs) it used: the variables, or the data-derived values in a dataInit pass. */
  private Operand<TFloating>[] params(Ops tf, Pass pass, Operand<TFloating> x) {
    @SuppressWarnings("unchecked")
    Operand<TFloating>[] p = new Operand[] {bias, logs};
    if (pass.isDataInit()) {
      int rank = x.shape().numDimensions();
      int[] axes = new int[rank - 1];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
      Operand<TFloating> mean = Tensors.mean(tf, x, axes);
      Operand<TFloating> var = Tensors.mean(tf, tf.math.square(tf.math.sub(x, mean)), axes);
      Operand<TFloating> b = tf.math.neg(mean);
      Operand<TFloating> l = tf.math.log(tf.math.div(Tensors.constant(tf, dt, initScale),
          tf.math.add(tf.math.sqrt(var), Tensors.constant(tf, dt, 1e-6))));
      pass.addInitAssign(store.assign(bias, b));
      pass.addInitAssign(store.assign(logs, l));
      p[0] = b;
      p[1] = l;
    }
    return p;
  }

  public Operand<TFloating> call(Ops tf, Pass pass, Operand<TFloating> x) {
    Operand<TFloating>[] p = params(tf, pass, x);
    return tf.math.mul(tf.math.add(x, p[0]), tf.math.exp(p[1]));
  }

  /** The inverse map x = y * exp(-logs) - bias. */
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    return tf.math.sub(tf.math.mul(y, tf.math.exp(tf.math.neg(logs))), bias);
  }

  /** log|det dy/dx| for one example: {@code spatial} (H * W, or 1 for [N, C]) times sum(logs). */
  public Operand<TFloating> logDet(Ops tf, long spatial) {
    return tf.math.mul(Tensors.sum(tf, logs, 0), Tensors.constant(tf, dt, spatial));
  }
}
