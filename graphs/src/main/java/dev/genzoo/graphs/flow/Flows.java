package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Shape helpers shared by the flow layers. */
final class Flows {
  private Flows() {}

  /** H * W of a static [N, H, W, C] shape, or 1 for [N, D]. */
  static long spatial(Operand<?> x) {
    Shape s = x.shape();
    return s.numDimensions() == 4 ? s.get(1) * s.get(2) : 1;
  }

  /** The size of the last axis. */
  static int channels(Operand<?> x) {
    Shape s = x.shape();
    return (int) s.get(s.numDimensions() - 1);
  }

  /** x[..., from:to]. */
  static Operand<TFloating> channelSlice(Ops tf, Operand<TFloating> x, long from, long to) {
    return tf.stridedSlice(x, Indices.ellipsis(), Indices.slice(from, to));
  }

  /** x[..., start::2]. */
  static Operand<TFloating> channelStride2(Ops tf, Operand<TFloating> x, long start) {
    return tf.stridedSlice(x, Indices.ellipsis(), Indices.sliceFrom(start, 2));
  }

  /** Concatenation along the last axis. */
  static Operand<TFloating> concatChannels(Ops tf, Operand<TFloating> a, Operand<TFloating> b) {
    return tf.concat(java.util.List.of(a, b), tf.constant(a.shape().numDimensions() - 1));
  }

  /** Per-example sum of every axis but the batch axis. */
  static Operand<TFloating> sumPerExample(Ops tf, Operand<TFloating> x) {
    return Tensors.sumPerExample(tf, x, x.shape().numDimensions());
  }
}
