package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Dense;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Resize;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.VarStore;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's building blocks (Vahdat & Kautz 2020, section 3.1 and figure 3; github NVlabs/NVAE neural_operations.py),
 * NHWC with HWIO kernels: weight-normalised convolutions, BatchNorm with the sampling-time statistics readjustment,
 * squeeze-and-excitation, the encoder's and the decoder's residual cells, the down- and up-sampling skips, and the
 * combiner cells.
 */
final class Layers {
  private Layers() {}

  /** How one application of the network behaves. */
  enum Mode {
    /** Batch statistics; BatchNorm moving averages updated; conv weights and BN scales collected for the regulariser. */
    TRAIN,
    /** Moving statistics (evaluation of the bounds). */
    EVAL,
    /** The decoder's sampling statistics (the readjusted ones, or a copy of the moving ones). */
    SAMPLE,
    /** Batch statistics; their running average accumulated into the sampling statistics. */
    READJUST
  }

  /** One application of the network: its mode and what it leaves behind. */
  static final class Ctx {
    final Ops tf;
    final Class<TFloating> dt;
    final Mode mode;
    final Pass pass;
    /** READJUST: the weight 1 / (i + 1) of this batch in the running average of the sampling statistics. */
    final Operand<TFloating> readjustRate;
    /** TRAIN: every convolution's effective kernel as an [out, fan-in] matrix. */
    final List<Operand<TFloating>> convMatrices = new ArrayList<>();
    /** TRAIN: every BatchNorm's scale gamma. */
    final List<Operand<TFloating>> bnScales = new ArrayList<>();

    Ctx(Ops tf, Class<TFloating> dt, Mode mode, Pass pass, Operand<TFloating> readjustRate) {
      this.tf = tf;
      this.dt = dt;
      this.mode = mode;
      this.pass = pass;
      this.readjustRate = readjustRate;
    }

    Operand<TFloating> c(double v) {
      return Tensors.constant(tf, dt, v);
    }
  }

  /**
   * NVAE's Conv2D: a convolution whose kernel is weight-normalised (Salimans & Kingma 2016) per output channel,
   * W = exp(log_weight_norm) V / (|V| + 1e-5), or used as is; or a depthwise convolution. Symmetric zero padding k / 2
   * (PyTorch's padding = k // 2, also for stride 2). Variables {@code kernel} (HWIO, or [k, k, C, 1] depthwise),
   * {@code log_weight_norm} [out] and {@code bias} [out] where used. Kernels start as PyTorch's default
   * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and log_weight_norm as log(sqrt(1/3) + 1e-2), the expected norm of such a row
   * (upstream starts from the row's actual norm).
   */
  static final class Conv {
    final Output<TFloating> kernel;
    final Output<TFloating> logWeightNorm;
    final Output<TFloating> bias;
    final long k;
    final long stride;
    final boolean depthwise;

    Conv(VarScope scope, long k, long in, long out, long stride, boolean useBias, boolean weightNorm,
        boolean depthwise) {
      if (depthwise && in != out) {
        throw new IllegalArgumentException("a depthwise convolution keeps its channels: " + in + " -> " + out);
      }
      long fanIn = depthwise ? k * k : k * k * in;
      long[] shape = depthwise ? new long[] {k, k, in, 1} : new long[] {k, k, in, out};
      this.kernel = scope.variable("kernel", shape, Initializer.uniform(1 / Math.sqrt(fanIn)));
      this.logWeightNorm = weightNorm
          ? scope.variable("log_weight_norm", new long[] {out}, Initializer.constant(Math.log(Math.sqrt(1 / 3.0)
              + 1e-2)))
          : null;
      this.bias = useBias ? scope.variable("bias", new long[] {out}, Initializer.uniform(1 / Math.sqrt(fanIn))) : null;
      this.k = k;
      this.stride = stride;
      this.depthwise = depthwise;
    }

