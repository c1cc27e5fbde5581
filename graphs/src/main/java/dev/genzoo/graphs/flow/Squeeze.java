package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Pass;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The squeeze of RealNVP and Glow: each 2x2 block of pixels becomes 4 channels (space-to-depth), H x W x C ->
 * H/2 x W/2 x 4C; a permutation, so log|det| = 0.
 */
final class Squeeze implements FlowLayer {
  @Override
  public Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet) {
    return tf.nn.spaceToDepth(x, 2L);
  }

  @Override
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    return tf.nn.depthToSpace(y, 2L);
  }
}
