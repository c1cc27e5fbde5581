package dev.genzoo.graphs.ddpm;

import dev.genzoo.graphs.nn.Conv2d;
import dev.genzoo.graphs.nn.Dense;
import dev.genzoo.graphs.nn.Dropout;
import dev.genzoo.graphs.nn.GroupNorm;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.SelfAttention;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.TimestepEmbedding;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The noise-prediction U-Net of Ho et al. 2020 (DDPM, appendix B; the {@code diffusion_tf} code's {@code unet.py}),
 * a PixelCNN++-style U-Net of wide ResNet blocks with GroupNorm, swish, dropout, a sinusoidal timestep embedding
 * added in every block, and self-attention at the configured resolutions. At the CIFAR-10 configuration it has
 * 35,746,307 parameters.
 *
 * <p>Variable names follow the official TF1 checkpoint's ({@code model/down_1/block_0/conv1/W} there is
 * {@code unet/down_1/block_0/conv1/kernel} here; {@code b} is {@code bias}; layouts are the same, HWIO and [in, out]),
 * so a converter is a renaming: {@code temb/dense0}, {@code temb/dense1}, {@code conv_in},
 * {@code down_i/block_j/{norm1,conv1,temb_proj,norm2,conv2,nin_shortcut}}, {@code down_i/attn_j/{norm,q,k,v,proj_out}},
 * {@code down_i/downsample/conv}, {@code mid/{block_1,attn_1,block_2}}, {@code up_i/block_j}, {@code up_i/attn_j},
 * {@code up_i/upsample/conv}, {@code norm_out}, {@code conv_out}; a class-conditional model adds
 * {@code label_emb/embeddings}.
 */
public final class UNet {
  private final DdpmConfig.Model m;
  private final long ch;
  private final long tembDim;
  private final TimestepEmbedding temb;
  private final Output<TFloating> labelEmb;
  private final Conv2d convIn;
  private final List<List<ResnetBlock>> downBlocks = new ArrayList<>();
  private final List<List<SelfAttention>> downAttn = new ArrayList<>();
  private final List<Conv2d> downsample = new ArrayList<>();
  private final ResnetBlock midBlock1;
  private final SelfAttention midAttn;
  private final ResnetBlock midBlock2;
  private final List<List<ResnetBlock>> upBlocks = new ArrayList<>();
  private final List<List<SelfAttention>> upAttn = new ArrayList<>();
  private final List<Conv2d> upsample = new ArrayList<>();
  private final GroupNorm normOut;
  private final Conv2d convOut;

  public UNet(VarScope scope, DdpmConfig.Model m) {
    this.m = m;
    this.ch = m.ch();
    this.tembDim = 4 * ch;
    Initializer init = Initializer.varianceScalingFanAvg(1.0);
    Initializer zero = Initializer.varianceScalingFanAvg(1e-10);
    long channels = m.dataShape()[2];
    this.temb = new TimestepEmbedding(scope.child("temb"), ch, tembDim, init);
    this.labelEmb = m.numClasses() > 0
        ? scope.child("label_emb").variable("embeddings", new long[] {m.numClasses() + 1, tembDim},
            Initializer.normal(1.0))
        : null;
    this.convIn = new Conv2d(scope.child("conv_in"), 3, channels, ch, 1, "SAME", true, init);
    int levels = m.chMult().length;
    long resolution = m.dataShape()[0];
    List<Long> skipChannels = new ArrayList<>();
    skipChannels.add(ch);
    long in = ch;
    int salt = 0;
    for (int i = 0; i < levels; i++) {
      VarScope level = scope.child("down", i);
      List<ResnetBlock> blocks = new ArrayList<>();
      List<SelfAttention> attn = new ArrayList<>();
      long out = ch * m.chMult()[i];
      for (int j = 0; j < m.numResBlocks(); j++) {
        blocks.add(new ResnetBlock(level.child("block", j), in, out, salt++, init, zero));
        in = out;
        if (hasAttention(resolution)) {
          attn.add(new SelfAttention(level.child("attn", j), in, m.groups(), init, zero));
        }
        skipChannels.add(in);
      }
      downBlocks.add(blocks);
      downAttn.add(attn);
      if (i != levels - 1) {
        downsample.add(new Conv2d(level.child("downsample").child("conv"), 3, in, in, 2, "SAME", true, init));
        skipChannels.add(in);
        resolution /= 2;
      }
    }
    VarScope mid = scope.child("mid");
    this.midBlock1 = new ResnetBlock(mid.child("block_1"), in, in, salt++, init, zero);
    this.midAttn = new SelfAttention(mid.child("attn_1"), in, m.groups(), init, zero);
    this.midBlock2 = new ResnetBlock(mid.child("block_2"), in, in, salt++, init, zero);
    for (int k = 0; k < levels; k++) {
      upBlocks.add(null);
      upAttn.add(null);
      upsample.add(null);
    }
    for (int i = levels - 1; i >= 0; i--) {
      VarScope level = scope.child("up", i);
      List<ResnetBlock> blocks = new ArrayList<>();
      List<SelfAttention> attn = new ArrayList<>();
      long out = ch * m.chMult()[i];
      for (int j = 0; j < m.numResBlocks() + 1; j++) {
        long skip = skipChannels.remove(skipChannels.size() - 1);
        blocks.add(new ResnetBlock(level.child("block", j), in + skip, out, salt++, init, zero));
        in = out;
        if (hasAttention(resolution)) {
          attn.add(new SelfAttention(level.child("attn", j), in, m.groups(), init, zero));
        }
      }
      upBlocks.set(i, blocks);
      upAttn.set(i, attn);
      if (i != 0) {
        upsample.set(i, new Conv2d(level.child("upsample").child("conv"), 3, in, in, 1, "SAME", true, init));
        resolution *= 2;
      }
    }
    this.normOut = new GroupNorm(scope.child("norm_out"), in, m.groups(), 1e-6);
    this.convOut = new Conv2d(scope.child("conv_out"), 3, in, channels, 1, "SAME", true, zero);
  }

