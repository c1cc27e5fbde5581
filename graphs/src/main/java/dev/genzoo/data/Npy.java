package dev.genzoo.data;

import dev.genzoo.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the NumPy {@code .npy} format (NEP 1, "A simple file format for NumPy arrays";
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): the magic {@code \x93NUMPY}, a major and
 * a minor version byte, the header length (little-endian uint16 in version 1.0, uint32 in 2.0 and 3.0), and the
 * header: a Python dict literal with the keys {@code descr}, {@code fortran_order} and {@code shape}, padded with
 * spaces and ended by a newline so that the data starts at a multiple of 64 bytes. The data follows, in C or Fortran
 * order; arrays read in Fortran order are returned in C order.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64;
  private static final int MAX_HEADER = 1 << 20;

  private Npy() {}

  /** Reads one {@code .npy} file. */
  public static NpyArray read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "not a NumPy .npy file");
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      return read(in, file.toString());
    }
  }

  /**
   * Reads one array from {@code in}, which must hold exactly one {@code .npy} image (bytes after the data are an
   * error); {@code source} names it in error messages.
   */
  public static NpyArray read(InputStream in, String source) throws IOException {
    byte[] magic = readExactly(in, 8, source, "the magic string and version");
    for (int i = 0; i < MAGIC.length; i++) {
      if (magic[i] != MAGIC[i]) {
        boolean zip = magic[0] == 'P' && magic[1] == 'K';
        throw new IOException(source + ": not a NumPy .npy file (bad magic; expected \\x93NUMPY"
            + (zip ? "; this is a zip archive, an .npz? read it with Npz" : "") + ")");
      }
    }
    int major = magic[6] & 0xff;
    int minor = magic[7] & 0xff;
    int headerLength;
    if (major == 1) {
      byte[] b = readExactly(in, 2, source, "the header length");
      headerLength = (b[0] & 0xff) | (b[1] & 0xff) << 8;
    } else if (major == 2 || major == 3) {
      byte[] b = readExactly(in, 4, source, "the header length");
      long len = (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
      if (len > MAX_HEADER) {
        throw new IOException(source + ": .npy header length " + len + " is implausibly large (corrupt file?)");
      }
      headerLength = (int) len;
    } else {
      throw new IOException(source + ": unsupported .npy format version " + major + "." + minor
          + " (supported: 1.0, 2.0, 3.0)");
    }
    byte[] headerBytes = readExactly(in, headerLength, source, "the header");
    String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Header h;
    try {
      h = parseHeader(header);
    } catch (IllegalArgumentException e) {
      throw new IOException(source + ": " + e.getMessage(), e);
    }
    NpyArray.DType dtype;
    try {
      dtype = NpyArray.DType.parse(h.descr);
    } catch (IllegalArgumentException e) {
      throw new IOException(source + ": " + e.getMessage(), e);
    }
    long count;
    try {
      count = NpyArray.elementCount(h.shape);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IOException(source + ": bad shape " + NpyArray.shapeString(h.shape), e);
    }
    long bytes = count * dtype.itemSize();
    if (count > Integer.MAX_VALUE || bytes > Integer.MAX_VALUE - 8) {
      throw new IOException(source + ": array of shape " + NpyArray.shapeString(h.shape) + " and dtype " + h.descr
          + " (" + bytes + " bytes) is larger than one Java array can hold");
    }
    byte[] data = new byte[(int) bytes];
    int got = in.readNBytes(data, 0, data.length);
    if (got != data.length) {
      throw new IOException(source + ": truncated data: shape " + NpyArray.shapeString(h.shape) + " of " + h.descr
          + " needs " + bytes + " bytes after the header, the file has " + got);
    }
    long extra = 0;
    byte[] buf = new byte[8192];
    for (int r; (r = in.read(buf)) > 0; ) {
      extra += r;
    }
    if (extra > 0) {
      throw new IOException(source + ": " + extra + " bytes after the data that shape "
          + NpyArray.shapeString(h.shape) + " of " + h.descr + " needs (" + bytes + " bytes): shape/data mismatch");
    }
    if (h.fortranOrder && h.shape.length > 1) {
      data = fortranToC(data, h.shape, dtype.itemSize());
    }
    return new NpyArray(h.descr, h.shape.clone(), data);
  }

  /** Writes {@code array} to {@code file} atomically (version 1.0 header, or 2.0 when it would not fit). */
  public static void write(Path file, NpyArray array) throws IOException {
    AtomicFiles.write(file, out -> write(out, array));
  }

  /** Writes {@code array} as one {@code .npy} image to {@code out} (C order). */
  public static void write(OutputStream out, NpyArray array) throws IOException {
    out.write(header(array));
    out.write(array.data());
  }

  /** The {@code .npy} bytes of {@code array}. */
  public static byte[] toBytes(NpyArray array) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(array.data().length + ALIGN * 2);
    try {
      write(b, array);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return b.toByteArray();
  }

  /** The magic, version, header length and padded header for {@code array}. */
  static byte[] header(NpyArray array) {
    String dict = "{'descr': '" + array.descr() + "', 'fortran_order': False, 'shape': "
        + NpyArray.shapeString(array.shape()) + ", }";
    int version = 1;
    int prefix = MAGIC.length + 2 + 2;
    int total = padded(prefix + dict.length() + 1);
    if (total - prefix > 0xffff) {
      version = 2;
      prefix = MAGIC.length + 2 + 4;
      total = padded(prefix + dict.length() + 1);
    }
    int headerLength = total - prefix;
    StringBuilder h = new StringBuilder(dict);
    while (h.length() < headerLength - 1) {
      h.append(' ');
    }
    h.append('\n');
    byte[] out = new byte[total];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    out[6] = (byte) version;
    out[7] = 0;
    int at = 8;
    out[at++] = (byte) headerLength;
    out[at++] = (byte) (headerLength >>> 8);
    if (version == 2) {
      out[at++] = (byte) (headerLength >>> 16);
      out[at++] = (byte) (headerLength >>> 24);
    }
    byte[] text = h.toString().getBytes(StandardCharsets.ISO_8859_1);
    System.arraycopy(text, 0, out, at, text.length);
    return out;
  }

  private static int padded(int n) {
    return (n + ALIGN - 1) / ALIGN * ALIGN;
  }

  private static byte[] readExactly(InputStream in, int n, String source, String what) throws IOException {
    byte[] b;
    try {
      b = in.readNBytes(n);
    } catch (EOFException e) {
      b = new byte[0];
    }
    if (b.length != n) {
      throw new IOException(source + ": truncated: the file ends inside " + what + " (not a complete .npy file)");
    }
    return b;
  }

  /** Reorders the elements of a Fortran-order (column-major) array into C (row-major) order. */
  static byte[] fortranToC(byte[] data, long[] shape, int itemSize) {
    int rank = shape.length;
    long[] fStride = new long[rank];
    long s = 1;
    for (int d = 0; d < rank; d++) {
      fStride[d] = s;
      s *= shape[d];
    }
    byte[] out = new byte[data.length];
    int count = data.length / itemSize;
    long[] index = new long[rank];
    long fOffset = 0;
    for (int c = 0; c < count; c++) {
      System.arraycopy(data, (int) (fOffset * itemSize), out, c * itemSize, itemSize);
      // Advance the C-order multi-index (last axis fastest) and keep the Fortran offset in step.
      for (int d = rank - 1; d >= 0; d--) {
        index[d]++;
        fOffset += fStride[d];
        if (index[d] < shape[d]) {
          break;
        }
        fOffset -= fStride[d] * index[d];
        index[d] = 0;
      }
    }
    return out;
  }

  /** The parsed header dict. */
  record Header(String descr, boolean fortranOrder, long[] shape) {}

  /** Parses the header's Python dict literal; throws IllegalArgumentException saying what is wrong. */
  static Header parseHeader(String text) {
    Map<String, Object> dict;
    try {
      Object v = new Literal(text).parseTop();
      if (!(v instanceof Map<?, ?> m)) {
        throw new IllegalArgumentException("the header is not a dict");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> cast = (Map<String, Object>) m;
      dict = cast;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad .npy header " + abbreviate(text) + ": " + e.getMessage(), e);
    }
    if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
      throw new IllegalArgumentException("bad .npy header " + abbreviate(text)
          + ": keys must be exactly descr, fortran_order, shape; found " + dict.keySet());
    }
    Object descr = dict.get("descr");
    if (!(descr instanceof String d)) {
      throw new IllegalArgumentException("unsupported NumPy dtype " + descr
          + ": only simple dtypes are read, not structured (record) dtypes");
    }
    if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
      throw new IllegalArgumentException("bad .npy header: fortran_order is " + dict.get("fortran_order")
          + ", not True or False");
    }
    if (!(dict.get("shape") instanceof List<?> dims)) {
      throw new IllegalArgumentException("bad .npy header: shape is " + dict.get("shape") + ", not a tuple");
    }
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long n) || n < 0) {
        throw new IllegalArgumentException("bad .npy header: shape " + dims + " has a non-integer or negative entry");
      }
      shape[i] = n;
    }
    return new Header(d, fortran, shape);
  }

  private static String abbreviate(String s) {
    String t = s.strip();
    return "\"" + (t.length() > 120 ? t.substring(0, 120) + "..." : t) + "\"";
  }

  /** A parser for the small subset of Python literals that .npy headers use. */
  private static final class Literal {
    private final String s;
    private int at;

    Literal(String s) {
      this.s = s;
    }

    Object parseTop() {
      Object v = value();
      skipSpace();
      if (at != s.length()) {
        throw new IllegalArgumentException("unexpected '" + s.charAt(at) + "' at " + at);
      }
      return v;
    }

    private Object value() {
      skipSpace();
      if (at >= s.length()) {
        throw new IllegalArgumentException("ends early");
      }
      char c = s.charAt(at);
      if (c == '{') {
        at++;
        Map<String, Object> m = new LinkedHashMap<>();
        while (true) {
          skipSpace();
          if (peek('}')) {
            at++;
            return m;
          }
          Object key = value();
          if (!(key instanceof String k)) {
            throw new IllegalArgumentException("dict key " + key + " is not a string");
          }
          skipSpace();
          expect(':');
          m.put(k, value());
          skipSpace();
          if (peek(',')) {
            at++;
          } else if (!peek('}')) {
            throw new IllegalArgumentException("expected ',' or '}' at " + at);
          }
        }
      }
      if (c == '(' || c == '[') {
        char close = c == '(' ? ')' : ']';
        at++;
        List<Object> items = new ArrayList<>();
        while (true) {
          skipSpace();
          if (peek(close)) {
            at++;
            return c == '(' ? items : new StructuredMarker(items);
          }
          items.add(value());
          skipSpace();
          if (peek(',')) {
            at++;
          } else if (!peek(close)) {
            throw new IllegalArgumentException("expected ',' or '" + close + "' at " + at);
          }
        }
      }
      if (c == '\'' || c == '"') {
        int end = s.indexOf(c, at + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unterminated string at " + at);
        }
        String v = s.substring(at + 1, end);
        at = end + 1;
        return v;
      }
      if (s.startsWith("True", at)) {
        at += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("False", at)) {
        at += 5;
        return Boolean.FALSE;
      }
      int start = at;
      if (c == '-' || c == '+') {
        at++;
      }
      while (at < s.length() && Character.isDigit(s.charAt(at))) {
        at++;
      }
      if (at < s.length() && (s.charAt(at) == 'L' || s.charAt(at) == 'l')) {
        at++; // Python 2 long suffix, written by old NumPy
        return Long.parseLong(s.substring(start, at - 1));
      }
      if (at == start || (at == start + 1 && !Character.isDigit(c))) {
        throw new IllegalArgumentException("unexpected '" + c + "' at " + start);
      }
      return Long.parseLong(s.substring(start, at));
    }

    private boolean peek(char c) {
      return at < s.length() && s.charAt(at) == c;
    }

    private void expect(char c) {
      if (!peek(c)) {
        throw new IllegalArgumentException("expected '" + c + "' at " + at);
      }
      at++;
    }

    private void skipSpace() {
      while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
        at++;
      }
    }
  }

  /** A list literal: in a header, only a structured dtype's field list, which is not supported. */
  private record StructuredMarker(List<Object> items) {
    @Override
    public String toString() {
      return "[structured dtype with " + items.size() + " fields]";
    }
  }
}
