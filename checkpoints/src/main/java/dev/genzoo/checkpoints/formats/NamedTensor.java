package dev.genzoo.checkpoints.formats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: the in-memory interchange between every format genzoo reads and writes. The data is
 * row-major (C order) and little-endian, {@code numElements * dtype.byteSize()} bytes.
 *
 * @param name the tensor's name in its file ({@code model/conv_in/W}, {@code module.conv.weight}, ...)
 * @param dtype element type
 * @param shape dimensions; empty for a scalar
 * @param data the raw bytes; not copied, so callers must not change it afterwards
 */
public record NamedTensor(String name, DType dtype, long[] shape, byte[] data) {
  public NamedTensor {
    shape = shape.clone();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("tensor " + name + " has a negative dimension: " + shapeString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    if (data.length != n * dtype.byteSize()) {
      throw new IllegalArgumentException("tensor " + name + " " + dtype + shapeString(shape) + " needs "
          + n * dtype.byteSize() + " bytes but has " + data.length);
    }
  }

  public static NamedTensor ofFloats(String name, long[] shape, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new NamedTensor(name, DType.F32, shape, b.array());
  }

  public static NamedTensor ofDoubles(String name, long[] shape, double[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asDoubleBuffer().put(values);
    return new NamedTensor(name, DType.F64, shape, b.array());
  }

  public static NamedTensor ofLongs(String name, long[] shape, long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return new NamedTensor(name, DType.I64, shape, b.array());
  }

  public static NamedTensor ofInts(String name, long[] shape, int[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return new NamedTensor(name, DType.I32, shape, b.array());
  }

  /** Number of elements (1 for a scalar). */
  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The shape as {@code [3, 3, 64, 128]}. */
  public String shapeString() {
    return shapeString(shape);
  }

  public static String shapeString(long[] shape) {
    return Arrays.toString(shape);
  }

  /** {@code name F32[3, 3, 64, 128]}. */
  @Override
  public String toString() {
    return name + " " + dtype + shapeString();
  }

  /** Same data under another name. */
  public NamedTensor withName(String newName) {
    return new NamedTensor(newName, dtype, shape, data);
  }

  /** Same data with another shape of the same element count. */
  public NamedTensor reshape(long... newShape) {
    return new NamedTensor(name, dtype, newShape, data);
  }

  private ByteBuffer buffer() {
    return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The values as doubles, converting from any numeric type (F16 and BF16 exactly). */
  public double[] toDoubles() {
    int n = Math.toIntExact(numElements());
    double[] out = new double[n];
    ByteBuffer b = buffer();
    for (int i = 0; i < n; i++) {
      out[i] = switch (dtype) {
        case BOOL, U8 -> b.get(i) & 0xff;
        case I8 -> b.get(i);
        case I16 -> b.getShort(2 * i);
        case U16 -> b.getShort(2 * i) & 0xffff;
        case F16 -> halfToFloat(b.getShort(2 * i));
        case BF16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
        case I32 -> b.getInt(4 * i);
        case U32 -> b.getInt(4 * i) & 0xffffffffL;
        case F32 -> b.getFloat(4 * i);
        case I64, U64 -> b.getLong(8 * i);
        case F64 -> b.getDouble(8 * i);
      };
    }
    return out;
  }

  /** IEEE 754 binary16 to float, exactly (subnormals, infinities and NaN included). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** The values as floats (see {@link #toDoubles()}). */
  public float[] toFloats() {
    if (dtype == DType.F32) {
      float[] out = new float[Math.toIntExact(numElements())];
      buffer().asFloatBuffer().get(out);
      return out;
    }
    double[] d = toDoubles();
    float[] out = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      out[i] = (float) d[i];
    }
    return out;
  }

  /** The values converted to F32 (this tensor itself when it is F32). */
  public NamedTensor toF32() {
    return dtype == DType.F32 ? this : ofFloats(name, shape, toFloats());
  }

  /**
   * The axes permuted: result dimension {@code i} is this tensor's dimension {@code perm[i]} (numpy's
   * {@code transpose(perm)}). PyTorch's OIHW convolution kernels become TensorFlow's HWIO with {@code (2, 3, 1, 0)}.
   */
  public NamedTensor transpose(int... perm) {
    int r = shape.length;
    if (perm.length != r) {
      throw new IllegalArgumentException("tensor " + this + ": permutation " + Arrays.toString(perm) + " has rank "
          + perm.length);
    }
    long[] outShape = new long[r];
    boolean[] seen = new boolean[r];
    for (int i = 0; i < r; i++) {
      if (perm[i] < 0 || perm[i] >= r || seen[perm[i]]) {
        throw new IllegalArgumentException("tensor " + this + ": " + Arrays.toString(perm) + " is not a permutation");
      }
      seen[perm[i]] = true;
      outShape[i] = shape[perm[i]];
    }
    long[] inStrides = new long[r];
    long s = 1;
    for (int i = r - 1; i >= 0; i--) {
      inStrides[i] = s;
      s *= shape[i];
    }
    int es = dtype.byteSize();
    int n = Math.toIntExact(numElements());
    byte[] out = new byte[data.length];
    long[] idx = new long[r];
    for (int o = 0; o < n; o++) {
      long src = 0;
      for (int i = 0; i < r; i++) {
        src += idx[i] * inStrides[perm[i]];
      }
      System.arraycopy(data, (int) (src * es), out, o * es, es);
      for (int i = r - 1; i >= 0; i--) {
        if (++idx[i] < outShape[i]) {
          break;
        }
        idx[i] = 0;
      }
    }
    return new NamedTensor(name, dtype, outShape, out);
  }
}