  private boolean hasAttention(long resolution) {
    for (int r : m.attnResolutions()) {
      if (r == resolution) {
        return true;
      }
    }
    return false;
  }

  /**
   * eps_theta(x_t, t [, y]).
   *
   * @param x x_t, [N, H, W, C] on the model scale ([-1, 1] for data)
   * @param t timesteps [N], 0..T-1
   * @param labels class labels [N] for a conditional model (the value numClasses means "no label"); null otherwise
   * @param dropoutSeed a [2] seed for dropout when training; null for inference (no dropout)
   */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> t, Operand<TInt32> labels,
      Operand<TInt64> dropoutSeed) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> emb = temb.call(tf, t, dt);
    if (labelEmb != null) {
      if (labels == null) {
        throw new IllegalArgumentException("a class-conditional U-Net needs labels");
      }
      emb = tf.math.add(emb, tf.gather(labelEmb, labels, tf.constant(0)));
    }
    Deque<Operand<TFloating>> hs = new ArrayDeque<>();
    Operand<TFloating> h = convIn.call(tf, x);
    hs.push(h);
    int levels = m.chMult().length;
    for (int i = 0; i < levels; i++) {
      for (int j = 0; j < m.numResBlocks(); j++) {
        h = downBlocks.get(i).get(j).call(tf, h, emb, m.dropout(), dropoutSeed);
        if (!downAttn.get(i).isEmpty()) {
          h = downAttn.get(i).get(j).call(tf, h);
        }
        hs.push(h);
      }
      if (i != levels - 1) {
        // TF "SAME" padding with stride 2 pads one row and column at the bottom and right, as the DDPM code does.
        h = downsample.get(i).call(tf, h);
        hs.push(h);
      }
    }
    h = midBlock1.call(tf, h, emb, m.dropout(), dropoutSeed);
    h = midAttn.call(tf, h);
    h = midBlock2.call(tf, h, emb, m.dropout(), dropoutSeed);
    for (int i = levels - 1; i >= 0; i--) {
      for (int j = 0; j < m.numResBlocks() + 1; j++) {
        h = tf.concat(List.of(h, hs.pop()), tf.constant(3));
        h = upBlocks.get(i).get(j).call(tf, h, emb, m.dropout(), dropoutSeed);
        if (!upAttn.get(i).isEmpty()) {
          h = upAttn.get(i).get(j).call(tf, h);
        }
      }
      if (i != 0) {
        h = upsample.get(i).call(tf, upsampleNearest(tf, h));
      }
    }
    return convOut.call(tf, Tensors.swish(tf, normOut.call(tf, h)));
  }

  /** Nearest-neighbour 2x upsampling as a reshape and tile (cheaper to differentiate than ResizeNearestNeighbor). */
  static Operand<TFloating> upsampleNearest(Ops tf, Operand<TFloating> h) {
    long hh = h.shape().get(1);
    long ww = h.shape().get(2);
    long c = h.shape().get(3);
    Operand<TFloating> e = tf.reshape(h, tf.constant(new long[] {-1, hh, 1, ww, 1, c}));
    Operand<TFloating> tiled = tf.tile(e, tf.constant(new long[] {1, 1, 2, 1, 2, 1}));
    return tf.reshape(tiled, tf.constant(new long[] {-1, 2 * hh, 2 * ww, c}));
  }

  /**
   * The U-Net's residual block: h = conv1(swish(norm1(x))) + temb_proj(swish(temb)); h = conv2(dropout(swish(
   * norm2(h)))); out = nin_shortcut(x) (a 1x1 projection when the channels change) + h.
   */
  private final class ResnetBlock {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Dense tembProj;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Dense ninShortcut;
    private final long in;
    private final long out;
    private final int salt;

    ResnetBlock(VarScope s, long in, long out, int salt, Initializer init, Initializer zero) {
      this.in = in;
      this.out = out;
      this.salt = salt;
      this.norm1 = new GroupNorm(s.child("norm1"), in, m.groups(), 1e-6);
      this.conv1 = new Conv2d(s.child("conv1"), 3, in, out, 1, "SAME", true, init);
      this.tembProj = new Dense(s.child("temb_proj"), tembDim, out, true, init);
      this.norm2 = new GroupNorm(s.child("norm2"), out, m.groups(), 1e-6);
      this.conv2 = new Conv2d(s.child("conv2"), 3, out, out, 1, "SAME", true, zero);
      this.ninShortcut = in != out ? new Dense(s.child("nin_shortcut"), in, out, true, init) : null;
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TFloating> emb, double dropout,
        Operand<TInt64> seed) {
      Operand<TFloating> h = conv1.call(tf, Tensors.swish(tf, norm1.call(tf, x)));
      Operand<TFloating> proj = tembProj.call(tf, Tensors.swish(tf, emb));
      h = tf.math.add(h, tf.reshape(proj, tf.constant(new long[] {-1, 1, 1, out})));
      h = Tensors.swish(tf, norm2.call(tf, h));
      h = Dropout.apply(tf, h, dropout, seed, salt);
      h = conv2.call(tf, h);
      Operand<TFloating> shortcut = x;
      if (ninShortcut != null) {
        long hh = x.shape().get(1);
        long ww = x.shape().get(2);
        shortcut = tf.reshape(ninShortcut.call(tf, tf.reshape(x, tf.constant(new long[] {-1, in}))),
            tf.constant(new long[] {-1, hh, ww, out}));
      }
      return tf.math.add(shortcut, h);
    }
  }
}