    /** The kernel the convolution uses (weight-normalised where it is). */
    Operand<TFloating> weight(Ctx c) {
      if (logWeightNorm == null) {
        return kernel;
      }
      Ops tf = c.tf;
      // per output channel: HWIO sums over H, W, I; a depthwise [k, k, C, 1] kernel's outputs are its channels
      Operand<TFloating> norm = tf.math.sqrt(Tensors.sum(tf, tf.math.square(kernel), 0, 1, depthwise ? 3 : 2));
      Operand<TFloating> scale = tf.math.div(tf.math.exp(logWeightNorm), tf.math.add(norm, c.c(1e-5)));
      if (depthwise) {
        scale = tf.reshape(scale, tf.constant(new long[] {-1, 1}));
      }
      return tf.math.mul(kernel, scale);
    }

    Operand<TFloating> call(Ctx c, Operand<TFloating> x) {
      Ops tf = c.tf;
      Operand<TFloating> w = weight(c);
      if (c.mode == Mode.TRAIN) {
        // upstream flattens [out, in, k, k] rows; the singular values do not depend on the order within a row
        Operand<TFloating> rows = depthwise
            ? tf.linalg.transpose(w, tf.constant(new int[] {2, 0, 1, 3}))
            : tf.linalg.transpose(w, tf.constant(new int[] {3, 0, 1, 2}));
        long out = depthwise ? w.shape().get(2) : w.shape().get(3);
        c.convMatrices.add(tf.reshape(rows, tf.constant(new long[] {out, -1})));
      }
      long pad = k / 2;
      String padding = "SAME";
      if (stride > 1 && pad > 0) {
        x = tf.pad(x, tf.constant(new int[][] {{0, 0}, {(int) pad, (int) pad}, {(int) pad, (int) pad}, {0, 0}}), c.c(0));
        padding = "VALID";
      } else if (stride > 1) {
        padding = "VALID";
      }
      List<Long> strides = List.of(1L, stride, stride, 1L);
      Operand<TFloating> y = depthwise
          ? tf.nn.depthwiseConv2dNative(x, w, strides, padding)
          : tf.nn.conv2d(x, w, strides, padding);
      return bias == null ? y : tf.nn.biasAdd(y, bias);
    }
  }

  /**
   * Batch normalisation with PyTorch's momentum 0.05 and eps 1e-5 (upstream BN_EPS), and a second pair of statistics
   * for sampling (SCRATCH: filled before sampling by {@link Mode#READJUST} passes over prior samples, or copied from
   * the moving statistics). Variables {@code gamma}, {@code beta}, {@code moving_mean}, {@code moving_variance}.
   */
  static final class Bn {
    static final double MOMENTUM = 0.05;
    static final double EPS = 1e-5;
    final Output<TFloating> gamma;
    final Output<TFloating> beta;
    final Output<TFloating> movingMean;
    final Output<TFloating> movingVariance;
    final Output<TFloating> sampleMean;
    final Output<TFloating> sampleVariance;
    final VarStore store;

    Bn(VarScope scope, long channels) {
      this.store = scope.store();
      this.gamma = scope.variable("gamma", new long[] {channels}, Initializer.ones());
      this.beta = scope.variable("beta", new long[] {channels}, Initializer.zeros());
      this.movingMean = scope.state("moving_mean", new long[] {channels}, Initializer.zeros());
      this.movingVariance = scope.state("moving_variance", new long[] {channels}, Initializer.ones());
      this.sampleMean = scratch(scope, "sample_mean", channels, Initializer.zeros());
      this.sampleVariance = scratch(scope, "sample_variance", channels, Initializer.ones());
    }

    private static Output<TFloating> scratch(VarScope scope, String name, long channels, Initializer init) {
      VarStore s = scope.store();
      String full = scope.nameOf(name);
      if (scope.isReuse() || s.contains(full)) {
        return s.get(full).value();
      }
      return s.read(s.create(full, new long[] {channels}, VarStore.Kind.SCRATCH, init));
    }

