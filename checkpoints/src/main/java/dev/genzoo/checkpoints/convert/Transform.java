package dev.genzoo.checkpoints.convert;

import dev.genzoo.checkpoints.formats.NamedTensor;

/** How an upstream tensor becomes a genzoo variable's value: a layout change, a reshape, a conversion. */
@FunctionalInterface
public interface Transform {
  NamedTensor apply(NamedTensor t);

  /** The values as they are (converted to float32). */
  Transform IDENTITY = t -> t;

  /** PyTorch's convolution kernel [out, in, kh, kw] (OIHW) to TensorFlow's [kh, kw, in, out] (HWIO). */
  Transform OIHW_TO_HWIO = t -> requireRank(t, 4).transpose(2, 3, 1, 0);

  /**
   * PyTorch's depthwise kernel [channels, 1, kh, kw] to TensorFlow's depthwise [kh, kw, channels, 1]
   * ({@code tf.nn.depthwise_conv2d} with channel multiplier 1).
   */
  Transform DEPTHWISE_OIHW_TO_HWC1 = t -> requireRank(t, 4).transpose(2, 3, 0, 1);

  /** PyTorch's linear weight [out, in] to genzoo's dense kernel [in, out]. */
  Transform LINEAR_OI_TO_IO = t -> requireRank(t, 2).transpose(1, 0);

  /** Drops every dimension of size 1 ({@code [out, 1, 1, 1]} to {@code [out]}). */
  Transform SQUEEZE = t -> {
    int n = 0;
    for (long d : t.shape()) {
      n += d == 1 ? 0 : 1;
    }
    long[] s = new long[n];
    int i = 0;
    for (long d : t.shape()) {
      if (d != 1) {
        s[i++] = d;
      }
    }
    return t.reshape(s);
  };

  /** This transform followed by {@code next}. */
  default Transform then(Transform next) {
    return t -> next.apply(apply(t));
  }

  /** A reshape to {@code shape} (same element count, row-major). */
  static Transform reshape(long... shape) {
    return t -> t.reshape(shape);
  }

  private static NamedTensor requireRank(NamedTensor t, int rank) {
    if (t.shape().length != rank) {
      throw new IllegalArgumentException("tensor " + t + " should have rank " + rank);
    }
    return t;
  }
}
