package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Conv2d;
import dev.genzoo.graphs.nn.Dense;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.SnConv2d;
import dev.genzoo.graphs.nn.SnDense;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TFloating;

/**
 * The layers of the SN-GAN networks with PyTorch's initialisation as Mimicry uses it: kernels Xavier-uniform with a
 * gain (Glorot and Bengio 2010; {@code nn.init.xavier_uniform_(w, gain)}: U(-a, a), a = gain sqrt(6 / (fan_in +
 * fan_out))), biases PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Each layer records its trainable
 * variables' values by name in a map, so that a network copy built under {@link VarScope#reuseAfter} can be
 * differentiated with respect to its own reads.
 */
final class Layers {
  private Layers() {}

  /** Xavier / Glorot uniform with PyTorch's gain. */
  static Initializer xavier(double gain) {
    return c -> {
      long[] fans = Initializer.fans(c.shape());
      return Initializer.uniform(gain * Math.sqrt(6.0 / (fans[0] + fans[1]))).create(c);
    };
  }

  /** PyTorch's default bias of a layer with {@code fanIn} inputs: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  static Initializer torchBias(long fanIn) {
    return Initializer.uniform(1.0 / Math.sqrt(fanIn));
  }

  /** A 3x3 or 1x1 convolution (stride 1, SAME) with bias: {@code kernel} [k, k, in, out] and {@code bias}. */
  static final class Conv {
    private final Conv2d conv;
    private final Output<TFloating> bias;

    Conv(VarScope scope, long k, long in, long out, double gain, Map<String, Output<TFloating>> params) {
      this.conv = new Conv2d(scope, k, in, out, 1, "SAME", false, xavier(gain));
      this.bias = scope.variable("bias", new long[] {out}, torchBias(k * k * in));
      params.put(scope.nameOf("kernel"), conv.kernel());
      params.put(scope.nameOf("bias"), bias);
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
      return tf.nn.biasAdd(conv.call(tf, x), bias);
    }
  }

  /** A spectrally normalised convolution with bias: {@code kernel}, {@code kernel_u} (state) and {@code bias}. */
  static final class SnConv {
    private final SnConv2d conv;
    private final Output<TFloating> bias;

    SnConv(VarScope scope, long k, long in, long out, double gain, Map<String, Output<TFloating>> params) {
      this.conv = new SnConv2d(scope, k, in, out, 1, "SAME", false, xavier(gain));
      this.bias = scope.variable("bias", new long[] {out}, torchBias(k * k * in));
      params.put(scope.nameOf("kernel"), conv.kernel().raw());
      params.put(scope.nameOf("bias"), bias);
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
      return tf.nn.biasAdd(conv.call(tf, x, pass), bias);
    }
  }

  /**
   * A dense layer y = x W + b, W [in, out]: {@code kernel} and {@code bias}. Generators only: it records the
   * variables' regular reads, so it is not built under a reuse scope.
   */
  static final class Linear {
    private final Dense dense;
    private final Output<TFloating> bias;

    Linear(VarScope scope, long in, long out, double gain, Map<String, Output<TFloating>> params) {
      if (scope.isReuse()) {
        throw new IllegalStateException("Linear layers are not rebuilt under reuseAfter: " + scope.path());
      }
      this.dense = new Dense(scope, in, out, false, xavier(gain));
      this.bias = scope.variable("bias", new long[] {out}, torchBias(in));
      params.put(scope.nameOf("kernel"), scope.store().get(scope.nameOf("kernel")).value());
      params.put(scope.nameOf("bias"), bias);
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x) {
      return tf.math.add(dense.call(tf, x), bias);
    }
  }

  /** A spectrally normalised dense layer: {@code kernel} [in, out], {@code kernel_u} [out] (state) and {@code bias}. */
  static final class SnLinear {
    private final SnDense dense;
    private final Output<TFloating> bias;