    Operand<TFloating> call(Ctx c, Operand<TFloating> x) {
      Ops tf = c.tf;
      Operand<TFloating> mean;
      Operand<TFloating> var;
      switch (c.mode) {
        case TRAIN, READJUST -> {
          mean = Tensors.mean(tf, x, 0, 1, 2);
          var = Tensors.mean(tf, tf.math.square(tf.math.sub(x, mean)), 0, 1, 2);
          Operand<TFloating> m = tf.stopGradient(mean);
          Operand<TFloating> v = tf.stopGradient(var);
          if (c.mode == Mode.TRAIN) {
            c.bnScales.add(gamma);
            c.pass.addUpdate(store.assign(movingMean, lerp(c, movingMean, m, c.c(MOMENTUM))));
            c.pass.addUpdate(store.assign(movingVariance, lerp(c, movingVariance, v, c.c(MOMENTUM))));
          } else {
            c.pass.addUpdate(store.assign(sampleMean, lerp(c, sampleMean, m, c.readjustRate)));
            c.pass.addUpdate(store.assign(sampleVariance, lerp(c, sampleVariance, v, c.readjustRate)));
          }
        }
        case EVAL -> {
          mean = movingMean;
          var = movingVariance;
        }
        case SAMPLE -> {
          mean = sampleMean;
          var = sampleVariance;
        }
        default -> throw new IllegalStateException();
      }
      Operand<TFloating> inv = tf.math.mul(tf.math.rsqrt(tf.math.add(var, c.c(EPS))), gamma);
      return tf.math.add(tf.math.mul(tf.math.sub(x, mean), inv), beta);
    }

    /** a + rate (b - a). */
    private static Operand<TFloating> lerp(Ctx c, Operand<TFloating> a, Operand<TFloating> b, Operand<TFloating> rate) {
      return c.tf.math.add(a, c.tf.math.mul(rate, c.tf.math.sub(b, a)));
    }
  }

  /** Squeeze-and-excitation (Hu et al. 2018): x * sigmoid(W2 relu(W1 mean_hw(x))), max(C / 16, 4) hidden units. */
  static final class SqueezeExcitation {
    final Dense dense1;
    final Dense dense2;

    SqueezeExcitation(VarScope scope, long channels) {
      long hidden = Math.max(channels / 16, 4);
      this.dense1 = new Dense(scope.child("dense_1"), channels, hidden, true,
          Initializer.uniform(1 / Math.sqrt(channels)));
      this.dense2 = new Dense(scope.child("dense_2"), hidden, channels, true,
          Initializer.uniform(1 / Math.sqrt(hidden)));
    }

    Operand<TFloating> call(Ctx c, Operand<TFloating> x) {
      Ops tf = c.tf;
      Operand<TFloating> s = Tensors.mean(tf, x, 1, 2);
      s = tf.math.sigmoid(dense2.call(tf, tf.nn.relu(dense1.call(tf, s))));
      long ch = x.shape().get(3);
      return tf.math.mul(x, tf.reshape(s, tf.constant(new long[] {-1, 1, 1, ch})));
    }
  }

  /** What a residual cell does to the resolution. */
  enum Resample { NONE, DOWN, UP }

  /**
   * NVAE's residual cell: skip(s) + 0.1 SE(f(s)) (upstream Cell). The encoder's f (and the pre-processing cells')
   * is BN, swish, conv 3x3, BN, swish, conv 3x3 (two BNSwishConv); the decoder's (and post-processing cells') is the
   * inverted residual BN, conv 1x1 expanding ex times, BN, swish, depthwise k x k, BN, swish, conv 1x1, BN (ex 6 in the
   * decoder tower, 3 in post-processing; k 5). A down cell halves the resolution (its first conv has stride 2) and
   * doubles the channels, with skip FactorizedReduce; an up cell doubles the resolution (nearest-neighbour before the
   * inverted residual) and halves the channels, with skip bilinear (aligned corners) then conv 1x1.
   */
  static final class Cell {
    final boolean encoderStyle;
    final Resample resample;
    // encoder style
    final Bn bn0;
    final Conv conv0;
    final Bn bn1;
    final Conv conv1;
    // decoder style
    final Bn bnIn;
    final Conv expand;
    final Bn expandBn;
    final Conv depthwise;
    final Bn depthwiseBn;
    final Conv project;
    final Bn projectBn;
    // skip and SE
    final Conv[] reduce;
    final Conv upConv;
    final SqueezeExcitation se;
    final long out;

