package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * RealNVP's affine coupling (Dinh et al. 2017, section 3): y = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x)),
 * log|det| = sum (1 - b) s. The mask b is a checkerboard over pixels or one half of the channels (dimensions for
 * points), chosen by {@code parity}. The log-scale is bounded as s = scale * tanh(raw), with a learned per-channel
 * {@code scale}. Scopes: nn, and the variable {@code scale}.
 */
final class RealNvpCoupling implements FlowLayer {
  enum Mask { CHECKERBOARD, CHANNEL }

  private final Mask mask;
  private final int parity;
  private final int channels;
  private final int split;
  private final CouplingNet nn;
  private final Output<TFloating> scale;
  private final Operand<TFloating> board;
  private final Class<TFloating> dt;

  /**
   * @param shape one example: [H, W, C] or [D]
   */
  RealNvpCoupling(VarScope scope, long[] shape, Mask mask, int parity, long width, int resBlocks) {
    this.mask = mask;
    this.parity = parity;
    this.dt = scope.dtype();
    boolean image = shape.length == 3;
    this.channels = (int) shape[shape.length - 1];
    this.split = channels / 2;
    if (mask == Mask.CHECKERBOARD && !image) {
      throw new IllegalArgumentException("checkerboard masks need images");
    }
    if (mask == Mask.CHANNEL && channels < 2) {
      throw new IllegalArgumentException("a channel-wise coupling needs at least 2 channels/dimensions");
    }
    long in;
    long out;
    if (mask == Mask.CHECKERBOARD) {
      in = channels;
      out = channels;
      int h = (int) shape[0];
      int w = (int) shape[1];
      double[] b = new double[h * w];
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < w; j++) {
          b[i * w + j] = (i + j + parity) % 2;
        }
      }
      this.board = Tensors.constant(scope.tf(), dt, b, Shape.of(1, h, w, 1));
    } else {
      in = parity == 0 ? split : channels - split;
      out = channels - in;
      this.board = null;
    }
    VarScope s = scope.child("nn");
    this.nn = image ? CouplingNet.resNet(s, in, width, resBlocks, 2 * out) : CouplingNet.mlp(s, in, width, 2 * out);
    this.scale = scope.variable("scale", new long[] {out}, Initializer.ones());
  }

  /** (s, t) from the conditioning input, s = scale * tanh(raw). */
  private Operand<TFloating>[] st(Ops tf, Pass pass, Operand<TFloating> cond) {
    Operand<TFloating> h = nn.call(tf, pass, cond);
    int c = Flows.channels(h) / 2;
    Operand<TFloating> s = tf.math.mul(scale, tf.math.tanh(Flows.channelSlice(tf, h, 0, c)));
    Operand<TFloating> t = Flows.channelSlice(tf, h, c, 2L * c);
    @SuppressWarnings("unchecked")
    Operand<TFloating>[] out = new Operand[] {s, t};
    return out;
  }

  @Override
  public Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet) {
    if (mask == Mask.CHECKERBOARD) {
      Operand<TFloating> inv = tf.math.sub(Tensors.constant(tf, dt, 1.0), board);
      Operand<TFloating>[] st = st(tf, pass, tf.math.mul(x, board));
      Operand<TFloating> s = tf.math.mul(st[0], inv);
      Operand<TFloating> t = tf.math.mul(st[1], inv);
      logDet.add(Flows.sumPerExample(tf, s));
      return tf.math.add(tf.math.mul(x, tf.math.exp(s)), t);
    }
    Operand<TFloating> first = Flows.channelSlice(tf, x, 0, split);
    Operand<TFloating> second = Flows.channelSlice(tf, x, split, channels);
    Operand<TFloating> cond = parity == 0 ? first : second;
    Operand<TFloating> moved = parity == 0 ? second : first;
    Operand<TFloating>[] st = st(tf, pass, cond);
    logDet.add(Flows.sumPerExample(tf, st[0]));
    Operand<TFloating> y = tf.math.add(tf.math.mul(moved, tf.math.exp(st[0])), st[1]);
    return parity == 0 ? Flows.concatChannels(tf, cond, y) : Flows.concatChannels(tf, y, cond);
  }

  @Override
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    Pass pass = Pass.inference();
    if (mask == Mask.CHECKERBOARD) {
      Operand<TFloating> inv = tf.math.sub(Tensors.constant(tf, dt, 1.0), board);
      Operand<TFloating>[] st = st(tf, pass, tf.math.mul(y, board));
      Operand<TFloating> s = tf.math.mul(st[0], inv);
      Operand<TFloating> t = tf.math.mul(st[1], inv);
      return tf.math.mul(tf.math.sub(y, t), tf.math.exp(tf.math.neg(s)));
    }
    Operand<TFloating> first = Flows.channelSlice(tf, y, 0, split);
    Operand<TFloating> second = Flows.channelSlice(tf, y, split, channels);
    Operand<TFloating> cond = parity == 0 ? first : second;
    Operand<TFloating> moved = parity == 0 ? second : first;
    Operand<TFloating>[] st = st(tf, pass, cond);
    Operand<TFloating> x = tf.math.mul(tf.math.sub(moved, st[1]), tf.math.exp(tf.math.neg(st[0])));
    return parity == 0 ? Flows.concatChannels(tf, cond, x) : Flows.concatChannels(tf, x, cond);
  }
}
