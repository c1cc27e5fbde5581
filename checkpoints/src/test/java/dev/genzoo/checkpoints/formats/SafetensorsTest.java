package dev.genzoo.checkpoints.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * safetensors against a file built by hand from the specification (safetensors_make_fixture.py: numpy, json and
 * struct, no genzoo code) with its expected values in an .npz, a write/read round trip, and hostile headers.
 */
class SafetensorsTest {
  @TempDir
  Path dir;

  static Path resource(String name) {
    try {
      return Path.of(SafetensorsTest.class.getResource(name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test resource " + name, e);
    }
  }

  @Test
  void readsTheHandMadeFixture() throws IOException {
    TensorSet set = Safetensors.read(resource("safetensors_fixture.safetensors"));
    Map<String, NpyArray> expected = Npz.readAll(resource("safetensors_expected.npz"));
    // buffer order, whatever the order of the JSON header
    assertEquals(List.of("model/conv/weight", "half", "bf", "step", "pixels", "mask", "empty"), set.names());
    Map<String, DType> types = Map.of("model/conv/weight", DType.F32, "half", DType.F16, "bf", DType.BF16,
        "step", DType.I64, "pixels", DType.U8, "mask", DType.BOOL, "empty", DType.F32);
    for (String name : set.names()) {
      NamedTensor t = set.get(name);
      assertEquals(types.get(name), t.dtype(), name);
      NpyArray e = expected.get(name.equals("bf") ? "bf__bits" : name);
      assertArrayEquals(e.shape(), t.shape(), name);
      assertArrayEquals(e.data(), t.data(), name);
    }
    assertArrayEquals(expected.get("bf__f32").asFloats(), set.get("bf").toFloats());
    assertArrayEquals(new float[] {1, -3, 3.140625f, 0.00099945068359375f}, set.get("bf").toFloats());
    assertEquals(123456789012L, (long) set.get("step").toDoubles()[0]);
    assertArrayEquals(new long[] {2, 3, 1, 2}, set.get("model/conv/weight").shape());
    assertEquals(-1.0f, set.get("model/conv/weight").toFloats()[0]);
    assertEquals(1.75f, set.get("model/conv/weight").toFloats()[11]);
    assertEquals(Map.of("format", "pt", "note", "hand-made from the spec"), set.metadata());
  }

  @Test
  void listsTheHeader() throws IOException {
    List<Checkpoints.TensorInfo> infos = Safetensors.list(resource("safetensors_fixture.safetensors"));
    assertEquals(7, infos.size());
    assertEquals("model/conv/weight", infos.get(0).name());
    assertEquals("F32", infos.get(0).dtype());
    assertEquals(48, infos.get(0).bytes());
    assertEquals("BF16", infos.get(2).dtype());
    assertArrayEquals(new long[] {2, 2}, infos.get(2).shape());
    assertArrayEquals(new long[] {}, infos.get(3).shape());
    assertEquals(0, infos.get(6).bytes());
  }

  static TensorSet sample() {
    TensorSet s = new TensorSet("sample");
    s.add(NamedTensor.ofFloats("enc/conv1/kernel", new long[] {1, 1, 2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
    s.add(NamedTensor.ofDoubles("scale", new long[] {}, new double[] {Math.E}));
    s.add(NamedTensor.ofLongs("step", new long[] {1}, new long[] {-42}));
    s.add(NamedTensor.ofInts("ids", new long[] {3}, new int[] {1, 2, Integer.MIN_VALUE}));
    s.add(new NamedTensor("bf", DType.BF16, new long[] {2}, new byte[] {(byte) 0x80, 0x3f, 0x40, (byte) 0xc0}));
    s.add(new NamedTensor("h", DType.F16, new long[] {1}, new byte[] {0x00, 0x3c}));
    s.add(new NamedTensor("u8", DType.U8, new long[] {3}, new byte[] {0, (byte) 200, 7}));
    s.add(new NamedTensor("flags", DType.BOOL, new long[] {2}, new byte[] {1, 0}));
    s.add(new NamedTensor("i16", DType.I16, new long[] {1}, new byte[] {(byte) 0xff, (byte) 0xff}));
    s.add(NamedTensor.ofFloats("nothing", new long[] {0}, new float[0]));
    s.metadata().put("format", "pt");
    s.metadata().put("producer", "genzoo test");
    return s;
  }

  @Test
  void roundTripsAndFollowsTheLayout() throws IOException {
    TensorSet s = sample();
    Path f = dir.resolve("out/model.safetensors");
    Safetensors.write(s, f);
    TensorSet back = Safetensors.read(f);
    assertEquals(s.names(), back.names());
    for (NamedTensor t : s) {
      assertEquals(t.dtype(), back.get(t.name()).dtype());
      assertArrayEquals(t.shape(), back.get(t.name()).shape());
      assertArrayEquals(t.data(), back.get(t.name()).data());
    }
    assertEquals(s.metadata(), back.metadata());

    // the layout, checked from the spec: u64 length, JSON padded so the buffer is 8-aligned, tensors tiling it
    byte[] bytes = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, (8 + n) % 8);
    assertEquals('{', bytes[8]);
    JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
    assertEquals("genzoo test", header.get("__metadata__").get("producer").asText());
    long total = 0;
    for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (name.equals("__metadata__")) {
        continue;
      }
      JsonNode e = header.get(name);
      NamedTensor t = s.get(name);
      assertEquals(t.dtype().name(), e.get("dtype").asText());
      long begin = e.get("data_offsets").get(0).asLong();
      long end = e.get("data_offsets").get(1).asLong();
      assertEquals(t.data().length, end - begin, name);
      byte[] slice = java.util.Arrays.copyOfRange(bytes, (int) (8 + n + begin), (int) (8 + n + end));
      assertArrayEquals(t.data(), slice, name);
      total += end - begin;
    }
    assertEquals(bytes.length, 8 + n + total);
    try (Stream<Path> files = Files.list(f.getParent())) {
      assertEquals(List.of("model.safetensors"), files.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void refusesATensorNamedLikeTheMetadata() {
    TensorSet s = new TensorSet("t").add(NamedTensor.ofFloats("__metadata__", new long[] {}, new float[] {1}));
    assertThrows(IllegalArgumentException.class, () -> Safetensors.write(s, dir.resolve("x.safetensors")));
  }

  /** A file of the 8-byte length {@code declared}, the header text and a buffer of {@code bufferBytes} zeros. */
  private Path file(String name, long declared, String header, int bufferBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declared).put(h);
    return Files.write(dir.resolve(name), b.array());
  }

  private Path file(String name, String header, int bufferBytes) throws IOException {
    return file(name, header.getBytes(StandardCharsets.UTF_8).length, header, bufferBytes);
  }

  private static void assertError(Path f, String... parts) {
    IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
    }
  }

  @Test
  void hostileHeadersAreClearErrors() throws IOException {
    String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    assertEquals(1, Safetensors.read(file("ok", ok, 8)).size());

    assertError(file("beyond", 1000, ok, 8), "runs past the end");
    assertError(file("huge", 200_000_000L, ok, 8), "limit");
    assertError(file("negative", -5, ok, 8), "limit");
    assertError(file("notjson", "{not json}", 0), "not valid JSON");
    assertError(file("array", "[1,2,3,4]", 0), "does not start with '{'");
    Files.write(dir.resolve("short"), new byte[] {1, 2, 3});
    assertError(dir.resolve("short"), "truncated");
    assertError(file("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "tensor b", "overlap");
    assertError(file("outside", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
        "tensor a", "out of bounds");
    assertError(file("count", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
        "tensor a", "needs 12");
    assertError(file("gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "tensor b", "gap");
    assertError(file("trailing", ok, 12), "tile");
    assertError(file("dtype", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
        "tensor a", "F8_E4M3");
    assertError(file("dims", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0),
        "tensor a", "shape");
    assertError(file("dup", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
        + "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2), "Duplicate");
    assertError(file("meta", "{\"__metadata__\":{\"k\":3}}", 0), "__metadata__");
    assertError(file("offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1]}}", 1), "tensor a",
        "data_offsets");
  }

  @Test
  void replacesAnExistingFileAtomically() throws IOException {
    Path f = dir.resolve("m.safetensors");
    Safetensors.write(sample(), f);
    TensorSet small = new TensorSet("s").add(NamedTensor.ofFloats("z", new long[] {1}, new float[] {3}));
    Safetensors.write(small, f);
    assertEquals(List.of("z"), Safetensors.read(f).names());
    assertEquals(Map.of(), Safetensors.read(f).metadata());
    assertEquals(new LinkedHashMap<>(), Safetensors.metadata(f));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count());
    }
  }
}
