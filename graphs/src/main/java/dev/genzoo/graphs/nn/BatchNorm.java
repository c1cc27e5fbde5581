package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Batch normalisation (Ioffe & Szegedy 2015) over the last axis of [N, C] or [N, H, W, C] input. In a training
 * {@link Pass} it normalises with the batch statistics and records the moving-average updates
 * (m <- momentum m + (1 - momentum) batch); in inference it uses the moving statistics.
 * Variables: {@code gamma}, {@code beta} (trainable), {@code moving_mean}, {@code moving_variance} (state).
 */
public final class BatchNorm {
  private final Output<TFloating> gamma;
  private final Output<TFloating> beta;
  private final Output<TFloating> movingMean;
  private final Output<TFloating> movingVariance;
  private final Class<TFloating> dt;
  private final double momentum;
  private final double epsilon;
  private final VarStore store;

  public BatchNorm(VarScope scope, long channels) {
    this(scope, channels, 0.9, 1e-5);
  }

  public BatchNorm(VarScope scope, long channels, double momentum, double epsilon) {
    this.gamma = scope.variable("gamma", new long[] {channels}, Initializer.ones());
    this.beta = scope.variable("beta", new long[] {channels}, Initializer.zeros());
    this.movingMean = scope.state("moving_mean", new long[] {channels}, Initializer.zeros());
    this.movingVariance = scope.state("moving_variance", new long[] {channels}, Initializer.ones());
    this.dt = scope.dtype();
    this.momentum = momentum;
    this.epsilon = epsilon;
    this.store = scope.store();
  }

  public Operand<TFloating> call(Ops tf, Pass pass, Operand<TFloating> x) {
    Operand<TFloating> mean;
    Operand<TFloating> var;
    if (pass.isTraining()) {
      int rank = x.shape().numDimensions();
      int[] axes = new int[rank - 1];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
      mean = Tensors.mean(tf, x, axes);
      var = Tensors.mean(tf, tf.math.square(tf.math.sub(x, mean)), axes);
      Operand<TFloating> keep = Tensors.constant(tf, dt, momentum);
      Operand<TFloating> take = Tensors.constant(tf, dt, 1 - momentum);
      pass.addUpdate(store.assign(movingMean,
          tf.math.add(tf.math.mul(movingMean, keep), tf.math.mul(tf.stopGradient(mean), take))));
      pass.addUpdate(store.assign(movingVariance,
          tf.math.add(tf.math.mul(movingVariance, keep), tf.math.mul(tf.stopGradient(var), take))));
    } else {
      mean = movingMean;
      var = movingVariance;
    }
    Operand<TFloating> inv = tf.math.mul(tf.math.rsqrt(tf.math.add(var, Tensors.constant(tf, dt, epsilon))), gamma);
    return tf.math.add(tf.math.mul(tf.math.sub(x, mean), inv), beta);
  }
}
