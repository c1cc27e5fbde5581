package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Single-head spatial self-attention over NHWC feature maps with a residual connection, as in the DDPM U-Net
 * (Ho et al. 2020, {@code attn_block}; after Wang et al. 2018, "Non-local Neural Networks"): h = GroupNorm(x);
 * q, k, v = 1x1 projections of h; w = softmax over positions of q k^T / sqrt(C); out = x + proj_out(w v).
 * Variables: {@code norm/{gamma,beta}}, {@code q,k,v,proj_out/{kernel,bias}} with kernels [C, C].
 */
public final class SelfAttention {
  private final GroupNorm norm;
  private final Dense q;
  private final Dense k;
  private final Dense v;
  private final Dense projOut;
  private final long channels;

  public SelfAttention(VarScope scope, long channels, long groups, Initializer init, Initializer outInit) {
    this.norm = new GroupNorm(scope.child("norm"), channels, groups, 1e-6);
    this.q = new Dense(scope.child("q"), channels, channels, true, init);
    this.k = new Dense(scope.child("k"), channels, channels, true, init);
    this.v = new Dense(scope.child("v"), channels, channels, true, init);
    this.projOut = new Dense(scope.child("proj_out"), channels, channels, true, outInit);
    this.channels = channels;
  }

  public Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
    Operand<TInt32> shape = tf.shape(x);
    Operand<TFloating> h = norm.call(tf, x);
    // [N, H, W, C] -> [N * H * W, C] for the 1x1 projections, then [N, HW, C] for attention.
    Operand<TFloating> flat = tf.reshape(h, tf.constant(new long[] {-1, channels}));
    Operand<TInt32> seq = tf.concat(java.util.List.of(
        tf.stridedSlice(shape, org.tensorflow.ndarray.index.Indices.slice(0, 1)),
        tf.constant(new int[] {-1, (int) channels})), tf.constant(0));
    Operand<TFloating> qq = tf.reshape(q.call(tf, flat), seq);
    Operand<TFloating> kk = tf.reshape(k.call(tf, flat), seq);
    Operand<TFloating> vv = tf.reshape(v.call(tf, flat), seq);
    Operand<TFloating> logits = tf.math.mul(
        tf.linalg.einsum(java.util.List.of(qq, kk), "bic,bjc->bij"),
        Tensors.constant(tf, x.type(), 1.0 / Math.sqrt(channels)));
    Operand<TFloating> w = tf.nn.softmax(logits);
    Operand<TFloating> attended = tf.reshape(tf.linalg.einsum(java.util.List.of(w, vv), "bij,bjc->bic"), tf.constant(new long[] {-1, channels}));
    return tf.math.add(x, tf.reshape(projOut.call(tf, attended), shape));
  }
}