    /**
     * @param kernel the encoder cell's kernel (3; 1 for points)
     * @param expansion the decoder cell's expansion (6 or 3); 0 for an encoder-style cell
     * @param dwKernel the decoder cell's depthwise kernel (5; 1 for points)
     */
    Cell(VarScope scope, long in, Resample resample, boolean useSe, long kernel, int expansion, long dwKernel) {
      this.resample = resample;
      this.encoderStyle = expansion == 0;
      this.out = resample == Resample.DOWN ? 2 * in : resample == Resample.UP ? in / 2 : in;
      if (encoderStyle) {
        if (resample == Resample.UP) {
          throw new IllegalArgumentException("encoder cells do not up-sample");
        }
        VarScope op0 = scope.child("op_0");
        VarScope op1 = scope.child("op_1");
        this.bn0 = new Bn(op0.child("bn"), in);
        this.conv0 = new Conv(op0.child("conv"), kernel, in, out, resample == Resample.DOWN ? 2 : 1, true, true, false);
        this.bn1 = new Bn(op1.child("bn"), out);
        this.conv1 = new Conv(op1.child("conv"), kernel, out, out, 1, true, true, false);
        this.bnIn = null;
        this.expand = null;
        this.expandBn = null;
        this.depthwise = null;
        this.depthwiseBn = null;
        this.project = null;
        this.projectBn = null;
      } else {
        if (resample == Resample.DOWN) {
          throw new IllegalArgumentException("decoder cells do not down-sample");
        }
        long hidden = Math.round(in * (double) expansion);
        VarScope op = scope.child("op_0");
        this.bnIn = new Bn(op.child("bn_in"), in);
        this.expand = new Conv(op.child("expand").child("conv"), 1, in, hidden, 1, false, false, false);
        this.expandBn = new Bn(op.child("expand").child("bn"), hidden);
        this.depthwise = new Conv(op.child("depthwise").child("conv"), dwKernel, hidden, hidden, 1, false, false, true);
        this.depthwiseBn = new Bn(op.child("depthwise").child("bn"), hidden);
        this.project = new Conv(op.child("project").child("conv"), 1, hidden, out, 1, false, false, false);
        this.projectBn = new Bn(op.child("project").child("bn"), out);
        this.bn0 = null;
        this.conv0 = null;
        this.bn1 = null;
        this.conv1 = null;
      }
      if (resample == Resample.DOWN) {
        if (out % 2 != 0) {
          throw new IllegalArgumentException("FactorizedReduce needs an even channel count, got " + out);
        }
        VarScope skip = scope.child("skip");
        long q = out / 4;
        this.reduce = new Conv[] {
            new Conv(skip.child("conv_1"), 1, in, q, 2, true, true, false),
            new Conv(skip.child("conv_2"), 1, in, q, 2, true, true, false),
            new Conv(skip.child("conv_3"), 1, in, q, 2, true, true, false),
            new Conv(skip.child("conv_4"), 1, in, out - 3 * q, 2, true, true, false)};
        this.upConv = null;
      } else if (resample == Resample.UP) {
        this.reduce = null;
        this.upConv = new Conv(scope.child("skip").child("conv"), 1, in, out, 1, false, true, false);
      } else {
        this.reduce = null;
        this.upConv = null;
      }
      this.se = useSe ? new SqueezeExcitation(scope.child("se"), out) : null;
    }

