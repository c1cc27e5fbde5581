package dev.genzoo.checkpoints.formats;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
 * {@code N}, {@code N} bytes of UTF-8 JSON mapping each tensor name to {@code {"dtype", "shape", "data_offsets"}}
 * (offsets relative to the byte buffer that follows) plus an optional {@code "__metadata__"} map of strings, then the
 * buffer of little-endian, row-major tensor bytes.
 *
 * <p>Reading validates the header as the reference implementation does: at most {@value #MAX_HEADER} bytes, JSON
 * without duplicate keys, known dtypes, and offsets that tile the buffer exactly (contiguous from 0, no gaps or
 * overlaps, ending at the end of the file) with {@code end - begin = numel * itemsize}.
 */
public final class Safetensors {
  /** Largest header accepted, as in the reference readers (100 MB). */
  public static final long MAX_HEADER = 100_000_000L;
  /** The JSON key of the string-to-string metadata map. */
  public static final String METADATA_KEY = "__metadata__";
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Safetensors() {}

  /** One validated header entry. */
  private record Info(String name, DType dtype, long[] shape, long begin, long end) {}

  /** The parsed header. */
  private record Header(long dataStart, List<Info> tensors, Map<String, String> metadata) {}

  private static Header readHeader(FileChannel ch, Path file) throws IOException {
    String source = file.toString();
    long fileSize = ch.size();
    if (fileSize < 8) {
      throw new IOException(source + ": truncated: " + fileSize + " bytes, too short for the 8-byte safetensors "
          + "header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0, file);
    long n = lenBuf.getLong(0);
    if (n < 0 || n > MAX_HEADER) {
      throw new IOException(source + ": safetensors header length " + Long.toUnsignedString(n) + " is larger than the "
          + MAX_HEADER + "-byte limit (not a safetensors file, or a hostile one)");
    }
    if (n > fileSize - 8) {
      throw new IOException(source + ": safetensors header length " + n + " runs past the end of the file ("
          + fileSize + " bytes): truncated or not a safetensors file");
    }
    if (n < 2) {
      throw new IOException(source + ": safetensors header length " + n + " is too short for a JSON object");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
    readFully(ch, headerBuf, 8, file);
    headerBuf.flip();
    String text;
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(headerBuf);
      text = chars.toString();
    } catch (CharacterCodingException e) {
      throw new IOException(source + ": the safetensors header is not valid UTF-8", e);
    }
    if (!text.startsWith("{")) {
      throw new IOException(source + ": the safetensors header does not start with '{' (not a safetensors file)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IOException(source + ": the safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!(root instanceof ObjectNode obj)) {
      throw new IOException(source + ": the safetensors header is not a JSON object");
    }
    long dataStart = 8 + n;
    long bufferLength = fileSize - dataStart;
    List<Info> infos = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String name = f.getKey();
      JsonNode v = f.getValue();
      if (name.equals(METADATA_KEY)) {
        if (!v.isObject()) {
          throw new IOException(source + ": " + METADATA_KEY + " is not a JSON object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
          Map.Entry<String, JsonNode> kv = m.next();
          if (!kv.getValue().isTextual()) {
            throw new IOException(source + ": " + METADATA_KEY + " value for '" + kv.getKey() + "' is "
                + kv.getValue().getNodeType() + ", not a string");
          }
          metadata.put(kv.getKey(), kv.getValue().textValue());
        }
        continue;
      }
      infos.add(parseInfo(name, v, source, bufferLength));
    }
    infos.sort(Comparator.comparingLong(Info::begin).thenComparingLong(Info::end));
    long expectedBegin = 0;
    Info previous = null;
    for (Info i : infos) {
      if (i.begin() < expectedBegin) {
        throw new IOException("tensor " + i.name() + " in " + source + ": data_offsets [" + i.begin() + ", "
            + i.end() + "] overlap tensor " + previous.name() + " [" + previous.begin() + ", " + previous.end() + "]");
      }
      if (i.begin() > expectedBegin) {
        throw new IOException("tensor " + i.name() + " in " + source + ": data_offsets [" + i.begin() + ", "
            + i.end() + "] leave a gap after byte " + expectedBegin + " of the buffer (offsets must be contiguous)");
      }
      expectedBegin = i.end();
      previous = i;
    }
    if (expectedBegin != bufferLength) {
      throw new IOException(source + ": the tensors cover " + expectedBegin + " bytes of the " + bufferLength
          + "-byte data buffer (offsets must tile the buffer exactly)");
    }
    return new Header(dataStart, infos, metadata);
  }

  private static Info parseInfo(String name, JsonNode v, String source, long bufferLength) throws IOException {
    String where = "tensor " + name + " in " + source;
    if (!v.isObject()) {
      throw new IOException(where + ": header entry is not a JSON object");
    }
    JsonNode dt = v.get("dtype");
    JsonNode sh = v.get("shape");
    JsonNode off = v.get("data_offsets");
    if (dt == null || !dt.isTextual()) {
      throw new IOException(where + ": missing or non-string \"dtype\"");
    }
    DType dtype;
    try {
      dtype = DType.ofSafetensors(dt.textValue());
    } catch (IllegalArgumentException e) {
      throw new IOException(where + ": " + e.getMessage(), e);
    }
    if (sh == null || !sh.isArray()) {
      throw new IOException(where + ": missing or non-array \"shape\"");
    }
    long[] shape = new long[sh.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = sh.get(i);
      if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
        throw new IOException(where + ": bad shape " + sh + " (dimensions must be non-negative integers)");
      }
      shape[i] = d.asLong();
      try {
        numel = Math.multiplyExact(numel, shape[i]);
      } catch (ArithmeticException e) {
        throw new IOException(where + ": shape " + sh + " overflows", e);
      }
    }
    if (off == null || !off.isArray() || off.size() != 2) {
      throw new IOException(where + ": \"data_offsets\" must be an array [begin, end]");
    }
    long[] be = new long[2];
    for (int i = 0; i < 2; i++) {
      JsonNode d = off.get(i);
      if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
        throw new IOException(where + ": bad data_offsets " + off + " (must be non-negative integers)");
      }
      be[i] = d.asLong();
    }
    if (be[1] < be[0]) {
      throw new IOException(where + ": data_offsets " + off + " end before they begin");
    }
    if (be[1] > bufferLength) {
      throw new IOException(where + ": data_offsets " + off + " are out of bounds (the data buffer has "
          + bufferLength + " bytes)");
    }
    long need;
    try {
      need = Math.multiplyExact(numel, dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new IOException(where + ": shape " + sh + " overflows", e);
    }
    if (be[1] - be[0] != need) {
      throw new IOException(where + ": data_offsets " + off + " span " + (be[1] - be[0]) + " bytes but "
          + dtype + NamedTensor.shapeString(shape) + " needs " + need);
    }
    return new Info(name, dtype, shape, be[0], be[1]);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long at, Path file) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at);
      if (n < 0) {
        throw new IOException(file + ": unexpected end of file at byte " + at);
      }
      at += n;
    }
  }

  private static FileChannel open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "not a safetensors file");
    }
    return FileChannel.open(file, StandardOpenOption.READ);
  }

  /**
   * Reads every tensor of {@code file}, in buffer order, with the {@code __metadata__} map as the set's metadata.
   *
   * @throws IOException naming the file (and tensor) for a header that is too long, not JSON, or whose offsets
   *     are out of bounds, overlap, leave gaps or disagree with the shape and dtype
   */
  public static TensorSet read(Path file) throws IOException {
    try (FileChannel ch = open(file)) {
      Header h = readHeader(ch, file);
      TensorSet out = new TensorSet(file.toString());
      out.metadata().putAll(h.metadata());
      for (Info i : h.tensors()) {
        long size = i.end() - i.begin();
        if (size > Integer.MAX_VALUE - 8) {
          throw new IOException("tensor " + i.name() + " in " + file + " has " + size
              + " bytes, more than one Java array holds");
        }
        byte[] data = new byte[(int) size];
        readFully(ch, ByteBuffer.wrap(data), h.dataStart() + i.begin(), file);
        out.add(new NamedTensor(i.name(), i.dtype(), i.shape(), data));
      }
      return out;
    }
  }

  /** Names, dtypes, shapes and sizes from the header alone (validated as by {@link #read(Path)}). */
  public static List<Checkpoints.TensorInfo> list(Path file) throws IOException {
    try (FileChannel ch = open(file)) {
      List<Checkpoints.TensorInfo> out = new ArrayList<>();
      for (Info i : readHeader(ch, file).tensors()) {
        out.add(new Checkpoints.TensorInfo(i.name(), i.dtype().name(), i.shape(), i.end() - i.begin()));
      }
      return out;
    }
  }

  /** The metadata map of {@code file}'s header (empty when it has none). */
  public static Map<String, String> metadata(Path file) throws IOException {
    try (FileChannel ch = open(file)) {
      return readHeader(ch, file).metadata();
    }
  }

  /**
   * Writes {@code tensors} to {@code file} atomically, in the set's order, with its metadata as
   * {@code __metadata__}; the header is padded with spaces so that the buffer starts at a multiple of 8.
   *
   * @throws IllegalArgumentException for a tensor named {@code __metadata__}
   */
  public static void write(TensorSet tensors, Path file) throws IOException {
    AtomicFiles.write(file, out -> {
      out.write(headerBytes(tensors));
      for (NamedTensor t : tensors) {
        out.write(t.data());
      }
    });
  }

  /** The length prefix and padded JSON header for {@code tensors}. */
  static byte[] headerBytes(TensorSet tensors) {
    ObjectNode root = JSON.createObjectNode();
    if (!tensors.metadata().isEmpty()) {
      ObjectNode meta = root.putObject(METADATA_KEY);
      tensors.metadata().forEach(meta::put);
    }
    long offset = 0;
    for (NamedTensor t : tensors) {
      if (t.name().equals(METADATA_KEY)) {
        throw new IllegalArgumentException(tensors.source() + ": a tensor cannot be named " + METADATA_KEY
            + " in a safetensors file");
      }
      ObjectNode e = root.putObject(t.name());
      e.put("dtype", t.dtype().safetensorsName());
      ArrayNode shape = e.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      ArrayNode offs = e.putArray("data_offsets");
      offs.add(offset);
      offset += t.data().length;
      offs.add(offset);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded);
    b.put(json);
    while (b.hasRemaining()) {
      b.put((byte) ' ');
    }
    return b.array();
  }
}
