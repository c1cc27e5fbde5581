package dev.genzoo.checkpoints.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.EagerSession;
import org.tensorflow.Operand;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.Restore;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/**
 * The pure-Java tensor bundle reader against files written by TensorFlow's own SaveV2, and the writer against
 * TensorFlow's own RestoreV2 (both through TF Java, eagerly). Expected values are the bytes handed to TensorFlow.
 */
class TensorBundleTest {
  @TempDir
  static Path shared;
  static Path tfPrefix;

  /** One tensor given to TensorFlow: its raw little-endian bytes are the expected values. */
  record Spec(String name, Class<? extends TType> type, DType dtype, long[] shape, byte[] bytes) {
    NamedTensor tensor() {
      return new NamedTensor(name, dtype, shape, bytes);
    }
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  static byte[] doubles(double... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double x : v) {
      b.putDouble(x);
    }
    return b.array();
  }

  static byte[] ints(int... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putInt(x);
    }
    return b.array();
  }

  static byte[] longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return b.array();
  }

  static byte[] shorts(int... v) {
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putShort((short) x);
    }
    return b.array();
  }

  /** Every dtype genzoo reads, a scalar, an empty tensor, rank 4, names with '/'. */
  static List<Spec> specs() {
    List<Spec> s = new ArrayList<>();
    s.add(new Spec("model/dense/kernel", TFloat32.class, DType.F32, new long[] {2, 3},
        floats(0.5f, -1.25f, 3f, 1e-3f, -7.5f, 42f)));
    s.add(new Spec("model/dense/bias", TFloat64.class, DType.F64, new long[] {3}, doubles(Math.PI, -0.1, 1e300)));
    s.add(new Spec("global_step", TInt64.class, DType.I64, new long[] {}, longs(9_000_000_000L)));
    s.add(new Spec("conv/counts", TInt32.class, DType.I32, new long[] {2, 1, 2, 2},
        ints(-3, 0, 7, 1 << 30, -(1 << 30), 5, 6, Integer.MIN_VALUE)));
    s.add(new Spec("images/u8", TUint8.class, DType.U8, new long[] {5},
        new byte[] {0, 1, 127, (byte) 128, (byte) 255}));
    s.add(new Spec("mask", TBool.class, DType.BOOL, new long[] {2, 2}, new byte[] {1, 0, 0, 1}));
    // binary16 bits of 1, -2, 65504 (largest) and 2^-24 (smallest subnormal)
    s.add(new Spec("half", TFloat16.class, DType.F16, new long[] {4}, shorts(0x3C00, 0xC000, 0x7BFF, 0x0001)));
    // bfloat16 bits of 1, -3 and 3.140625
    s.add(new Spec("bf", TBfloat16.class, DType.BF16, new long[] {3}, shorts(0x3F80, 0xC040, 0x4049)));
    s.add(new Spec("empty", TFloat32.class, DType.F32, new long[] {0, 3}, new byte[0]));
    return s;
  }

  /** {@code n} scalar float tensors whose long names differ near the front, defeating prefix compression. */
  static List<Spec> fillers(int n, int nameLength) {
    List<Spec> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name = String.format("f%04d/", i) + "x".repeat(nameLength);
      s.add(new Spec(name, TFloat32.class, DType.F32, new long[] {}, floats(i * 0.5f)));
    }
    return s;
  }

  /** Saves the specs (and optional string tensors) with TensorFlow's SaveV2. */
  static void tfSave(Path prefix, List<Spec> specs, Map<String, String[]> strings) {
    tfSave(prefix, specs, strings, null);
  }

  static void tfSave(Path prefix, List<Spec> specs, Map<String, String[]> strings, String[] sliceSpecs) {
    List<Tensor> owned = new ArrayList<>();
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      List<String> names = new ArrayList<>();
      List<Operand<?>> values = new ArrayList<>();
      for (Spec s : specs) {
        TType t = Tensor.of(s.type(), Shape.of(s.shape()), DataBuffers.of(s.bytes(), true, false));
        owned.add(t);
        names.add(s.name());
        values.add(tf.constantOf(t));
      }
      for (Map.Entry<String, String[]> e : strings.entrySet()) {
        TString t = TString.vectorOf(e.getValue());
        owned.add(t);
        names.add(e.getKey());
        values.add(tf.constantOf(t));
      }
      String[] slices = sliceSpecs != null ? sliceSpecs : new String[names.size()];
      if (sliceSpecs == null) {
        java.util.Arrays.fill(slices, "");
      }
      tf.train.save(tf.constant(prefix.toString()), tf.constant(StdArrays.ndCopyOf(names.toArray(new String[0]))),
          tf.constant(StdArrays.ndCopyOf(slices)), values);
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Restores {@code specs} from {@code prefix} with TensorFlow's RestoreV2; name to (shape, bytes). */
  static Map<String, Object[]> tfRestore(Path prefix, List<Spec> specs) {
    Map<String, Object[]> out = new TreeMap<>();
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      String[] names = specs.stream().map(Spec::name).toArray(String[]::new);
      String[] slices = new String[names.length];
      java.util.Arrays.fill(slices, "");
      List<Class<? extends TType>> types = new ArrayList<>();
      specs.forEach(s -> types.add(s.type()));
      Restore r = tf.train.restore(tf.constant(prefix.toString()), tf.constant(StdArrays.ndCopyOf(names)),
          tf.constant(StdArrays.ndCopyOf(slices)), types);
      for (int i = 0; i < names.length; i++) {
        Tensor t = r.tensors().get(i).asTensor();
        byte[] bytes = new byte[(int) t.numBytes()];
        t.asRawTensor().data().read(bytes);
        out.put(names[i], new Object[] {t.shape().asArray(), bytes});
      }
    }
    return out;
  }

  @BeforeAll
  static void saveWithTensorFlow() {
    tfPrefix = shared.resolve("tf/model.ckpt-100");
    List<Spec> all = new ArrayList<>(specs());
    all.addAll(fillers(400, 800));
    tfSave(tfPrefix, all, Map.of("notes", new String[] {"a", "bc"}));
  }

  @Test
  void readsWhatTensorFlowSaved() throws IOException {
    Path index = shared.resolve("tf/model.ckpt-100.index");
    // 400 keys of ~800 bytes that share only 4 leading bytes cannot fit one 256 KiB TensorFlow table block
    assertTrue(Files.size(index) > 300_000, "index spans several data blocks: " + Files.size(index));
    TensorSet set = TensorBundle.read(tfPrefix);
    List<Spec> all = new ArrayList<>(specs());
    all.addAll(fillers(400, 800));
    assertEquals(all.size(), set.size());
    for (Spec s : all) {
      NamedTensor t = set.get(s.name());
      assertEquals(s.dtype(), t.dtype(), s.name());
      assertArrayEquals(s.shape(), t.shape(), s.name());
      assertArrayEquals(s.bytes(), t.data(), s.name());
    }
    assertEquals("notes", set.metadata().get(TensorBundle.SKIPPED));
    List<String> sorted = new ArrayList<>(set.names());
    sorted.sort(null);
    assertEquals(sorted, set.names(), "tensors come in key order");
    assertArrayEquals(new double[] {1, -2, 65504, 0x1p-24}, set.get("half").toDoubles());
    assertArrayEquals(new double[] {1, -3, 3.140625}, set.get("bf").toDoubles());
    assertEquals(199.5f, set.get(fillers(400, 800).get(399).name()).toFloats()[0]);
  }

  @Test
  void acceptsTheIndexOrADataShardAsPrefix() throws IOException {
    TensorSet a = TensorBundle.read(shared.resolve("tf/model.ckpt-100.index"));
    TensorSet b = TensorBundle.read(shared.resolve("tf/model.ckpt-100.data-00000-of-00001"));
    assertEquals(a.names(), b.names());
    assertArrayEquals(floats(0.5f, -1.25f, 3f, 1e-3f, -7.5f, 42f), b.get("model/dense/kernel").data());
  }

  @Test
  void listsFromTheIndexAlone(@TempDir Path dir) throws IOException {
    Path prefix = dir.resolve("m");
    tfSave(prefix, specs(), Map.of("_CHECKPOINTABLE_OBJECT_GRAPH", new String[] {"graph"}));
    Files.delete(dir.resolve("m.data-00000-of-00001"));
    Map<String, Checkpoints.TensorInfo> byName = new TreeMap<>();
    for (Checkpoints.TensorInfo i : TensorBundle.list(prefix)) {
      byName.put(i.name(), i);
    }
    assertEquals(specs().size() + 1, byName.size());
    for (Spec s : specs()) {
      Checkpoints.TensorInfo i = byName.get(s.name());
      assertEquals(s.dtype().name(), i.dtype(), s.name());
      assertArrayEquals(s.shape(), i.shape(), s.name());
      assertEquals(s.bytes().length, i.bytes(), s.name());
    }
    assertEquals("DT_STRING", byName.get("_CHECKPOINTABLE_OBJECT_GRAPH").dtype());
    assertEquals(null, byName.get("_CHECKPOINTABLE_OBJECT_GRAPH").type());
    IOException e = assertThrows(NoSuchFileException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains("m.data-00000-of-00001"), e.getMessage());
  }

  @Test
  void refusesPartitionedVariables(@TempDir Path dir) {
    Path prefix = dir.resolve("p");
    Spec part = new Spec("part", TFloat32.class, DType.F32, new long[] {2, 2}, floats(1, 2, 3, 4));
    tfSave(prefix, List.of(part), Map.of(), new String[] {"4 2 0,2:-"});
    IOException e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains("tensor part ") && e.getMessage().contains("partitioned"), e.getMessage());
  }

  /** A one-tensor bundle written by TensorFlow: the data file is exactly that tensor's 64 bytes. */
  private static Path oneTensor(Path dir) {
    Path prefix = dir.resolve("one");
    float[] v = new float[16];
    for (int i = 0; i < v.length; i++) {
      v[i] = i - 3.5f;
    }
    tfSave(prefix, List.of(new Spec("w", TFloat32.class, DType.F32, new long[] {4, 4}, floats(v))), Map.of());
    return prefix;
  }

  private static void flip(Path file, long at) throws IOException {
    byte[] b = Files.readAllBytes(file);
    b[(int) at] ^= 0x40;
    Files.write(file, b);
  }

  @Test
  void flippedDataByteIsACrcErrorNamingTheTensor(@TempDir Path dir) throws IOException {
    Path prefix = oneTensor(dir);
    Path data = dir.resolve("one.data-00000-of-00001");
    assertEquals(64, Files.size(data));
    assertEquals(16, TensorBundle.read(prefix).get("w").numElements());
    flip(data, 10);
    IOException e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains("tensor w in " + data) && e.getMessage().contains("crc32c mismatch"),
        e.getMessage());
  }

  @Test
  void flippedIndexBytesAreChecksumErrorsNamingTheIndex(@TempDir Path dir) throws IOException {
    Path prefix = oneTensor(dir);
    Path index = dir.resolve("one.index");
    long n = Files.size(index);
    Files.copy(index, dir.resolve("good.index"));
    // byte 3: inside the first data block (the header entry); n - 48 - 6: the last byte of the index block,
    // which ends right before its 5-byte trailer and the 48-byte footer
    for (long at : new long[] {3, n - 48 - 6}) {
      Files.copy(dir.resolve("good.index"), index, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      flip(index, at);
      IOException e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
      assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("checksum mismatch"),
          "byte " + at + ": " + e.getMessage());
    }
  }

  @Test
  void truncationAndBadMagicAreErrors(@TempDir Path dir) throws IOException {
    Path prefix = oneTensor(dir);
    Path index = dir.resolve("one.index");
    Path data = dir.resolve("one.data-00000-of-00001");
    byte[] good = Files.readAllBytes(index);

    Files.write(data, java.util.Arrays.copyOf(Files.readAllBytes(data), 20));
    IOException e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains("tensor w in " + data) && e.getMessage().contains("truncated"),
        e.getMessage());

    Files.write(index, java.util.Arrays.copyOf(good, good.length - 10));
    e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains(index.toString()), e.getMessage());

    Files.write(index, java.util.Arrays.copyOf(good, 30));
    e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("truncated"), e.getMessage());

    byte[] bad = good.clone();
    bad[bad.length - 1] ^= 1;
    Files.write(index, bad);
    e = assertThrows(IOException.class, () -> TensorBundle.read(prefix));
    assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("magic"), e.getMessage());

    e = assertThrows(NoSuchFileException.class, () -> TensorBundle.read(dir.resolve("nothing")));
    assertTrue(e.getMessage().contains("nothing.index"), e.getMessage());
  }

  /** What the writer test saves: every dtype, and 400 keys with longer names so the index has many 4 KiB blocks. */
  private static List<Spec> writeSpecs() {
    List<Spec> all = new ArrayList<>(specs());
    for (int i = 0; i < 400; i++) {
      all.add(new Spec(String.format("layer_%03d/", i) + "w".repeat(60) + "/kernel", TInt32.class, DType.I32,
          new long[] {2}, ints(i, -i)));
    }
    return all;
  }

  @Test
  void tensorFlowRestoresWhatTheWriterWrote(@TempDir Path dir) throws IOException {
    List<Spec> all = writeSpecs();
    TensorSet set = new TensorSet("test");
    for (Spec s : all) {
      set.add(s.tensor());
    }
    Path prefix = dir.resolve("out/genzoo.ckpt");
    TensorBundle.write(set, prefix);
    assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve("out/genzoo.ckpt.index"))));
    assertTrue(Files.size(dir.resolve("out/genzoo.ckpt.index")) > 8 * 4096, "several blocks");
    Map<String, Object[]> restored = tfRestore(prefix, all);
    for (Spec s : all) {
      Object[] r = restored.get(s.name());
      assertArrayEquals(s.shape(), (long[]) r[0], s.name());
      assertArrayEquals(s.bytes(), (byte[]) r[1], s.name());
    }
    TensorSet back = TensorBundle.read(prefix);
    assertEquals(all.size(), back.size());
    for (Spec s : all) {
      assertEquals(s.dtype(), back.get(s.name()).dtype());
      assertArrayEquals(s.bytes(), back.get(s.name()).data(), s.name());
    }
    try (Stream<Path> files = Files.list(prefix.getParent())) {
      assertEquals(List.of("genzoo.ckpt.data-00000-of-00001", "genzoo.ckpt.index"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void rewritingAPrefixReplacesTheBundle(@TempDir Path dir) throws IOException {
    Path prefix = dir.resolve("ckpt");
    TensorBundle.write(new TensorSet("a").add(NamedTensor.ofFloats("x", new long[] {2}, new float[] {1, 2})), prefix);
    TensorBundle.write(new TensorSet("b").add(NamedTensor.ofFloats("y", new long[] {1}, new float[] {5})), prefix);
    Map<String, Object[]> r = tfRestore(prefix,
        List.of(new Spec("y", TFloat32.class, DType.F32, new long[] {1}, floats(5))));
    assertArrayEquals(floats(5), (byte[]) r.get("y")[1]);
    assertEquals(List.of("y"), TensorBundle.read(prefix).names());
  }

  @Test
  void failedWritesLeaveNothingBehind(@TempDir Path dir) throws IOException {
    TensorSet set = new TensorSet("t").add(NamedTensor.ofFloats("x", new long[] {2}, new float[] {1, 2}));
    Path file = Files.writeString(dir.resolve("afile"), "x");
    assertThrows(IOException.class, () -> TensorBundle.write(set, file.resolve("ckpt")));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of("afile"), files.map(p -> p.getFileName().toString()).toList());
    }

    // the index's name is taken by a folder: the final rename fails after the data file was moved into place
    Files.createDirectories(dir.resolve("ckpt.index"));
    assertThrows(IOException.class, () -> TensorBundle.write(set, dir.resolve("ckpt")));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of("afile", "ckpt.index"), files.map(p -> p.getFileName().toString()).sorted().toList());
    }
    assertThrows(IllegalArgumentException.class,
        () -> TensorBundle.write(new TensorSet("t").add(NamedTensor.ofFloats("", new long[] {}, new float[] {1})),
            dir.resolve("e")));
  }
}
