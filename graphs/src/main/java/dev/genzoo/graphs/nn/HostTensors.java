package dev.genzoo.graphs.nn;

import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/** Host arrays to tensors and back. The caller closes the tensors it gets. */
public final class HostTensors {
  private HostTensors() {}

  public static TFloat32 float32(float[] data, long[] shape) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
  }

  /** A tensor of the model dtype from doubles. */
  public static Tensor of(Class<TFloating> dtype, double[] data, long[] shape) {
    if (dtype == (Class<?>) TFloat64.class) {
      return TFloat64.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
    }
    float[] f = new float[data.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data[i];
    }
    return float32(f, shape);
  }

  /** All values of a float32 or float64 tensor, row-major. */
  public static double[] toDoubles(Tensor t) {
    int n = Math.toIntExact(t.shape().size());
    double[] out = new double[n];
    if (t instanceof TFloat64 d) {
      d.copyTo(DataBuffers.of(out, false, false));
    } else if (t instanceof TFloat32 f) {
      float[] buf = new float[n];
      f.copyTo(DataBuffers.of(buf, false, false));
      for (int i = 0; i < n; i++) {
        out[i] = buf[i];
      }
    } else {
      throw new IllegalArgumentException("expected a float tensor, got " + t.dataType());
    }
    return out;
  }

  /** All values of a float32 tensor. */
  public static float[] toFloats(TFloat32 t) {
    float[] out = new float[Math.toIntExact(t.shape().size())];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }
}
