package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Dropout;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.SpectralNorm;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The energy network of IGEBM (Du and Mordatch 2019, "Implicit Generation and Generalization in Energy-Based Models",
 * arXiv:1903.08689): the authors' {@code ResNet32Large} as their {@code train.py} builds it for unconditional
 * CIFAR-10 ({@code --large_model}; openai/ebm_code_release, models.py and utils.py), with every convolution spectrally
 * normalised (Miyato et al. 2018) and F filters (128 in the paper).
 *
 * <pre>
 * h = lrelu(conv(x, SN(c1_pre)))                        3x3, C -&gt; F, no bias (the code's conv_block drops it)
 * nine residual blocks (2x2 average pooling after the sum where marked down):
 *   res_optim F-&gt;F down, res_1 F-&gt;F, res_2 F-&gt;F, res_3 F-&gt;2F down, res_4 2F-&gt;2F, res_5 2F-&gt;2F,
 *   res_6 2F-&gt;4F down, res_7 4F-&gt;4F, res_8 4F-&gt;4F
 * block(x): c1 = conv(x + b1, SN(W1)); c1 = dropout(c1) in training passes when configured (the code's
 *           ResNet32Large(train=True) drops half of c1 in every training-time forward, the evaluation scripts none)
 *           c2 = conv(lrelu(c1) + b2, SN_lb(W2)) * g2
 *           r = c2 + (in != out ? conv(x, SN(W_shortcut)) : x); r = avgpool(r) if down; return lrelu(r)
 * E(x) = sum over H, W of relu(h), then a dense layer 4F -&gt; 1 with bias (no spectral norm)
 * </pre>
 * lrelu has slope 0.2 (TensorFlow's leaky_relu); convolutions are 3x3, stride 1, SAME. SN divides a kernel, viewed as
 * the matrix [9 in, out], by its spectral norm sigma ({@link SpectralNorm}: one power iteration per training pass,
 * the stored vector in inference). SN_lb is the code's {@code lower_bound} form for every block's second convolution:
 * W / s * min(s, 1) with s = sigma + 1e-6, which only shrinks a kernel whose norm exceeds 1; that kernel starts at
 * N(0, 1e-10^2), so each block starts as (nearly) the identity. Other spectrally normalised kernels start at N(0, 1)
 * (the code's {@code random_normal}), the input biases at 0, the gains at 1, the dense kernel Glorot-uniform.
 *
 * <p>Checkpoint names (scope {@code ebm/energy} in the model) and the upstream TF1 variables they come from (scope
 * {@code context_0}; {@code <blk>} a block name above), for a converter of the authors' checkpoints:
 * <pre>
 * context_0/c1_pre/cweight, c_u [1, F]       -&gt; c1_pre/kernel [3, 3, C, F], c1_pre/kernel_u [F]
 * context_0/&lt;blk&gt;_res_c1/cweight, c_u, gb    -&gt; &lt;blk&gt;/conv_1/kernel, kernel_u, input_bias [in]
 * context_0/&lt;blk&gt;_res_c2/cweight, c_u, gb, g -&gt; &lt;blk&gt;/conv_2/kernel, kernel_u, input_bias, gain [out]
 * context_0/&lt;blk&gt;_res_adaptive/cweight, c_u -&gt; &lt;blk&gt;/shortcut/kernel, kernel_u (blocks with in != out)
 * context_0/fc5/wweight, b                   -&gt; fc5/kernel [4F, 1], fc5/bias [1]
 * </pre>
 * The u vectors are stored as [1, out] upstream and [out] here. The upstream checkpoint also holds variables the
 * unconditional forward never reads, which the converter skips: every convolution's {@code b} and {@code cb}, the
 * {@code g} of c1_pre, of the first convolutions and of the shortcuts, the {@code gb} of c1_pre and of the shortcuts,
 * and the attention block {@code atten/*} (unused without {@code --use_attention}). At F = 128 on 32x32x3 the network
 * has 18,591,105 parameters (train.py prints 18,738,312, counting those unused variables).
 */
public final class ResNetEnergy {
  /** TensorFlow's leaky_relu default slope, used throughout the authors' network. */
  public static final double SLOPE = 0.2;

  /** One residual block: its name, channels in and out, and whether it ends with 2x2 average pooling. */
  public record BlockSpec(String name, long in, long out, boolean down) {}

  private final long filters;
  private final long channels;
  private final double dropout;
  private final Class<TFloating> dt;
  private final SpectralNorm.Weight c1Pre;
  private final List<Block> blocks = new ArrayList<>();
  private final Output<TFloating> fcKernel;
  private final Output<TFloating> fcBias;

  /**
   * @param scope where the variables go ({@code ebm/energy} in the model)
   * @param channels C, the image channels
   * @param filters F (128 for CIFAR-10)
   * @param dropout the rate applied to each block's first convolution in training passes that get a seed (0: none)
   */
  public ResNetEnergy(VarScope scope, long channels, long filters, double dropout) {
    if (channels <= 0 || filters <= 0) {
      throw new IllegalArgumentException("ResNetEnergy needs positive channels and filters, got " + channels + ", "
          + filters);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("model.dropout must lie in [0, 1), got " + dropout);
    }
    this.filters = filters;
    this.channels = channels;
    this.dropout = dropout;
    this.dt = scope.dtype();
    this.c1Pre = new SpectralNorm.Weight(scope.child("c1_pre"), "kernel", new long[] {3, 3, channels, filters},
        Initializer.normal(1.0));
    for (BlockSpec spec : specs(filters)) {
      blocks.add(new Block(scope.child(spec.name()), spec));
    }
    VarScope fc = scope.child("fc5");
    this.fcKernel = fc.variable("kernel", new long[] {4 * filters, 1}, Initializer.glorotUniform());
    this.fcBias = fc.variable("bias", new long[] {1}, Initializer.zeros());
  }

  /** The nine residual blocks of ResNet32Large with F filters. */
  public static List<BlockSpec> specs(long f) {
    return List.of(new BlockSpec("res_optim", f, f, true), new BlockSpec("res_1", f, f, false),
        new BlockSpec("res_2", f, f, false), new BlockSpec("res_3", f, 2 * f, true),
        new BlockSpec("res_4", 2 * f, 2 * f, false), new BlockSpec("res_5", 2 * f, 2 * f, false),
        new BlockSpec("res_6", 2 * f, 4 * f, true), new BlockSpec("res_7", 4 * f, 4 * f, false),
        new BlockSpec("res_8", 4 * f, 4 * f, false));
  }

  /** The number of trainable parameters of the network for C channels and F filters (the u vectors excluded). */
  public static long parameterCount(long channels, long f) {
    long n = 9 * channels * f;
    for (BlockSpec b : specs(f)) {
      n += 9 * b.in() * b.out() + b.in() + 9 * b.out() * b.out() + 2 * b.out();
      if (b.in() != b.out()) {
        n += 9 * b.in() * b.out();
      }
    }
    return n + 4 * f + 1;
  }

  /** The image must be divisible by 8: three poolings halve it. */
  public static void checkImageShape(long[] hwc) {
    if (hwc.length != 3 || hwc[0] % 8 != 0 || hwc[1] % 8 != 0 || hwc[0] <= 0 || hwc[1] <= 0) {
      throw new IllegalArgumentException("ResNet32Large needs [H, W, C] images with H and W multiples of 8 (three 2x2 "
          + "poolings), got " + java.util.Arrays.toString(hwc));
    }
  }

  public long filters() {
    return filters;
  }

  public long channels() {
    return channels;
  }

  /**
   * E(x) for images {@code x} [N, H, W, C] in model space ([0, 1]); returns [N].
   *
   * @param pass training (one power iteration per pass, recorded as its update) or inference
   * @param dropoutSeed the [2] seed of this call's dropout masks, or null for none (inference, or no dropout)
   */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass, Operand<TInt64> dropoutSeed) {
    Operand<TFloating> h = lrelu(tf, conv(tf, x, c1Pre.weight(tf, pass)));
    for (int i = 0; i < blocks.size(); i++) {
      h = blocks.get(i).call(tf, h, pass, pass.isTraining() ? dropoutSeed : null, i);
    }
    Operand<TFloating> pooled = Tensors.sum(tf, tf.nn.relu(h), 1, 2);
    Operand<TFloating> e = tf.math.add(tf.linalg.matMul(pooled, fcKernel), fcBias);
    return tf.reshape(e, tf.constant(new long[] {-1}));
  }

  /**
   * This network as an {@link Energy} in one pass; each application draws fresh dropout masks from
   * {@code dropoutSeeds} (null: no dropout), so the k energy evaluations of an unrolled chain get k masks, as the
   * k forward calls of the authors' graph do.
   */
  public Energy energy(Pass pass, Supplier<Operand<TInt64>> dropoutSeeds) {
    return (tf, x) -> call(tf, x, pass, dropoutSeeds == null || dropout <= 0 ? null : dropoutSeeds.get());
  }

  private static Operand<TFloating> conv(Ops tf, Operand<TFloating> x, Operand<TFloating> kernel) {
    return tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME");
  }

  private Operand<TFloating> lrelu(Ops tf, Operand<TFloating> x) {
    return tf.nn.leakyRelu(x, org.tensorflow.op.nn.LeakyRelu.alpha((float) SLOPE));
  }

  /** One residual block of the code's smart_res_block (unconditional). */
  private final class Block {
    private final BlockSpec spec;
    private final SpectralNorm.Weight w1;
    private final Output<TFloating> b1;
    private final SpectralNorm.Weight w2;
    private final Output<TFloating> b2;
    private final Output<TFloating> g2;
    private final SpectralNorm.Weight shortcut;

    Block(VarScope scope, BlockSpec spec) {
      this.spec = spec;
      VarScope c1 = scope.child("conv_1");
      this.w1 = new SpectralNorm.Weight(c1, "kernel", new long[] {3, 3, spec.in(), spec.out()},
          Initializer.normal(1.0));
      this.b1 = c1.variable("input_bias", new long[] {spec.in()}, Initializer.zeros());
      VarScope c2 = scope.child("conv_2");
      this.w2 = new SpectralNorm.Weight(c2, "kernel", new long[] {3, 3, spec.out(), spec.out()},
          Initializer.normal(1e-10));
      this.b2 = c2.variable("input_bias", new long[] {spec.out()}, Initializer.zeros());
      this.g2 = c2.variable("gain", new long[] {spec.out()}, Initializer.ones());
      this.shortcut = spec.in() != spec.out() ? new SpectralNorm.Weight(scope.child("shortcut"), "kernel",
          new long[] {3, 3, spec.in(), spec.out()}, Initializer.normal(1.0)) : null;
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass, Operand<TInt64> dropoutSeed, int index) {
      Operand<TFloating> c1 = conv(tf, tf.math.add(x, b1), w1.weight(tf, pass));
      c1 = Dropout.apply(tf, c1, dropout, dropoutSeed, index);
      Operand<TFloating> c2 = conv(tf, tf.math.add(lrelu(tf, c1), b2), lowerBound(tf, w2, pass));
      c2 = tf.math.mul(c2, g2);
      Operand<TFloating> bypass = shortcut != null ? conv(tf, x, shortcut.weight(tf, pass)) : x;
      Operand<TFloating> r = tf.math.add(c2, bypass);
      if (spec.down()) {
        r = tf.nn.avgPool(r, List.of(1L, 2L, 2L, 1L), List.of(1L, 2L, 2L, 1L), "VALID");
      }
      return lrelu(tf, r);
    }
  }

  /** The code's spectral_normed_weight(..., lower_bound=True): W / s * min(s, 1), s = sigma + 1e-6. */
  private Operand<TFloating> lowerBound(Ops tf, SpectralNorm.Weight w, Pass pass) {
    Operand<TFloating> s = tf.math.add(w.normalized(tf, pass).sigma(), Tensors.constant(tf, dt, 1e-6));
    Operand<TFloating> factor = tf.math.div(tf.math.minimum(s, Tensors.constant(tf, dt, 1.0)), s);
    return tf.math.mul(w.raw(), factor);
  }
}
