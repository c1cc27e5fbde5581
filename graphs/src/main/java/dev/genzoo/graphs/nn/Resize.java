package dev.genzoo.graphs.nn;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Resizing of NHWC feature maps that works in any floating dtype and has gradients of every order. */
public final class Resize {
  private Resize() {}

  /**
   * Bilinear resizing of NHWC {@code x} from {@code in} = [h, w] to {@code out} = [H, W] with aligned corners (source
   * coordinate = target * (in - 1) / (out - 1)), as two contractions with constant interpolation matrices, which works
   * in any floating dtype and has gradients of every order.
   */
  public static Operand<TFloating> bilinearAlignCorners(Ops tf, Operand<TFloating> x, long[] in, long[] out) {
    if (in[0] == out[0] && in[1] == out[1]) {
      return x;
    }
    Operand<TFloating> rows = interpolationMatrix(tf, x.type(), (int) in[0], (int) out[0]);
    Operand<TFloating> cols = interpolationMatrix(tf, x.type(), (int) in[1], (int) out[1]);
    Operand<TFloating> h = tf.linalg.einsum(List.of(rows, x), "Hh,nhwc->nHwc");
    return tf.linalg.einsum(List.of(cols, h), "Ww,nHwc->nHWc");
  }

  /** The [out, in] matrix of 1-D linear interpolation with aligned corners. */
  public static Operand<TFloating> interpolationMatrix(Ops tf, Class<TFloating> dt, int in, int out) {
    double[] m = new double[out * in];
    double scale = out > 1 ? (double) (in - 1) / (out - 1) : 0.0;
    for (int o = 0; o < out; o++) {
      double src = o * scale;
      int lo = Math.min((int) Math.floor(src), in - 1);
      int hi = Math.min(lo + 1, in - 1);
      double frac = src - lo;
      m[o * in + lo] += 1 - frac;
      m[o * in + hi] += frac;
    }
    return Tensors.constant(tf, dt, m, Shape.of(out, in));
  }
}
