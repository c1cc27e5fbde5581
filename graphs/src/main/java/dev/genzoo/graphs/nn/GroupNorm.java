package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Group normalisation (Wu & He 2018, "Group Normalization") over NHWC input: the channels are split into
 * {@code groups} groups, each normalised over (H, W, channels of the group) per example, then scaled by {@code gamma}
 * and shifted by {@code beta} per channel. Variables: {@code gamma} (ones), {@code beta} (zeros). {@code epsilon} is
 * 1e-6 in the DDPM code (the default of TF1's {@code tf.contrib.layers.group_norm}).
 */
public final class GroupNorm {
  private final Output<TFloating> gamma;
  private final Output<TFloating> beta;
  private final long groups;
  private final long channels;
  private final double epsilon;

  public GroupNorm(VarScope scope, long channels, long groups, double epsilon) {
    if (groups <= 0 || channels % groups != 0) {
      throw new IllegalArgumentException(scope.path() + ": " + channels + " channels cannot be split into " + groups
          + " groups");
    }
    this.gamma = scope.variable("gamma", new long[] {channels}, Initializer.ones());
    this.beta = scope.variable("beta", new long[] {channels}, Initializer.zeros());
    this.groups = groups;
    this.channels = channels;
    this.epsilon = epsilon;
  }

  /** {@code x}: [N, H, W, C] (or [N, C], normalised over each group's channels). */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    Class<TFloating> dt = x.type();
    int rank = x.shape().numDimensions();
    Operand<TFloating> grouped;
    int[] axes;
    if (rank == 4) {
      Operand<org.tensorflow.types.TInt32> s = tf.shape(x);
      Operand<org.tensorflow.types.TInt32> target = tf.concat(java.util.List.of(
          tf.stridedSlice(s, org.tensorflow.ndarray.index.Indices.slice(0, 3)),
          tf.constant(new int[] {(int) groups, (int) (channels / groups)})), tf.constant(0));
      grouped = tf.reshape(x, target);
      axes = new int[] {1, 2, 4};
    } else if (rank == 2) {
      grouped = tf.reshape(x, tf.constant(new long[] {-1, groups, channels / groups}));
      axes = new int[] {2};
    } else {
      throw new IllegalArgumentException("GroupNorm takes [N, H, W, C] or [N, C] input, got rank " + rank);
    }
    Operand<TFloating> mean = Tensors.meanKeep(tf, grouped, axes);
    Operand<TFloating> centred = tf.math.sub(grouped, mean);
    Operand<TFloating> variance = Tensors.meanKeep(tf, tf.math.square(centred), axes);
    Operand<TFloating> normed = tf.math.mul(centred,
        tf.math.rsqrt(tf.math.add(variance, Tensors.constant(tf, dt, epsilon))));
    Operand<TFloating> back = tf.reshape(normed, tf.shape(x));
    return tf.math.add(tf.math.mul(back, gamma), beta);
  }
}