    SnLinear(VarScope scope, long in, long out, double gain, Map<String, Output<TFloating>> params) {
      this.dense = new SnDense(scope, in, out, false, xavier(gain));
      this.bias = scope.variable("bias", new long[] {out}, torchBias(in));
      params.put(scope.nameOf("kernel"), dense.kernel().raw());
      params.put(scope.nameOf("bias"), bias);
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
      return tf.math.add(dense.call(tf, x, pass), bias);
    }
  }

  /** 2x2 average pooling, stride 2 (PyTorch's {@code F.avg_pool2d(x, 2)}). */
  static Operand<TFloating> avgPool(Ops tf, Operand<TFloating> x) {
    return tf.nn.avgPool(x, List.of(1L, 2L, 2L, 1L), List.of(1L, 2L, 2L, 1L), "VALID");
  }

  /**
   * Doubles the height and width of NHWC {@code x}. BILINEAR is PyTorch's {@code F.interpolate(x, scale_factor=2,
   * mode='bilinear', align_corners=False)}: output row 2i is 3/4 x_i + 1/4 x_{i-1} and row 2i+1 is 3/4 x_i + 1/4
   * x_{i+1}, edges clamped, in each direction. In float32 that is TensorFlow's ResizeBilinear with half-pixel centres;
   * in float64 (numerical tests), where ResizeBilinear would round to float32, the same weights are applied directly.
   */
  static Operand<TFloating> upsample(Ops tf, Operand<TFloating> x, SnganConfig.Upsample mode) {
    long h = x.shape().get(1);
    long w = x.shape().get(2);
    Operand<org.tensorflow.types.TInt32> size = tf.constant(new int[] {(int) (2 * h), (int) (2 * w)});
    if (mode == SnganConfig.Upsample.NEAREST) {
      return tf.image.resizeNearestNeighbor(x, size);
    }
    if ((Class<?>) x.type() == TFloat32.class) {
      @SuppressWarnings("unchecked")
      Operand<TFloating> y = (Operand<TFloating>) (Operand<?>) tf.image.resizeBilinear(x, size,
          ResizeBilinear.alignCorners(false), ResizeBilinear.halfPixelCenters(true));
      return y;
    }
    return bilinearAxis(tf, bilinearAxis(tf, x, 1, h), 2, w);
  }

  /** Bilinear x2 with half-pixel centres along {@code axis} (1 or 2) of length {@code n}. */
  private static Operand<TFloating> bilinearAxis(Ops tf, Operand<TFloating> x, int axis, long n) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> prev;
    Operand<TFloating> next;
    if (n == 1) {
      prev = x;
      next = x;
    } else {
      prev = tf.concat(List.of(slice(tf, x, axis, 0, 1), slice(tf, x, axis, 0, n - 1)), tf.constant(axis));
      next = tf.concat(List.of(slice(tf, x, axis, 1, n - 1), slice(tf, x, axis, n - 1, 1)), tf.constant(axis));
    }
    Operand<TFloating> q = Tensors.constant(tf, dt, 0.25);
    Operand<TFloating> t = Tensors.constant(tf, dt, 0.75);
    Operand<TFloating> even = tf.math.add(tf.math.mul(prev, q), tf.math.mul(x, t));
    Operand<TFloating> odd = tf.math.add(tf.math.mul(x, t), tf.math.mul(next, q));
    Operand<TFloating> both = tf.stack(List.of(even, odd), org.tensorflow.op.core.Stack.axis((long) axis + 1));
    long[] shape = x.shape().asArray();
    long[] out = shape.clone();
    out[0] = -1;
    out[axis] = 2 * n;
    return tf.reshape(both, tf.constant(out));
  }

  private static Operand<TFloating> slice(Ops tf, Operand<TFloating> x, int axis, long begin, long size) {
    int rank = x.shape().numDimensions();
    long[] b = new long[rank];
    long[] s = new long[rank];
    java.util.Arrays.fill(s, -1);
    b[axis] = begin;
    s[axis] = size;
    return tf.slice(x, tf.constant(b), tf.constant(s));
  }
}
