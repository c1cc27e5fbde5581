package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's normalising flow on a group of latent variables (Vahdat & Kautz 2020, "NVAE: A Deep Hierarchical Variational
 * Autoencoder", section 3.2 and appendix; github NVlabs/NVAE model.py PairedCellAR, neural_ar_operations.py): two
 * volume-preserving inverse autoregressive flow cells (Kingma et al. 2016, "Improved Variational Inference with Inverse
 * Autoregressive Flow"), the second with its masks mirrored, applied to a posterior sample z [N, h, w, latent].
 *
 * <p>Each cell computes z' = z - mu(z), where mu at a position and latent channel depends only on z at the positions
 * before it in raster order (reversed raster order in the mirrored cell) and on the lower latent channels at the same
 * position. Its Jacobian is unit triangular in that order, so log |det| = 0 and log q(z') = log q(z). mu is upstream's
 * ARInvertedResidual followed by ELUConv: a masked 3x3 convolution latent -> 6 latent without the diagonal, ELU, a
 * masked depthwise 5x5 convolution, ELU, then ELU and a masked 1x1 convolution 6 latent -> latent with a bias.
 *
 * <p>Every convolution is weight-normalised after masking (Salimans & Kingma 2016), per output channel:
 * W = exp(log_weight_norm) (V * M) / (|V * M| + 1e-5), with V the variable {@code kernel} (HWIO, or [k, k, C, 1] for
 * the depthwise one), M the constant autoregressive mask and log_weight_norm starting at log(|V * M| + 1e-2) of the
 * initial kernel (+ log 0.1 for mu's convolution, so that the cell starts close to the identity). Kernels and the bias
 * start as PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Zero padding k / 2, stride 1.
 *
 * <p>Upstream's cells also take the encoder features ftr, but ARInvertedResidual's forward ignores them, so this flow
 * takes z only. Variables under the given scope: {@code cell1/convz_0}, {@code cell1/convz_2},
 * {@code cell1/mu/conv_0}, the same under {@code cell2}; each has {@code kernel} and {@code log_weight_norm}, mu's
 * convolution also {@code bias}.
 */
final class ArFlow {
  /** Channel expansion of the hidden layer (upstream ex = 6). */
  static final int EXPANSION = 6;
  /** Kernel of the depthwise convolution (upstream k = 5). */
  static final int DEPTHWISE_KERNEL = 5;
  /** Initial scale of mu's convolution (upstream weight_init_coeff = 0.1). */
  static final double MU_INIT = 0.1;

  final Cell cell1;
  final Cell cell2;

  /** The paired cell (upstream PairedCellAR) on {@code latent} channels. */
  ArFlow(VarScope scope, long latent) {
    this.cell1 = new Cell(scope.child("cell1"), latent, false);
    this.cell2 = new Cell(scope.child("cell2"), latent, true);
  }

  /** z [N, h, w, latent] -> the flowed z of the same shape; the log-determinant of the Jacobian is 0. */
  Operand<TFloating> call(Layers.Ctx c, Operand<TFloating> z) {
    return cell2.call(c, cell1.call(c, z));
  }

  /** One volume-preserving autoregressive cell (upstream CellAR without the mixture-of-logistics option). */
  static final class Cell {
    final MaskedConv convz0;
    final MaskedConv convz2;
    final MaskedConv mu;
    final boolean mirror;

    Cell(VarScope scope, long latent, boolean mirror) {
      int z = Math.toIntExact(latent);
      int hidden = EXPANSION * z;
      this.mirror = mirror;
      this.convz0 = new MaskedConv(scope.child("convz_0"), 3, z, 1, hidden, true, mirror, false, 1.0);
      this.convz2 = new MaskedConv(scope.child("convz_2"), DEPTHWISE_KERNEL, hidden, hidden, hidden, false, mirror,
          false, 1.0);
      this.mu = new MaskedConv(scope.child("mu").child("conv_0"), 1, hidden, 1, z, false, mirror, true, MU_INIT);
    }

    /** z - mu(z). */
    Operand<TFloating> call(Layers.Ctx c, Operand<TFloating> z) {
      Ops tf = c.tf;
      Operand<TFloating> s = tf.nn.elu(convz0.call(c, z));
      s = tf.nn.elu(convz2.call(c, s));
      Operand<TFloating> m = mu.call(c, tf.nn.elu(s));
      return tf.math.sub(z, m);
    }
  }

  /**
   * A masked, weight-normalised convolution (upstream ARConv2d with masked = True): dense (groups = 1) or depthwise
   * (groups = in = out).
   */
  static final class MaskedConv {
    final Output<TFloating> kernel;
    final Output<TFloating> logWeightNorm;
    final Output<TFloating> bias;
    /** The mask in the kernel's layout (HWIO, or [k, k, C, 1]). */
    final Operand<TFloating> mask;
    final int k;
    final int out;
    final boolean depthwise;

    MaskedConv(VarScope scope, int k, int in, int groups, int out, boolean zeroDiag, boolean mirror, boolean useBias,
        double initCoeff) {
      this.depthwise = groups != 1;
      if (depthwise && (groups != in || in != out)) {
        throw new IllegalArgumentException("a masked depthwise convolution has groups = in = out, got groups "
            + groups + ", " + in + " -> " + out);
      }
      this.k = k;
      this.out = out;
      int inPerGroup = in / groups;
      long[] shape = depthwise ? new long[] {k, k, in, 1} : new long[] {k, k, in, out};
      double[] m = toKernelLayout(convMask(k, in, groups, out, zeroDiag, mirror), k, inPerGroup, out, depthwise);
      Ops tf = scope.tf();
      Class<TFloating> dt = scope.dtype();
      this.mask = Tensors.constant(tf, dt, m, Shape.of(shape));
      double limit = 1 / Math.sqrt((double) inPerGroup * k * k);
      // the kernel's initial value, kept to start log_weight_norm at the norm of the masked initial kernel
      Operand<?>[] initial = new Operand<?>[1];
      Initializer uniform = Initializer.uniform(limit);
      this.kernel = scope.variable("kernel", shape, ctx -> {
        Operand<TFloating> v = uniform.create(ctx);
        initial[0] = v;
        return v;
      });
      Operand<TFloating> maskConst = this.mask;
      this.logWeightNorm = scope.variable("log_weight_norm", new long[] {out}, ctx -> {
        @SuppressWarnings("unchecked")
        Operand<TFloating> v0 = (Operand<TFloating>) initial[0];
        if (v0 == null) {
          throw new IllegalStateException("log_weight_norm is initialised from its kernel, which was not created here");
        }
        Operand<TFloating> norm = rowNorms(ctx.tf(), ctx.tf().math.mul(v0, maskConst), depthwise);
        return ctx.tf().math.add(ctx.tf().math.log(ctx.tf().math.add(norm, ctx.constant(1e-2))),
            ctx.constant(Math.log(initCoeff)));
      });
      this.bias = useBias ? scope.variable("bias", new long[] {out}, Initializer.uniform(limit)) : null;
    }

    /** The kernel the convolution uses: exp(log_weight_norm) (V * M) / (|V * M| + 1e-5) per output channel. */
    Operand<TFloating> weight(Layers.Ctx c) {
      Ops tf = c.tf;
      Operand<TFloating> masked = tf.math.mul(kernel, mask);
      Operand<TFloating> norm = rowNorms(tf, masked, depthwise);
      Operand<TFloating> scale = tf.math.div(tf.math.exp(logWeightNorm), tf.math.add(norm, c.c(1e-5)));
      // the per-output scale broadcasts over the last axis (HWIO) or, for [k, k, C, 1], over the channel axis
      return depthwise
          ? tf.math.mul(masked, tf.reshape(scale, tf.constant(new long[] {1, 1, out, 1})))
          : tf.math.mul(masked, scale);
    }

    Operand<TFloating> call(Layers.Ctx c, Operand<TFloating> x) {
      Ops tf = c.tf;
      Operand<TFloating> w = weight(c);
      if (c.mode == Layers.Mode.TRAIN) {
        // [out, fan-in] rows for the spectral regulariser, as Layers.Conv lays them out
        Operand<TFloating> rows = depthwise
            ? tf.linalg.transpose(w, tf.constant(new int[] {2, 0, 1, 3}))
            : tf.linalg.transpose(w, tf.constant(new int[] {3, 0, 1, 2}));
        c.convMatrices.add(tf.reshape(rows, tf.constant(new long[] {out, -1})));
      }
      List<Long> strides = List.of(1L, 1L, 1L, 1L);
      Operand<TFloating> y = depthwise
          ? tf.nn.depthwiseConv2dNative(x, w, strides, "SAME")
          : tf.nn.conv2d(x, w, strides, "SAME");
      return bias == null ? y : tf.nn.biasAdd(y, bias);
    }
  }

  /** Per-output-channel Euclidean norms of a kernel (HWIO: over axes 0, 1, 2; depthwise [k, k, C, 1]: 0, 1, 3). */
  static Operand<TFloating> rowNorms(Ops tf, Operand<TFloating> w, boolean depthwise) {
    Operand<TFloating> sq = tf.math.square(w);
    return tf.math.sqrt(depthwise ? Tensors.sum(tf, sq, 0, 1, 3) : Tensors.sum(tf, sq, 0, 1, 2));
  }

  /**
   * The autoregressive mask of a k x k convolution in PyTorch's weight layout [out, in / groups, k, k], flattened
   * row-major (upstream create_conv_mask). A tap is on when it lies before the centre in raster order (the rows above
   * it, and the centre row left of it); the centre tap connects input channel i to output channel o by the channel
   * order (below). {@code mirror} reverses the kernel in both spatial axes (reversed raster order), not the channel
   * order. Dense (groups 1): with out = r in, output o (block b = o / r) sees inputs i <= b, or i < b with
   * {@code zeroDiag}; with in = r out, output o sees inputs i < (o + 1) r, or i < o r with {@code zeroDiag}. Depthwise
   * (groups = in): the centre is on, or off with {@code zeroDiag}.
   */
  static double[] convMask(int k, int in, int groups, int out, boolean zeroDiag, boolean mirror) {
    if (k % 2 != 1) {
      throw new IllegalArgumentException("a masked convolution needs an odd kernel, got " + k);
    }
    if (groups != 1 && groups != in) {
      throw new IllegalArgumentException("masked convolutions are dense or depthwise, got groups " + groups);
    }
    if (groups == 1 && out % in != 0 && in % out != 0) {
      throw new IllegalArgumentException("channel counts must divide one another: " + in + " -> " + out);
    }
    int inPerGroup = in / groups;
    int centre = (k - 1) / 2;
    double[] mask = new double[out * inPerGroup * k * k];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < inPerGroup; i++) {
        boolean centreOn = groups != 1 ? !zeroDiag : channelConnected(o, i, in, out, zeroDiag);
        for (int y = 0; y < k; y++) {
          for (int x = 0; x < k; x++) {
            // the tap of the unmirrored kernel that lands here
            int ty = mirror ? k - 1 - y : y;
            int tx = mirror ? k - 1 - x : x;
            boolean on;
            if (ty != centre) {
              on = ty < centre;
            } else if (tx != centre) {
              on = tx < centre;
            } else {
              on = centreOn;
            }
            mask[((o * inPerGroup + i) * k + y) * k + x] = on ? 1 : 0;
          }
        }
      }
    }
    return mask;
  }

  /** Whether the centre tap connects input channel i to output channel o of a dense masked convolution. */
  private static boolean channelConnected(int o, int i, int in, int out, boolean zeroDiag) {
    if (out >= in) {
      int b = o / (out / in);
      return zeroDiag ? i < b : i <= b;
    }
    int r = in / out;
    return zeroDiag ? i < o * r : i < (o + 1) * r;
  }

  /**
   * A mask in PyTorch's layout [out, in / groups, k, k] re-laid as TensorFlow's kernel: HWIO [k, k, in, out], or
   * [k, k, C, 1] for a depthwise convolution (out = C, in / groups = 1).
   */
  static double[] toKernelLayout(double[] torch, int k, int inPerGroup, int out, boolean depthwise) {
    double[] t = new double[torch.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < inPerGroup; i++) {
        for (int y = 0; y < k; y++) {
          for (int x = 0; x < k; x++) {
            double v = torch[((o * inPerGroup + i) * k + y) * k + x];
            int at = depthwise
                ? ((y * k + x) * out + o) * inPerGroup + i
                : ((y * k + x) * inPerGroup + i) * out + o;
            t[at] = v;
          }
        }
      }
    }
    return t;
  }
}