    Operand<TFloating> call(Ctx c, Operand<TFloating> s) {
      Ops tf = c.tf;
      Operand<TFloating> skip = skip(c, s);
      Operand<TFloating> h;
      if (encoderStyle) {
        h = conv0.call(c, Tensors.swish(c.tf, bn0.call(c, s)));
        h = conv1.call(c, Tensors.swish(c.tf, bn1.call(c, h)));
      } else {
        h = s;
        if (resample == Resample.UP) {
          h = upsampleNearest(tf, h);
        }
        h = bnIn.call(c, h);
        h = Tensors.swish(c.tf, expandBn.call(c, expand.call(c, h)));
        h = Tensors.swish(c.tf, depthwiseBn.call(c, depthwise.call(c, h)));
        h = projectBn.call(c, project.call(c, h));
      }
      if (se != null) {
        h = se.call(c, h);
      }
      return tf.math.add(skip, tf.math.mul(c.c(0.1), h));
    }

    private Operand<TFloating> skip(Ctx c, Operand<TFloating> s) {
      Ops tf = c.tf;
      switch (resample) {
        case NONE -> {
          return s;
        }
        case DOWN -> {
          // FactorizedReduce: swish, then four stride-2 1x1 convolutions on s shifted by (0,0), (1,1), (0,1), (1,0)
          Operand<TFloating> a = Tensors.swish(c.tf, s);
          List<Operand<TFloating>> parts = List.of(
              reduce[0].call(c, a),
              reduce[1].call(c, tf.stridedSlice(a, Indices.all(), Indices.sliceFrom(1), Indices.sliceFrom(1),
                  Indices.all())),
              reduce[2].call(c, tf.stridedSlice(a, Indices.all(), Indices.all(), Indices.sliceFrom(1), Indices.all())),
              reduce[3].call(c, tf.stridedSlice(a, Indices.all(), Indices.sliceFrom(1), Indices.all(),
                  Indices.all())));
          return tf.concat(parts, tf.constant(3));
        }
        case UP -> {
          long h = s.shape().get(1);
          long w = s.shape().get(2);
          return upConv.call(c, Resize.bilinearAlignCorners(tf, s, new long[] {h, w}, new long[] {2 * h, 2 * w}));
        }
        default -> throw new IllegalStateException();
      }
    }
  }

  /** Nearest-neighbour x2 (PyTorch's UpsamplingNearest2d). */
  static Operand<TFloating> upsampleNearest(Ops tf, Operand<TFloating> x) {
    long h = x.shape().get(1);
    long w = x.shape().get(2);
    Operand<TInt32> size = tf.constant(new int[] {(int) (2 * h), (int) (2 * w)});
    return tf.image.resizeNearestNeighbor(x, size);
  }

  /** The encoder's combiner: x_enc + conv1x1(s_dec) (upstream EncCombinerCell). */
  static final class EncCombiner {
    final Conv conv;

    EncCombiner(VarScope scope, long encChannels, long decChannels) {
      this.conv = new Conv(scope.child("conv"), 1, decChannels, encChannels, 1, true, true, false);
    }

    Operand<TFloating> call(Ctx c, Operand<TFloating> xEnc, Operand<TFloating> sDec) {
      return c.tf.math.add(xEnc, conv.call(c, sDec));
    }
  }

  /** The decoder's combiner: conv1x1(concat(s, z)) (upstream DecCombinerCell). */
  static final class DecCombiner {
    final Conv conv;

    DecCombiner(VarScope scope, long channels, long latent) {
      this.conv = new Conv(scope.child("conv"), 1, channels + latent, channels, 1, true, true, false);
    }

    Operand<TFloating> call(Ctx c, Operand<TFloating> s, Operand<TFloating> z) {
      return conv.call(c, c.tf.concat(List.of(s, z), c.tf.constant(3)));
    }
  }

  /** ELU then a convolution (upstream's dec_sampler, enc0, image_conditional). */
  static Operand<TFloating> eluConv(Ctx c, Conv conv, Operand<TFloating> x) {
    return conv.call(c, c.tf.nn.elu(x));
  }
}
