package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/** Small graph helpers that work in the model's floating dtype (float32 or float64). */
public final class Tensors {
  private Tensors() {}

  /** The number of elements of a tensor of this shape (the product of its dimensions; 1 for a scalar). */
  public static long size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The shape of a batch of {@code n} examples of {@code exampleShape}: [n, exampleShape...] (n = -1: unknown). */
  public static long[] batchShape(long n, long[] exampleShape) {
    long[] shape = new long[exampleShape.length + 1];
    shape[0] = n;
    System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
    return shape;
  }

  /** A scalar constant of {@code dtype}. */
  @SuppressWarnings("unchecked")
  public static Operand<TFloating> constant(Ops tf, Class<TFloating> dtype, double v) {
    if (dtype == (Class<?>) TFloat64.class) {
      return (Operand<TFloating>) (Operand<?>) tf.constant(v);
    }
    return (Operand<TFloating>) (Operand<?>) tf.constant((float) v);
  }

  /** A constant of {@code dtype} and {@code shape} from host values. */
  @SuppressWarnings("unchecked")
  public static Operand<TFloating> constant(Ops tf, Class<TFloating> dtype, double[] values, Shape shape) {
    if (dtype == (Class<?>) TFloat64.class) {
      return (Operand<TFloating>) (Operand<?>) tf.constant(shape, DataBuffers.of(values, true, false));
    }
    float[] f = new float[values.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) values[i];
    }
    return (Operand<TFloating>) (Operand<?>) tf.constant(shape, DataBuffers.of(f, true, false));
  }

  /** Casts any numeric operand to {@code dtype}. */
  public static Operand<TFloating> cast(Ops tf, Operand<? extends TType> x, Class<TFloating> dtype) {
    return tf.dtypes.cast(x, dtype);
  }

  public static Operand<TFloating> sum(Ops tf, Operand<TFloating> x, int... axes) {
    return tf.sum(x, tf.constant(axes));
  }

  public static Operand<TFloating> sumKeep(Ops tf, Operand<TFloating> x, int... axes) {
    return tf.sum(x, tf.constant(axes), Sum.keepDims(true));
  }

  public static Operand<TFloating> mean(Ops tf, Operand<TFloating> x, int... axes) {
    return tf.math.mean(x, tf.constant(axes));
  }

  public static Operand<TFloating> meanKeep(Ops tf, Operand<TFloating> x, int... axes) {
    return tf.math.mean(x, tf.constant(axes), Mean.keepDims(true));
  }

  /** The sum over every axis but the first: per-example totals of a [N, ...] tensor of rank {@code rank}. */
  public static Operand<TFloating> sumPerExample(Ops tf, Operand<TFloating> x, int rank) {
    if (rank == 1) {
      return x;
    }
    int[] axes = new int[rank - 1];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 1;
    }
    return sum(tf, x, axes);
  }

  /**
   * The log-density of a diagonal Gaussian N(mean, exp(logScale)^2), elementwise:
   * -0.5 log(2 pi) - logScale - 0.5 (x - mean)^2 exp(-2 logScale).
   */
  public static Operand<TFloating> gaussianLogDensity(Ops tf, Class<TFloating> dt, Operand<TFloating> x,
      Operand<TFloating> mean, Operand<TFloating> logScale) {
    Operand<TFloating> z = tf.math.mul(tf.math.sub(x, mean), tf.math.exp(tf.math.neg(logScale)));
    return tf.math.sub(
        tf.math.sub(constant(tf, dt, -0.5 * Math.log(2 * Math.PI)), logScale),
        tf.math.mul(constant(tf, dt, 0.5), tf.math.square(z)));
  }

  /** The standard normal log-density, elementwise. */
  public static Operand<TFloating> standardNormalLogDensity(Ops tf, Class<TFloating> dt, Operand<TFloating> x) {
    return tf.math.sub(constant(tf, dt, -0.5 * Math.log(2 * Math.PI)),
        tf.math.mul(constant(tf, dt, 0.5), tf.math.square(x)));
  }

  /** Numerically stable log(sum(exp(x))) over {@code axis}. */
  public static Operand<TFloating> logSumExp(Ops tf, Operand<TFloating> x, int axis) {
    Operand<TFloating> m = tf.stopGradient(tf.max(x, tf.constant(axis), org.tensorflow.op.core.Max.keepDims(true)));
    Operand<TFloating> s = tf.sum(tf.math.exp(tf.math.sub(x, m)), tf.constant(axis), Sum.keepDims(true));
    return tf.squeeze(tf.math.add(tf.math.log(s), m),
        org.tensorflow.op.core.Squeeze.axis(java.util.List.of((long) axis)));
  }

  /** Swish / SiLU: x * sigmoid(x) (Ramachandran et al. 2017). */
  public static Operand<TFloating> swish(Ops tf, Operand<TFloating> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }

  /** A float32 scalar/array view of any floating operand (for fetching uniform host types). */
  public static Operand<TFloat32> toFloat32(Ops tf, Operand<TFloating> x) {
    return tf.dtypes.cast(x, TFloat32.class);
  }
}
