package dev.genzoo.checkpoints.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pickle machine against pickles written by Python's own pickle module (make_torch_fixtures.py, every protocol),
 * against hand-assembled malicious pickles, and against malformed input built here.
 */
class UnpicklerTest {
  private byte[] resource(String name) throws IOException {
    try (InputStream in = getClass().getResourceAsStream(name)) {
      return in.readAllBytes();
    }
  }

  private Object load(String resource) throws IOException {
    return new Unpickler(resource, resource(resource)).load();
  }

  private static Object loadBytes(byte[] pickle) throws IOException {
    return new Unpickler("test.pkl", pickle).load();
  }

  private static byte[] bytes(Object... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        b.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
      } else if (p instanceof Integer i) {
        b.write(i);
      } else {
        b.writeBytes((byte[]) p);
      }
    }
    return b.toByteArray();
  }

  // ---- Python's own pickles -------------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5})
  void plainDataInEveryProtocol(int protocol) throws IOException {
    Map<?, ?> m = assertInstanceOf(Map.class, load("pickle_data_p" + protocol + ".pkl"));
    // the DATA literal of make_torch_fixtures.py
    BigInteger twoTo70 = BigInteger.ONE.shiftLeft(70);
    assertEquals(List.of(0L, 1L, -1L, 255L, 256L, 65535L, 65536L, -(1L << 31), (1L << 31) - 1, Long.MAX_VALUE,
        Long.MIN_VALUE, twoTo70, twoTo70.negate()), m.get("ints"));
    assertEquals(List.of(0.5, -1.25e-300, 1e300, Double.POSITIVE_INFINITY), m.get("floats"));
    assertEquals(List.of("", "plain", "caf\u00e9 \u2713 \uD83D\uDE00", "line\nbreak \\ back"), m.get("text"));
    assertArrayEquals(new byte[] {0, 1, (byte) 0xfe, (byte) 0xff}, (byte[]) m.get("bytes"));
    assertEquals(Arrays.asList(1L, "two", Arrays.asList(3.0, null)), m.get("tuple"));
    assertEquals(List.of(List.of(), List.of(), Map.of()), m.get("empty"));
    assertEquals(Arrays.asList(true, false, null), m.get("bools"));
    assertEquals(Set.of(7L), m.get("set"));
    assertEquals(Set.of("a"), m.get("frozen"));
    assertThrows(UnsupportedOperationException.class, () -> ((Set<?>) m.get("frozen")).clear());
    assertEquals(Map.of("k", List.of(Map.of("deep", List.of(1L, List.of(2L, List.of(3L)))))), m.get("nested"));
    assertEquals("int key", m.get(1L));
    assertEquals("tuple key", m.get(List.of(1L, 2L)));
    List<?> shared = assertInstanceOf(List.class, m.get("shared"));
    assertEquals(List.of(List.of(4L, 5L), List.of(4L, 5L)), shared);
    assertSame(shared.get(0), shared.get(1), "the memo keeps one object one object");
    assertEquals(13, m.size());
  }

  @Test
  void orderedDictKeepsItsEntriesThroughTheTrailingBuild() throws IOException {
    Map<?, ?> m = assertInstanceOf(LinkedHashMap.class, load("pickle_ordereddict_p2.pkl"));
    assertEquals(List.of("b", "a"), List.copyOf(m.keySet()));
    assertEquals(2L, m.get("b"));
    assertEquals(1L, m.get("a"));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void argparseNamespace(int protocol) throws IOException {
    TorchCheckpoint.Namespace ns = assertInstanceOf(TorchCheckpoint.Namespace.class,
        load("pickle_namespace_p" + protocol + ".pkl"));
    assertEquals(Map.of("lr", 0.01, "name", "nvae", "layers", List.of(1L, 2L), "flag", true), ns.values());
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void numpyScalarsAndArrays(int protocol) throws IOException {
    Map<?, ?> m = assertInstanceOf(Map.class, load("pickle_numpy_p" + protocol + ".pkl"));
    assertEquals(1.5, m.get("f64"));
    assertEquals(-0.25, m.get("f32"));
    assertEquals(-7L, m.get("i64"));
    assertEquals(200L, m.get("u8"));
    assertEquals(Boolean.TRUE, m.get("b"));
    NamedTensor arr = ((Unpickler.NumpyArray) m.get("arr")).value;
    assertEquals(DType.I32, arr.dtype());
    assertArrayEquals(new long[] {2, 3}, arr.shape());
    assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, arr.toDoubles());
    NamedTensor fortran = ((Unpickler.NumpyArray) m.get("fortran")).value;
    assertEquals(DType.F64, fortran.dtype());
    assertArrayEquals(new long[] {2, 3}, fortran.shape());
    assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1, 1.25}, fortran.toDoubles(), "back in row-major order");
    NamedTensor big = ((Unpickler.NumpyArray) m.get("big_endian")).value;
    assertArrayEquals(new float[] {1, 2}, big.toFloats(), "'>f4' swapped to little-endian");
  }

  // ---- malicious pickles, assembled opcode by opcode by the script -------------------------------------------------

  @ParameterizedTest
  @CsvSource({
      "pickle_os_system.pkl, os.system, /tmp/genzoo-pickle-marker-os-system",
      "pickle_builtins_eval.pkl, builtins.eval, /tmp/genzoo-pickle-marker-eval",
      "pickle_popen_stack_global.pkl, subprocess.Popen, /tmp/genzoo-pickle-marker-popen"})
  void maliciousPicklesAreRefusedWithoutSideEffects(String file, String global, String marker) throws IOException {
    Files.deleteIfExists(Path.of(marker));
    UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> load(file));
    assertEquals(global, e.global());
    assertTrue(e.getMessage().startsWith(file + " (byte "), e.getMessage());
    assertTrue(e.getMessage().contains(" references " + global + ", which genzoo never loads (pickles can run code);"
        + " allowed: "), e.getMessage());
    assertTrue(e.getMessage().contains("collections.OrderedDict"), e.getMessage());
    assertFalse(Files.exists(Path.of(marker)), "the payload ran");
  }

  @Test
  void refusalHintsAtWholeModelPickles() {
    byte[] p = bytes(0x80, 2, "c__main__\nNet\n)\u0081.");
    UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> loadBytes(p));
    assertEquals("__main__.Net", e.global());
    assertTrue(e.getMessage().contains("state_dict()"), e.getMessage());
    UnsafePickleException load = assertThrows(UnsafePickleException.class,
        () -> loadBytes(bytes(0x80, 2, "ctorch\nload\n.")));
    assertEquals("torch.load", load.global(), "torch's own loader is not on the list");
    UnsafePickleException inst = assertThrows(UnsafePickleException.class,
        () -> loadBytes(bytes("(S'id'\nios\nsystem\n.")));
    assertEquals("os.system", inst.global(), "protocol 0's INST goes through the same list");
  }

  @Test
  void allowedGlobalsStillCannotBeMisused() {
    // OrderedDict is allowed, but not as something to call with a string; Namespace cannot take positional args
    IOException e = assertThrows(IOException.class,
        () -> loadBytes(bytes(0x80, 2, "ccollections\nOrderedDict\nX", new byte[] {3, 0, 0, 0}, "abc\u0085R.")));
    assertTrue(e.getMessage().contains("collections.OrderedDict of a str"), e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes(0x80, 2, "cargparse\nNamespace\nK", 1, "\u0085R.")));
    assertTrue(e.getMessage().contains("argparse.Namespace called with 1 arguments"), e.getMessage());
    // a storage type is a value, not a constructor
    e = assertThrows(IOException.class, () -> loadBytes(bytes(0x80, 2, "ctorch\nFloatStorage\n)R.")));
    assertTrue(e.getMessage().contains("torch.FloatStorage cannot be called"), e.getMessage());
    // _codecs.encode only turns text into bytes
    e = assertThrows(IOException.class, () -> loadBytes(bytes(0x80, 2, "c_codecs\nencode\nX", new byte[] {1, 0, 0, 0},
        "aX", new byte[] {6, 0, 0, 0}, "rot_13\u0086R.")));
    assertTrue(e.getMessage().contains("encoding rot_13"), e.getMessage());
  }

  // ---- malformed input ---------------------------------------------------------------------------------------------

  @Test
  void everyTruncationIsAnIOException() throws IOException {
    for (String name : List.of("pickle_data_p0.pkl", "pickle_data_p2.pkl", "pickle_data_p4.pkl")) {
      byte[] whole = resource(name);
      for (int n = 0; n < whole.length; n++) {
        byte[] cut = Arrays.copyOf(whole, n);
        IOException e = assertThrows(IOException.class, () -> loadBytes(cut), name + " cut at " + n);
        assertTrue(e.getMessage().startsWith("test.pkl: byte "), e.getMessage());
      }
    }
    IOException e = assertThrows(IOException.class, () -> loadBytes(Arrays.copyOf(resource("pickle_data_p2.pkl"), 40)));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void badOpcode() {
    IOException e = assertThrows(IOException.class, () -> loadBytes(bytes(0x80, 2, 0xff, ".")));
    assertEquals("test.pkl: byte 2 (opcode 0xff): unknown opcode 0xff", e.getMessage());
  }

  @Test
  void memoGetOfAMissingKey() {
    IOException e = assertThrows(IOException.class, () -> loadBytes(bytes(0x80, 2, "K", 1, "q", 0, "h", 5, ".")));
    assertEquals("test.pkl: byte 6 (BINGET): memo key 5 was never stored", e.getMessage());
  }

  @Test
  void hugeDeclaredLengthsAllocateNothing() {
    List<byte[]> pickles = List.of(
        bytes(0x80, 4, 0x8d, new byte[] {0, 0, 0, 0, 0, 0, 0, 0x40}, "."), // BINUNICODE8 of 2^62 bytes
        bytes(0x80, 4, 0x8e, new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, "."), // BINBYTES8 of 2^64 - 1
        bytes(0x80, 3, "B", new byte[] {-1, -1, -1, -1}, "."), // BINBYTES of 4 GiB
        bytes(0x80, 2, "X", new byte[] {-1, -1, -1, 0x7f}, "."), // BINUNICODE of 2 GiB
        bytes(0x80, 2, "T", new byte[] {0, 0, 0, -128}, "."), // BINSTRING of a negative length
        bytes(0x80, 2, 0x8b, new byte[] {-1, -1, -1, 0x7f}, "."), // LONG4 of 2 GiB
        bytes(0x80, 4, 0x95, new byte[] {0, 0, 0, 0, 0, 0, 0, 0x10}, "N.")); // FRAME of 2^60
    for (byte[] p : pickles) {
      IOException e = assertThrows(IOException.class, () -> loadBytes(p));
      assertTrue(e.getMessage().contains("declares") && e.getMessage().contains("remain"), e.getMessage());
    }
  }

  @Test
  void stackAndNestingLimits() {
    byte[] manyNones = new byte[Unpickler.MAX_STACK + 4];
    Arrays.fill(manyNones, (byte) 'N');
    IOException e = assertThrows(IOException.class, () -> loadBytes(manyNones));
    assertTrue(e.getMessage().contains("the stack grows beyond " + Unpickler.MAX_STACK), e.getMessage());

    byte[] marks = new byte[Unpickler.MAX_MARKS + 4];
    Arrays.fill(marks, (byte) '(');
    e = assertThrows(IOException.class, () -> loadBytes(marks));
    assertTrue(e.getMessage().contains("MARKs nest deeper than"), e.getMessage());

    ByteArrayOutputStream tuples = new ByteArrayOutputStream();
    tuples.write('N');
    for (int i = 0; i < Unpickler.MAX_TUPLE_DEPTH + 1; i++) {
      tuples.write(0x85);
    }
    e = assertThrows(IOException.class, () -> loadBytes(tuples.toByteArray()));
    assertTrue(e.getMessage().contains("tuples nest deeper than"), e.getMessage());
  }

  @Test
  void structuralErrors() {
    IOException e = assertThrows(IOException.class, () -> loadBytes(bytes(".")));
    assertEquals("test.pkl: byte 0 (STOP): stack underflow", e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes("}]Ns.")));
    assertTrue(e.getMessage().contains("unhashable a list used as a dict key"), e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes("NNNs.")));
    assertTrue(e.getMessage().contains("SETITEM on None, not a dict"), e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes(0x80, 6, "N.")));
    assertTrue(e.getMessage().contains("pickle protocol 6 is newer than 5"), e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes("(K", 1, "K", 2, "K", 3, "d.")));
    assertTrue(e.getMessage().contains("DICT with an odd number of items"), e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes("N", 0x82, 1, ".")));
    assertTrue(e.getMessage().contains("EXT opcodes"), e.getMessage());
    e = assertThrows(IOException.class, () -> loadBytes(bytes("(X", new byte[] {3, 0, 0, 0}, "abcK", 1, "tQ.")));
    assertTrue(e.getMessage().contains("unsupported persistent id"), e.getMessage());
  }

  @Test
  void successivePicklesShareTheStream() throws IOException {
    Unpickler u = new Unpickler("two.pkl", bytes(0x80, 2, "K", 7, ".", 0x80, 2, "]q", 0, "h", 0, "a."));
    assertEquals(7L, u.load());
    assertEquals(5, u.position());
    List<?> self = assertInstanceOf(List.class, u.load());
    assertSame(self, self.get(0), "a list that contains itself loads (TorchCheckpoint refuses it)");
    assertEquals(14, u.position());
  }
}
