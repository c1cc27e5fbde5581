package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Glow's coupling (Kingma & Dhariwal 2018, section 3.3): x = [x_a, x_b] split along channels; h = NN(x_a);
 * affine: shift = h[..., 0::2], scale = sigmoid(h[..., 1::2] + 2), y_b = (x_b + shift) * scale, log|det| =
 * sum log scale; additive (NICE, Dinh et al. 2015): y_b = x_b + h. With {@code parity} 1 the halves swap roles, so
 * stacked layers without a permutation between them (NICE) transform both halves. Scope: nn.
 */
final class AffineCoupling implements FlowLayer {
  private final CouplingNet nn;
  private final boolean affine;
  private final int split;
  private final int parity;
  private final Class<TFloating> dt;

  /**
   * @param channels size of the last axis
   * @param image NHWC input (Glow's conv network) or [N, D] points (an MLP)
   */
  AffineCoupling(VarScope scope, int channels, boolean image, long width, boolean affine, int parity) {
    if (channels < 2) {
      throw new IllegalArgumentException("a coupling layer needs at least 2 channels/dimensions, got " + channels);
    }
    this.split = channels / 2;
    this.parity = parity;
    this.affine = affine;
    this.dt = scope.dtype();
    int condition = parity == 0 ? split : channels - split;
    int transformed = channels - condition;
    long out = affine ? 2L * transformed : transformed;
    VarScope s = scope.child("nn");
    this.nn = image ? CouplingNet.glowConv(s, condition, width, out) : CouplingNet.mlp(s, condition, width, out);
  }

  private Operand<TFloating>[] halves(Ops tf, Operand<TFloating> x) {
    int c = Flows.channels(x);
    Operand<TFloating> first = Flows.channelSlice(tf, x, 0, split);
    Operand<TFloating> second = Flows.channelSlice(tf, x, split, c);
    @SuppressWarnings("unchecked")
    Operand<TFloating>[] ab = parity == 0 ? new Operand[] {first, second} : new Operand[] {second, first};
    return ab;
  }

  private Operand<TFloating> join(Ops tf, Operand<TFloating> a, Operand<TFloating> b) {
    return parity == 0 ? Flows.concatChannels(tf, a, b) : Flows.concatChannels(tf, b, a);
  }

  private Operand<TFloating> scale(Ops tf, Operand<TFloating> h) {
    return tf.math.sigmoid(tf.math.add(Flows.channelStride2(tf, h, 1), Tensors.constant(tf, dt, 2.0)));
  }

  @Override
  public Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet) {
    Operand<TFloating>[] ab = halves(tf, x);
    Operand<TFloating> h = nn.call(tf, pass, ab[0]);
    Operand<TFloating> b;
    if (affine) {
      Operand<TFloating> scale = scale(tf, h);
      b = tf.math.mul(tf.math.add(ab[1], Flows.channelStride2(tf, h, 0)), scale);
      logDet.add(Flows.sumPerExample(tf, tf.math.log(scale)));
    } else {
      b = tf.math.add(ab[1], h);
    }
    return join(tf, ab[0], b);
  }

  @Override
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    Operand<TFloating>[] ab = halves(tf, y);
    Operand<TFloating> h = nn.call(tf, Pass.inference(), ab[0]);
    Operand<TFloating> b;
    if (affine) {
      b = tf.math.sub(tf.math.div(ab[1], scale(tf, h)), Flows.channelStride2(tf, h, 0));
    } else {
      b = tf.math.sub(ab[1], h);
    }
    return join(tf, ab[0], b);
  }
}
