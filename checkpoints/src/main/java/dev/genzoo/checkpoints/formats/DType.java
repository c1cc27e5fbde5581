package dev.genzoo.checkpoints.formats;

import java.util.Locale;

/**
 * Element types that checkpoint files hold, with their codes in each format: safetensors' names ({@code F32}), NumPy's
 * descriptors ({@code <f4}) and TensorFlow's {@code DataType} enum numbers (tensorflow/core/framework/types.proto).
 * Data is always little-endian.
 */
public enum DType {
  BOOL(1, "|b1", 10),
  U8(1, "|u1", 4),
  I8(1, "|i1", 6),
  I16(2, "<i2", 5),
  U16(2, "<u2", 17),
  F16(2, "<f2", 19),
  BF16(2, null, 14),
  I32(4, "<i4", 3),
  U32(4, "<u4", 22),
  F32(4, "<f4", 1),
  I64(8, "<i8", 9),
  U64(8, "<u8", 23),
  F64(8, "<f8", 2);

  private final int byteSize;
  private final String numpyDescr;
  private final int tfCode;

  DType(int byteSize, String numpyDescr, int tfCode) {
    this.byteSize = byteSize;
    this.numpyDescr = numpyDescr;
    this.tfCode = tfCode;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** True for F16, BF16, F32 and F64. */
  public boolean isFloating() {
    return this == F16 || this == BF16 || this == F32 || this == F64;
  }

  /** The safetensors name: {@code F32}, {@code BF16}, ... */
  public String safetensorsName() {
    return name();
  }

  /** NumPy's little-endian descriptor ({@code <f4}); null for BF16, which NumPy lacks. */
  public String numpyDescr() {
    return numpyDescr;
  }

  /** TensorFlow's {@code DataType} number (DT_FLOAT = 1, ...). */
  public int tfCode() {
    return tfCode;
  }

  /** The type of a safetensors dtype string. */
  public static DType ofSafetensors(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unsupported safetensors dtype " + name);
    }
  }

  /** The type of a NumPy descriptor ({@code <f4}, {@code |u1}, {@code <i8}; {@code =}/native treated as little-endian). */
  public static DType ofNumpy(String descr) {
    String d = descr.length() == 3 && (descr.charAt(0) == '=' || descr.charAt(0) == '|')
        ? (descr.charAt(2) == '1' ? "|" : "<") + descr.substring(1) : descr;
    for (DType t : values()) {
      if (d.equals(t.numpyDescr)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unsupported NumPy dtype " + descr + " (big-endian, complex, strings and objects"
        + " are not checkpoint tensors)");
  }

  /** The type of a TensorFlow {@code DataType} number. */
  public static DType ofTfCode(int code) {
    for (DType t : values()) {
      if (t.tfCode == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("unsupported TensorFlow dtype number " + code);
  }
}
