package dev.genzoo.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One NumPy array in memory: its dtype {@code descr} as NumPy writes it ({@code "<f4"}, {@code ">i8"},
 * {@code "|u1"}, ...), its {@code shape}, and its raw element bytes in C (row-major) order in the byte order that
 * {@code descr} names. The conversions ({@link #asFloats()} ...) decode the bytes whatever their order.
 *
 * <p>Supported dtypes: {@code b1} (bool), {@code i1 i2 i4 i8}, {@code u1 u2 u4 u8}, {@code f2 f4 f8}, each
 * little-endian ({@code <}), big-endian ({@code >}), native ({@code =}) or without order ({@code |}, one-byte types).
 * The record holds its arrays without copying: treat them as read-only. Equality is by identity of the arrays.
 */
public record NpyArray(String descr, long[] shape, byte[] data) {
  /** The element kinds of the supported dtypes. */
  enum Kind { BOOL, INT, UINT, FLOAT }

  public NpyArray {
    DType dtype = DType.parse(descr);
    long n = elementCount(shape);
    if (n * dtype.itemSize() != data.length) {
      throw new IllegalArgumentException("NumPy array of dtype " + descr + " and shape " + shapeString(shape)
          + " needs " + n * dtype.itemSize() + " bytes, got " + data.length);
    }
  }

  /** A float32 array ({@code <f4}) of {@code values} with {@code shape}. */
  public static NpyArray ofFloats(float[] values, long... shape) {
    ByteBuffer b = buffer(values.length, 4, shape);
    b.asFloatBuffer().put(values);
    return new NpyArray("<f4", shape.clone(), b.array());
  }

  /** A float64 array ({@code <f8}). */
  public static NpyArray ofDoubles(double[] values, long... shape) {
    ByteBuffer b = buffer(values.length, 8, shape);
    b.asDoubleBuffer().put(values);
    return new NpyArray("<f8", shape.clone(), b.array());
  }

  /** An int64 array ({@code <i8}). */
  public static NpyArray ofLongs(long[] values, long... shape) {
    ByteBuffer b = buffer(values.length, 8, shape);
    b.asLongBuffer().put(values);
    return new NpyArray("<i8", shape.clone(), b.array());
  }

  /** An int32 array ({@code <i4}). */
  public static NpyArray ofInts(int[] values, long... shape) {
    ByteBuffer b = buffer(values.length, 4, shape);
    b.asIntBuffer().put(values);
    return new NpyArray("<i4", shape.clone(), b.array());
  }

  /** A uint8 array ({@code |u1}) of {@code values} (Java bytes read as unsigned 0..255). */
  public static NpyArray ofUint8(byte[] values, long... shape) {
    buffer(values.length, 1, shape);
    return new NpyArray("|u1", shape.clone(), values.clone());
  }

  /** Number of elements (the product of the shape; 1 for a 0-d array). */
  public long size() {
    return elementCount(shape);
  }

  /** Bytes per element. */
  public int itemSize() {
    return DType.parse(descr).itemSize();
  }

  /** The values as float32 (float64 and 64-bit integers are rounded to the nearest float). */
  public float[] asFloats() {
    DType t = DType.parse(descr);
    float[] out = new float[checkedSize()];
    ByteBuffer b = ByteBuffer.wrap(data).order(t.order());
    for (int i = 0; i < out.length; i++) {
      out[i] = t.kind() == Kind.FLOAT ? (float) t.getFloat(b, i) : (float) t.getIntegral(b, i);
    }
    return out;
  }

  /** The values as float64 (exact for every supported dtype except 64-bit integers beyond 2^53). */
  public double[] asDoubles() {
    DType t = DType.parse(descr);
    double[] out = new double[checkedSize()];
    ByteBuffer b = ByteBuffer.wrap(data).order(t.order());
    for (int i = 0; i < out.length; i++) {
      out[i] = t.kind() == Kind.FLOAT ? t.getFloat(b, i) : (double) t.getIntegral(b, i);
    }
    return out;
  }

  /** The values as int64; only for integer and bool dtypes (a float array fails rather than truncate silently). */
  public long[] asLongs() {
    DType t = DType.parse(descr);
    if (t.kind() == Kind.FLOAT) {
      throw new IllegalStateException("NumPy array of dtype " + descr + " holds floats; asLongs() needs an integer "
          + "or bool dtype");
    }
    long[] out = new long[checkedSize()];
    ByteBuffer b = ByteBuffer.wrap(data).order(t.order());
    for (int i = 0; i < out.length; i++) {
      out[i] = t.getIntegral(b, i);
      if (t.kind() == Kind.UINT && t.itemSize() == 8 && out[i] < 0) {
        throw new IllegalStateException("NumPy uint64 element " + i + " is " + Long.toUnsignedString(out[i])
            + ", beyond the int64 range");
      }
    }
    return out;
  }

  /** The values of a one-byte array ({@code u1}, {@code i1}, {@code b1}) as Java bytes (uint8 reads back as
   *  {@code value & 0xff}); a copy. */
  public byte[] asBytes() {
    DType t = DType.parse(descr);
    if (t.itemSize() != 1 || t.kind() == Kind.FLOAT) {
      throw new IllegalStateException("NumPy array of dtype " + descr + " is not a one-byte type (u1, i1, b1); "
          + "asBytes() reads only those");
    }
    return data.clone();
  }

  /** A human-readable description such as {@code <f4 (100, 2)}. */
  @Override
  public String toString() {
    return descr + " " + shapeString(shape);
  }

  /** The shape as NumPy prints it: {@code (3,)}, {@code (2, 3)}, {@code ()}. */
  public static String shapeString(long[] shape) {
    if (shape.length == 1) {
      return "(" + shape[0] + ",)";
    }
    StringBuilder s = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      s.append(i > 0 ? ", " : "").append(shape[i]);
    }
    return s.append(')').toString();
  }

  static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  private int checkedSize() {
    long n = size();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("NumPy array " + this + " has " + n + " elements, more than a Java array holds");
    }
    return (int) n;
  }

  private static ByteBuffer buffer(int count, int itemSize, long[] shape) {
    long n = elementCount(shape);
    if (n != count) {
      throw new IllegalArgumentException(count + " values do not fill shape " + shapeString(shape) + " (" + n
          + " elements)");
    }
    return ByteBuffer.allocate(count * itemSize).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A parsed simple dtype. */
  record DType(Kind kind, int itemSize, ByteOrder order) {
    static DType parse(String descr) {
      if (descr == null || descr.length() < 3) {
        throw new IllegalArgumentException("unsupported NumPy dtype " + descr + SUPPORTED);
      }
      char o = descr.charAt(0);
      ByteOrder order = switch (o) {
        case '<', '|' -> ByteOrder.LITTLE_ENDIAN;
        case '>' -> ByteOrder.BIG_ENDIAN;
        case '=' -> ByteOrder.nativeOrder();
        default -> throw new IllegalArgumentException("unsupported NumPy dtype '" + descr
            + "' (byte order must be <, >, = or |)" + SUPPORTED);
      };
      int size;
      try {
        size = Integer.parseInt(descr.substring(2));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("unsupported NumPy dtype '" + descr + "'" + SUPPORTED);
      }
      Kind kind = switch (descr.charAt(1)) {
        case 'b' -> size == 1 ? Kind.BOOL : null;
        case 'i' -> size == 1 || size == 2 || size == 4 || size == 8 ? Kind.INT : null;
        case 'u' -> size == 1 || size == 2 || size == 4 || size == 8 ? Kind.UINT : null;
        case 'f' -> size == 2 || size == 4 || size == 8 ? Kind.FLOAT : null;
        default -> null;
      };
      if (kind == null) {
        throw new IllegalArgumentException("unsupported NumPy dtype '" + descr + "'" + SUPPORTED);
      }
      if (o == '|' && size != 1) {
        throw new IllegalArgumentException("NumPy dtype '" + descr + "' has no byte order but " + size
            + " bytes per element");
      }
      return new DType(kind, size, order);
    }

    private static final String SUPPORTED = " (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f2, f4, f8 with byte "
        + "order <, > or =, or | for one-byte types)";

    long getIntegral(ByteBuffer b, int i) {
      return switch (itemSize) {
        case 1 -> kind == Kind.INT ? b.get(i) : b.get(i) & 0xffL;
        case 2 -> kind == Kind.INT ? b.getShort(i * 2) : b.getShort(i * 2) & 0xffffL;
        case 4 -> kind == Kind.INT ? b.getInt(i * 4) : b.getInt(i * 4) & 0xffffffffL;
        default -> b.getLong(i * 8);
      };
    }

    double getFloat(ByteBuffer b, int i) {
      return switch (itemSize) {
        case 2 -> halfToFloat(b.getShort(i * 2));
        case 4 -> b.getFloat(i * 4);
        default -> b.getDouble(i * 8);
      };
    }
  }

  /** IEEE 754 binary16 to float: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int fraction = bits & 0x3ff;
    if (exponent == 0x1f) { // infinity or NaN: all-ones float exponent, fraction kept
      return Float.intBitsToFloat(sign | 0x7f800000 | fraction << 13);
    }
    if (exponent == 0) { // zero or subnormal: fraction * 2^-24
      return Math.copySign(fraction * 0x1p-24f, Float.intBitsToFloat(sign | 0x3f800000));
    }
    return Float.intBitsToFloat(sign | (exponent - 15 + 127) << 23 | fraction << 13);
  }

}
