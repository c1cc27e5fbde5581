package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Makes a variable's initial value. Random initialisers use TensorFlow's stateless random ops seeded from the store
 * seed and the variable's name, so the same name and seed give the same value whatever order layers are built in.
 */
@FunctionalInterface
public interface Initializer {
  /** What an initialiser gets: the ops, the dtype, the variable's shape and its two-element seed. */
  record Context(Ops tf, Class<TFloating> dtype, Shape shape, long[] seed) {
    public Operand<TFloating> constant(double v) {
      return Tensors.constant(tf, dtype, v);
    }
  }

  Operand<TFloating> create(Context c);

  static Initializer zeros() {
    // tf.fill, not tf.zeros: Zeros opens a name sub-scope, which walks the whole graph (quadratic build time).
    return constant(0.0);
  }

  static Initializer ones() {
    return constant(1.0);
  }

  static Initializer constant(double value) {
    return c -> c.tf().fill(c.tf().constant(c.shape()), c.constant(value));
  }

  /** Values given on the host (small tensors only: they become graph constants). */
  static Initializer values(double[] values) {
    return c -> {
      if (values.length != c.shape().size()) {
        throw new IllegalArgumentException("initial values have " + values.length + " elements, shape " + c.shape()
            + " needs " + c.shape().size());
      }
      return Tensors.constant(c.tf(), c.dtype(), values, c.shape());
    };
  }

  /** N(0, std^2). */
  static Initializer normal(double std) {
    return c -> c.tf().math.mul(
        c.tf().random.statelessRandomNormal(c.tf().constant(c.shape()), c.tf().constant(c.seed()), c.dtype()),
        c.constant(std));
  }

  /** U(-limit, limit). */
  static Initializer uniform(double limit) {
    return c -> c.tf().math.mul(
        c.tf().math.sub(
            c.tf().math.mul(
                c.tf().random.statelessRandomUniform(c.tf().constant(c.shape()), c.tf().constant(c.seed()), c.dtype()),
                c.constant(2.0)),
            c.constant(1.0)),
        c.constant(limit));
  }

  /**
   * Glorot / Xavier uniform (Glorot & Bengio 2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out)). For a kernel of
   * shape [..., in, out] the receptive field multiplies both fans.
   */
  static Initializer glorotUniform() {
    return c -> {
      long[] fans = fans(c.shape());
      return uniform(Math.sqrt(6.0 / (fans[0] + fans[1]))).create(c);
    };
  }

  /** He normal (He et al. 2015): N(0, 2 / fan_in), for ReLU networks. */
  static Initializer heNormal() {
    return c -> normal(Math.sqrt(2.0 / fans(c.shape())[0])).create(c);
  }

  /** LeCun / variance-scaling uniform with scale {@code scale}: U(-a, a), a = sqrt(3 scale / fan_in). */
  static Initializer varianceScaling(double scale) {
    return c -> uniform(Math.sqrt(3.0 * scale / fans(c.shape())[0])).create(c);
  }

  /**
   * Variance scaling with fan_avg and a uniform distribution (TF1's {@code variance_scaling_initializer(scale,
   * 'fan_avg', 'uniform')}, the DDPM code's {@code default_init}): U(-a, a), a = sqrt(3 scale / ((fan_in + fan_out) / 2)).
   */
  static Initializer varianceScalingFanAvg(double scale) {
    return c -> {
      long[] fans = fans(c.shape());
      return uniform(Math.sqrt(3.0 * scale / ((fans[0] + fans[1]) / 2.0))).create(c);
    };
  }

  /** fan_in, fan_out of a kernel [..., in, out] (dense [in, out]; conv HWIO). */
  static long[] fans(Shape shape) {
    int r = shape.numDimensions();
    if (r < 2) {
      long n = r == 0 ? 1 : shape.get(0);
      return new long[] {n, n};
    }
    long receptive = 1;
    for (int i = 0; i < r - 2; i++) {
      receptive *= shape.get(i);
    }
    return new long[] {shape.get(r - 2) * receptive, shape.get(r - 1) * receptive};
  }
}
