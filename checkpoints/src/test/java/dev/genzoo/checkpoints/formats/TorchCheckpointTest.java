package dev.genzoo.checkpoints.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PyTorch checkpoints written by torch.save (make_torch_fixtures.py), in the zip and the legacy format, against the
 * same tensors written by numpy into an .npz (the names there are the dotted paths genzoo must give them), plus
 * hand-made archives for the error paths.
 */
class TorchCheckpointTest {
  @TempDir
  Path tmp;

  private Path fixture(String name) throws IOException {
    Path p = tmp.resolve(name);
    try (InputStream in = getClass().getResourceAsStream(name)) {
      Files.copy(in, p);
    }
    return p;
  }

  /** One array of an .npz, parsed here independently of genzoo's readers. */
  private record Npy(String descr, long[] shape, byte[] data) {}

  private Map<String, Npy> npz(String name) throws IOException {
    Map<String, Npy> out = new LinkedHashMap<>();
    try (ZipInputStream zin = new ZipInputStream(getClass().getResourceAsStream(name))) {
      for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
        byte[] b = zin.readAllBytes();
        assertEquals("\u0093NUMPY", new String(b, 0, 6, StandardCharsets.ISO_8859_1));
        int major = b[6];
        int headerLen = major == 1 ? (b[8] & 0xff) | (b[9] & 0xff) << 8
            : ByteBuffer.wrap(b, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int start = major == 1 ? 10 : 12;
        String header = new String(b, start, headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = Pattern.compile("'descr': '([^']+)'").matcher(header);
        Matcher s = Pattern.compile("'shape': \\(([^)]*)\\)").matcher(header);
        assertTrue(d.find() && s.find(), header);
        assertTrue(header.contains("'fortran_order': False"), header);
        long[] shape = Arrays.stream(s.group(1).split(",")).map(String::strip).filter(x -> !x.isEmpty())
            .mapToLong(Long::parseLong).toArray();
        String key = e.getName().substring(0, e.getName().length() - ".npy".length());
        out.put(key, new Npy(d.group(1), shape, Arrays.copyOfRange(b, start + headerLen, b.length)));
      }
    }
    return out;
  }

  /** Every tensor equals numpy's copy byte for byte (bfloat16, which numpy lacks, against its float32 values). */
  private void assertMatchesNpz(TensorSet tensors, Map<String, Npy> expected, List<String> bf16) {
    assertEquals(List.copyOf(expected.keySet()), tensors.names());
    for (Map.Entry<String, Npy> e : expected.entrySet()) {
      NamedTensor t = tensors.get(e.getKey());
      Npy want = e.getValue();
      assertArrayEquals(want.shape(), t.shape(), e.getKey());
      if (bf16.contains(e.getKey())) {
        assertEquals(DType.BF16, t.dtype(), e.getKey());
        assertEquals("<f4", want.descr());
        float[] values = new float[want.data().length / 4];
        ByteBuffer.wrap(want.data()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        assertArrayEquals(values, t.toFloats(), e.getKey());
      } else {
        assertEquals(DType.ofNumpy(want.descr()), t.dtype(), e.getKey());
        assertArrayEquals(want.data(), t.data(), e.getKey());
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"torch_tensors.pt", "torch_tensors_legacy.pt"})
  void tensorsOfEveryTypeAndLayoutMatchNumpy(String name) throws IOException {
    TorchCheckpoint ck = TorchCheckpoint.read(fixture(name));
    Map<String, Npy> expected = npz("torch_tensors.npz");
    assertEquals(27, expected.size());
    assertMatchesNpz(ck.tensors(), expected, List.of("bf16"));

    Map<?, ?> root = assertInstanceOf(Map.class, ck.root());
    Map<?, ?> model = assertInstanceOf(Map.class, root.get("model"));
    // the state dict's trailing BUILD of {'_metadata': ...} keeps every entry
    assertEquals(List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
        "bn.num_batches_tracked", "fc.weight", "fc.bias"), List.copyOf(model.keySet()));
    NamedTensor tracked = assertInstanceOf(NamedTensor.class, model.get("bn.num_batches_tracked"));
    assertEquals("model.bn.num_batches_tracked", tracked.name());
    assertEquals(DType.I64, tracked.dtype());
    assertArrayEquals(new long[0], tracked.shape());
    assertArrayEquals(new double[] {1}, tracked.toDoubles(), "one training step of the batch norm");
    assertEquals(List.of(2L, 3L), root.get("size"));
    assertEquals("torch.float16", root.get("dtype"));
    assertEquals("hello", root.get("note"));
    assertEquals(7L, root.get("count"));
    assertEquals(0.5, root.get("ratio"));
    assertEquals(Boolean.TRUE, root.get("flag"));
    assertTrue(root.containsKey("nothing"));
    assertNull(root.get("nothing"));
    List<?> tied = assertInstanceOf(List.class, root.get("tied"));
    assertSame(tied.get(0), tied.get(1), "one tensor saved twice stays one tensor");

    // values from the math of the script: arange(12).reshape(3, 4).t(), arange(20).reshape(4, 5)[1:, ::2] * 0.5,
    // (arange(10) * 7 - 20)[1:4] and [5:]
    assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, ck.tensors().get("transposed").toFloats());
    assertArrayEquals(new float[] {2.5f, 3.5f, 4.5f, 5, 6, 7, 7.5f, 8.5f, 9.5f},
        ck.tensors().get("strided").toFloats());
    assertArrayEquals(new double[] {-13, -6, 1}, ck.tensors().get("shared_a").toDoubles());
    assertArrayEquals(new double[] {15, 22, 29, 36, 43}, ck.tensors().get("shared_b").toDoubles());
    assertArrayEquals(new double[] {1.5, -2.25, 3.0064771072e10, 9.9945068359375e-4},
        ck.tensors().get("bf16").toDoubles(), "bfloat16 rounding of [1.5, -2.25, 3e10, 1e-3]");

    Map<String, String> meta = ck.tensors().metadata();
    assertEquals("hello", meta.get("note"));
    assertEquals("7", meta.get("count"));
    assertEquals("0.5", meta.get("ratio"));
    assertEquals("True", meta.get("flag"));
    assertEquals("None", meta.get("nothing"));
    assertEquals("torch.float16", meta.get("dtype"));
    assertEquals("3", meta.get("size.1"));

    TensorSet sub = ck.tensors("model");
    assertEquals(List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
        "bn.num_batches_tracked", "fc.weight", "fc.bias"), sub.names());
    assertArrayEquals(expected.get("model.fc.weight").data(), sub.get("fc.weight").data());
    assertEquals(List.of("tied.1"), ck.tensors("tied.1").names());
    assertSame(model.get("conv.bias"), ck.at("model.conv.bias"), "dotted keys resolve inside the state dict");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> ck.at("model.nope"));
    assertTrue(missing.getMessage().contains(name) && missing.getMessage().contains("no entry model.nope"),
        missing.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"torch_ncsnv2.pt", "torch_ncsnv2_legacy.pt"})
  void ncsnv2CheckpointList(String name) throws IOException {
    TorchCheckpoint ck = TorchCheckpoint.read(fixture(name));
    Map<String, Npy> expected = npz("torch_ncsnv2.npz");
    assertMatchesNpz(ck.tensors(), expected, List.of());
    assertTrue(ck.tensors().contains("0.module.conv.weight"));
    assertTrue(ck.tensors().contains("4.module.conv.weight"));

    List<?> root = assertInstanceOf(List.class, ck.root());
    assertEquals(5, root.size());
    assertEquals(5L, root.get(2));
    assertEquals(1000L, root.get(3));
    Map<?, ?> optimizer = assertInstanceOf(Map.class, root.get(1));
    Map<?, ?> state = assertInstanceOf(Map.class, optimizer.get("state"));
    assertEquals(List.of(0L, 1L, 2L, 3L), List.copyOf(state.keySet()), "Adam's state is keyed by int");
    Map<?, ?> group = assertInstanceOf(Map.class, ((List<?>) optimizer.get("param_groups")).get(0));
    assertEquals(0.001, group.get("lr"));
    assertEquals(List.of(0.9, 0.999), group.get("betas"));
    assertEquals(1e-8, group.get("eps"));
    assertEquals(Boolean.FALSE, group.get("amsgrad"));
    assertEquals(List.of(0L, 1L, 2L, 3L), group.get("params"));

    Map<String, String> meta = ck.tensors().metadata();
    assertEquals("5", meta.get("2"));
    assertEquals("1000", meta.get("3"));
    assertEquals("0.001", meta.get("1.param_groups.0.lr"));
    assertEquals("1e-08", meta.get("1.param_groups.0.eps"));
    assertEquals("0.999", meta.get("1.param_groups.0.betas.1"));

    TensorSet ema = ck.tensors("4");
    assertEquals(List.of("module.conv.weight", "module.conv.bias", "module.norm.weight", "module.norm.bias"),
        ema.names());
    // the script stores the EMA shadow as 0.5 * the parameters
    float[] w = ck.tensors().get("0.module.conv.weight").toFloats();
    float[] half = ema.get("module.conv.weight").toFloats();
    for (int i = 0; i < w.length; i++) {
      assertEquals(0.5f * w[i], half[i]);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"torch_nvae.pt", "torch_nvae_legacy.pt"})
  void nvaeCheckpointWithArgparseNamespace(String name) throws IOException {
    TorchCheckpoint ck = TorchCheckpoint.read(fixture(name));
    assertMatchesNpz(ck.tensors(), npz("torch_nvae.npz"), List.of());
    Map<?, ?> root = assertInstanceOf(Map.class, ck.root());
    assertEquals(3L, root.get("epoch"));
    assertEquals(120L, root.get("global_step"));
    TorchCheckpoint.Namespace args = assertInstanceOf(TorchCheckpoint.Namespace.class, root.get("args"));
    assertEquals(List.of("dataset", "num_channels_enc", "num_latent_scales", "learning_rate", "use_se",
        "arch_instance", "save", "weight_decay_norm"), List.copyOf(args.values().keySet()));
    assertEquals("mnist", args.get("dataset"));
    assertEquals(8L, args.get("num_channels_enc"));
    assertEquals(0.01, args.get("learning_rate"));
    assertEquals(Boolean.TRUE, args.get("use_se"));
    assertNull(args.get("weight_decay_norm"));
    assertThrows(IllegalArgumentException.class, () -> args.get("nope"));
    assertEquals(Map.of("normal_enc", List.of("res_bnswish", "res_bnswish"), "up_pre", List.of("mconv_e3k5g0")),
        root.get("arch_instance"));
    assertEquals(List.of("prior_ftr0", "stem.conv_0.weight", "stem.conv_0.bias"), ck.tensors("state_dict").names());
    assertEquals("mnist", ck.tensors().metadata().get("args.dataset"));
    assertEquals("65536.0", ck.tensors().metadata().get("grad_scalar.scale"));
    assertSame(args, ck.at("args"));
    assertEquals(8L, ck.at("args.num_channels_enc"));
  }

  @Test
  void handMadeDataPklThatTorchLoadsToo() throws IOException {
    TorchCheckpoint ck = TorchCheckpoint.read(fixture("torch_handmade.pt"));
    assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f, 1, 1.25f}, ck.tensors().get("weight").toFloats());
    assertArrayEquals(new long[] {2, 3}, ck.tensors().get("weight").shape());
    assertEquals(Map.of("hooks", List.of(1L, 42L)), ((Map<?, ?>) ck.root()).get("extra"));
  }

  @Test
  void rebuildTensorV3WithUntypedStorageAndDtype() throws IOException {
    NamedTensor t = TorchCheckpoint.read(fixture("torch_v3_uint16.pt")).tensors().get("u16");
    assertEquals(DType.U16, t.dtype());
    assertArrayEquals(new long[] {2, 2}, t.shape());
    assertArrayEquals(new double[] {1, 2, 65535, 300}, t.toDoubles());
  }

  @Test
  void bigEndianByteorderIsSwapped() throws IOException {
    TensorSet ts = TorchCheckpoint.read(fixture("torch_big_endian.pt")).tensors();
    assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 0.001f}, ts.get("f").toFloats());
    assertEquals(DType.I64, ts.get("l").dtype());
    ByteBuffer b = ByteBuffer.wrap(ts.get("l").data()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(-8L, b.getLong(0));
    assertEquals(1L << 40, b.getLong(8));
  }

  @Test
  void maliciousDataPklInsideARealTorchZipIsRefused() throws IOException {
    Path marker = Path.of("/tmp/genzoo-pickle-marker-torch-zip");
    Files.deleteIfExists(marker);
    Path file = fixture("torch_malicious.pt");
    UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> TorchCheckpoint.read(file));
    assertEquals("posix.system", e.global());
    assertTrue(e.getMessage().startsWith(file + ": torch_small/data.pkl"), e.getMessage());
    assertTrue(e.getMessage().contains("references posix.system, which genzoo never loads (pickles can run code)"),
        e.getMessage());
    assertTrue(e.getMessage().contains("allowed: torch._utils._rebuild_tensor"), e.getMessage());
    assertFalse(Files.exists(marker), "the payload ran");
  }

  @Test
  void missingStorageIsNamed() throws IOException {
    Path file = fixture("torch_missing_storage.pt");
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
    assertEquals(file + ": storage 0 (torch_small/data/0) is missing from the archive", e.getMessage());
  }

  @Test
  void storageShorterThanDeclared() throws IOException {
    Path file = fixture("torch_short_storage.pt");
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
    assertEquals(file + ": storage 0 declares 6 F32 elements (24 bytes) but torch_small/data/0 holds 8 bytes",
        e.getMessage());
  }

  @Test
  void strideBeyondTheStorage() throws IOException {
    Path file = fixture("torch_bad_stride.pt");
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
    assertTrue(e.getMessage().startsWith(file + ": storage 0 is too small for tensor weight (F32, size [2, 3], "
        + "stride [3, 1], offset 1)"), e.getMessage());
    assertTrue(e.getMessage().contains("reaches byte 28"), e.getMessage());
  }

  @Test
  void truncatedZip() throws IOException {
    Path file = fixture("torch_truncated.pt");
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
    assertTrue(e.getMessage().startsWith(file + ": not a complete zip archive"), e.getMessage());
  }

  @Test
  void truncatedLegacyFiles() throws IOException {
    byte[] whole = Files.readAllBytes(fixture("torch_tensors_legacy.pt"));
    Path inData = tmp.resolve("cut-in-data.pt");
    Files.write(inData, Arrays.copyOf(whole, whole.length - 10));
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(inData));
    assertTrue(e.getMessage().startsWith(inData + ": truncated"), e.getMessage());
    Path inPickle = tmp.resolve("cut-in-pickle.pt");
    Files.write(inPickle, Arrays.copyOf(whole, 100));
    e = assertThrows(IOException.class, () -> TorchCheckpoint.read(inPickle));
    assertTrue(e.getMessage().startsWith(inPickle.toString()) && e.getMessage().contains("truncated"),
        e.getMessage());
  }

  @Test
  void notACheckpoint() throws IOException {
    Path text = tmp.resolve("notes.pt");
    Files.writeString(text, "hello, not a checkpoint\n");
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(text));
    assertTrue(e.getMessage().startsWith(text + ": not a PyTorch checkpoint"), e.getMessage());
    IOException none = assertThrows(IOException.class, () -> TorchCheckpoint.read(tmp.resolve("absent.pt")));
    assertTrue(none.getMessage().contains("absent.pt: no such file"), none.getMessage());
  }

  // ---- legacy files assembled here, for structures torch.save never writes -------------------------------------

  /** A legacy torch.save file: magic number, protocol 1001, sys_info, the object pickle, an empty key list. */
  private Path legacy(String name, byte[] objectPickle) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] magic = {0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};
    b.write(new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
    b.write(magic);
    b.write('.');
    b.write(new byte[] {(byte) 0x80, 2, 'M', (byte) 0xe9, 0x03, '.'});
    b.write(new byte[] {(byte) 0x80, 2, '}', '.'});
    b.write(objectPickle);
    b.write(new byte[] {(byte) 0x80, 2, ']', '.'});
    Path p = tmp.resolve(name);
    Files.write(p, b.toByteArray());
    return p;
  }

  @Test
  void legacyAssemblyIsRead() throws IOException {
    // [1, 'x'] with the hand-assembled envelope: proves the envelope is right for the tests below
    Path p = legacy("ok.pt", new byte[] {(byte) 0x80, 2, ']', '(', 'K', 1, 'X', 1, 0, 0, 0, 'x', 'e', '.'});
    assertEquals(List.of(1L, "x"), TorchCheckpoint.read(p).root());
  }

  @Test
  void cyclicStructureIsRefused() throws IOException {
    // l = []; l.append(l)
    Path p = legacy("cycle.pt", new byte[] {(byte) 0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'});
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(p));
    assertEquals(p + ": the pickle builds a cyclic structure (at 0)", e.getMessage());
  }

  @Test
  void deepNestingIsRefused() throws IOException {
    // 3000 lists, each appended into the one below it
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(new byte[] {(byte) 0x80, 2});
    for (int i = 0; i < 3000; i++) {
      b.write(']');
    }
    for (int i = 0; i < 2999; i++) {
      b.write('a');
    }
    b.write('.');
    Path p = legacy("deep.pt", b.toByteArray());
    IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(p));
    assertTrue(e.getMessage().contains("nests deeper than 1000 levels"), e.getMessage());
  }

  @Test
  void exponentialSharingIsBounded() throws IOException {
    // x0 = [1]; x(i+1) = [xi, xi]: 2^60 paths but only 61 objects
    // x = [1]; 60 times: BINPUT 0, POP, EMPTY_LIST, MARK, BINGET 0, BINGET 0, APPENDS
    ByteArrayOutputStream d = new ByteArrayOutputStream();
    d.write(new byte[] {(byte) 0x80, 2, ']', 'K', 1, 'a'});
    for (int i = 0; i < 60; i++) {
      d.write(new byte[] {'q', 0, '0', ']', '(', 'h', 0, 'h', 0, 'e'});
    }
    d.write('.');
    Path p = legacy("laughs.pt", d.toByteArray());
    TorchCheckpoint ck = TorchCheckpoint.read(p);
    List<?> top = assertInstanceOf(List.class, ck.root());
    assertSame(top.get(0), top.get(1), "shared objects stay shared");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ck::tensors);
    assertTrue(e.getMessage().contains("expand to more than"), e.getMessage());
  }

  @Test
  void keysWithDotsAndPrefixesResolve() throws IOException {
    // {'a': {'b': 1}, 'a.b': 2, 'a.c': [3, 4]}
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(new byte[] {(byte) 0x80, 2, '}', '('});
    b.write(new byte[] {'X', 1, 0, 0, 0, 'a', '}', 'X', 1, 0, 0, 0, 'b', 'K', 1, 's'});
    b.write(new byte[] {'X', 3, 0, 0, 0, 'a', '.', 'b', 'K', 2});
    b.write(new byte[] {'X', 3, 0, 0, 0, 'a', '.', 'c', ']', '(', 'K', 3, 'K', 4, 'e'});
    b.write(new byte[] {'u', '.'});
    TorchCheckpoint ck = TorchCheckpoint.read(legacy("dots.pt", b.toByteArray()));
    assertEquals(2L, ck.at("a.b"), "an exact key wins");
    assertEquals(4L, ck.at("a.c.1"));
    assertEquals(List.of(3L, 4L), ck.at("a.c"));
    assertEquals(Map.of("0", "3", "1", "4"), ck.tensors("a.c").metadata());
    assertEquals(1L, ((Map<?, ?>) ck.at("a")).get("b"));
  }
}
