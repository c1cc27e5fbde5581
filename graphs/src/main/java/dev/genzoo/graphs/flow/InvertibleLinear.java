package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Glow's invertible 1x1 convolution with the LU parametrisation (Kingma & Dhariwal 2018, section 3.2):
 * W = P L (U + diag(sign_s * exp(log_s))), applied per position as y = x W (a 1x1 convolution for images, a matrix
 * product for points); log|det| = H * W * sum(log_s). P and sign_s are fixed (saved state); L and U are stored as
 * full C x C matrices and masked to their strict triangles. The inverse uses W^-1, needed only for sampling.
 * Variables: {@code lower}, {@code upper}, {@code log_s} (trainable), {@code permutation}, {@code sign_s} (state).
 */
final class InvertibleLinear implements FlowLayer {
  private final Output<TFloating> lower;
  private final Output<TFloating> upper;
  private final Output<TFloating> logS;
  private final Output<TFloating> permutation;
  private final Output<TFloating> signS;
  private final Operand<TFloating> lowerMask;
  private final Operand<TFloating> upperMask;
  private final Operand<TFloating> eye;
  private final int channels;
  private final Class<TFloating> dt;

  InvertibleLinear(VarScope scope, int channels) {
    long seed = scope.store().seed() * 1_000_003L + scope.path().hashCode();
    Lu lu = Lu.decompose(Lu.randomRotation(channels, seed), channels);
    long[] mat = {channels, channels};
    this.channels = channels;
    this.dt = scope.dtype();
    this.permutation = scope.state("permutation", mat, Initializer.values(lu.p));
    this.signS = scope.state("sign_s", new long[] {channels}, Initializer.values(lu.signS));
    this.lower = scope.variable("lower", mat, Initializer.values(lu.lower));
    this.upper = scope.variable("upper", mat, Initializer.values(lu.upper));
    this.logS = scope.variable("log_s", new long[] {channels}, Initializer.values(lu.logS));
    double[] lm = new double[channels * channels];
    double[] um = new double[channels * channels];
    double[] id = new double[channels * channels];
    for (int i = 0; i < channels; i++) {
      for (int j = 0; j < channels; j++) {
        lm[i * channels + j] = j < i ? 1 : 0;
        um[i * channels + j] = j > i ? 1 : 0;
        id[i * channels + j] = i == j ? 1 : 0;
      }
    }
    Ops tf = scope.tf();
    this.lowerMask = Tensors.constant(tf, dt, lm, Shape.of(mat));
    this.upperMask = Tensors.constant(tf, dt, um, Shape.of(mat));
    this.eye = Tensors.constant(tf, dt, id, Shape.of(mat));
  }

  /** W = P (L * mask_l + I) (U * mask_u + diag(sign_s * exp(log_s))). */
  private Operand<TFloating> weight(Ops tf) {
    Operand<TFloating> l = tf.math.add(tf.math.mul(lower, lowerMask), eye);
    Operand<TFloating> diag = tf.math.mul(eye, tf.math.mul(signS, tf.math.exp(logS)));
    Operand<TFloating> u = tf.math.add(tf.math.mul(upper, upperMask), diag);
    return tf.linalg.matMul(permutation, tf.linalg.matMul(l, u));
  }

  private Operand<TFloating> applyMatrix(Ops tf, Operand<TFloating> x, Operand<TFloating> w) {
    if (x.shape().numDimensions() == 2) {
      return tf.linalg.matMul(x, w);
    }
    Operand<TFloating> kernel = tf.reshape(w, tf.constant(new long[] {1, 1, channels, channels}));
    return tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME");
  }

  @Override
  public Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet) {
    logDet.add(tf.math.mul(Tensors.sum(tf, logS, 0), Tensors.constant(tf, dt, Flows.spatial(x))));
    return applyMatrix(tf, x, weight(tf));
  }

  @Override
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    return applyMatrix(tf, y, tf.linalg.inv(weight(tf)));
  }
}
