package dev.genzoo.checkpoints.formats;

import static dev.genzoo.checkpoints.formats.SafetensorsTest.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** Format detection from content (renamed files included) and the format-independent read/write/list. */
class CheckpointsTest {
  @TempDir
  Path dir;

  /** A TensorFlow-written bundle (SaveV2) of two tensors; returns its prefix. */
  private Path tfBundle() {
    Path prefix = dir.resolve("tf/model.ckpt");
    TensorBundleTest.tfSave(prefix, List.of(
        new TensorBundleTest.Spec("dense/kernel", TFloat32.class, DType.F32, new long[] {2, 2},
            TensorBundleTest.floats(1, -2, 3.5f, 0)),
        new TensorBundleTest.Spec("global_step", TInt64.class, DType.I64, new long[] {}, TensorBundleTest.longs(77))),
        Map.of());
    return prefix;
  }

  private Path copy(String resource, String as) throws IOException {
    return Files.copy(resource(resource), dir.resolve(as));
  }

  @Test
  void detectsEveryFormat() throws IOException {
    Path prefix = tfBundle();
    assertEquals(CheckpointFormat.TF_BUNDLE, CheckpointFormat.detect(prefix));
    assertEquals(CheckpointFormat.TF_BUNDLE, CheckpointFormat.detect(dir.resolve("tf/model.ckpt.index")));
    assertEquals(CheckpointFormat.TF_BUNDLE,
        CheckpointFormat.detect(dir.resolve("tf/model.ckpt.data-00000-of-00001")));
    assertEquals(CheckpointFormat.SAFETENSORS,
        CheckpointFormat.detect(resource("safetensors_fixture.safetensors")));
    assertEquals(CheckpointFormat.NPY, CheckpointFormat.detect(resource("npy_f32.npy")));
    assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(resource("npy_mixed.npz")));
    assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(resource("npy_mixed_compressed.npz")));
    assertEquals(CheckpointFormat.PYTORCH, CheckpointFormat.detect(resource("npy_detect_torch_zip.pt")));
    assertEquals(CheckpointFormat.PYTORCH, CheckpointFormat.detect(resource("npy_detect_torch_legacy.pt")));
  }

  @Test
  void contentWinsOverTheExtension() throws IOException {
    assertEquals(CheckpointFormat.SAFETENSORS,
        CheckpointFormat.detect(copy("safetensors_fixture.safetensors", "weights.npy")));
    assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(copy("npy_mixed.npz", "model.pt")));
    assertEquals(CheckpointFormat.PYTORCH, CheckpointFormat.detect(copy("npy_detect_torch_zip.pt", "arrays.npz")));
    assertEquals(CheckpointFormat.PYTORCH,
        CheckpointFormat.detect(copy("npy_detect_torch_legacy.pt", "x.safetensors")));
    assertEquals(CheckpointFormat.NPY, CheckpointFormat.detect(copy("npy_be_i4.npy", "y.safetensors")));
    Path prefix = tfBundle();
    Path renamedIndex = Files.copy(dir.resolve("tf/model.ckpt.index"), dir.resolve("index.bin"));
    assertEquals(CheckpointFormat.TF_BUNDLE, CheckpointFormat.detect(renamedIndex));
    assertEquals(6, Checkpoints.read(copy("npy_mixed.npz", "m.safetensors")).size());
    assertEquals(2, Checkpoints.read(prefix).size());
  }

  @Test
  void unknownOrMissingFilesAreClearErrors() throws IOException {
    byte[] noise = new byte[256];
    new Random(3).nextBytes(noise);
    noise[0] = 0x11;
    Path f = Files.write(dir.resolve("model.pt"), noise);
    IOException e = assertThrows(IOException.class, () -> CheckpointFormat.detect(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("PYTORCH"), e.getMessage());

    Path zip = dir.resolve("other.zip");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
      z.putNextEntry(new ZipEntry("readme.txt"));
      z.write(1);
    }
    e = assertThrows(IOException.class, () -> CheckpointFormat.detect(zip));
    assertTrue(e.getMessage().contains("neither"), e.getMessage());

    e = assertThrows(NoSuchFileException.class, () -> Checkpoints.read(dir.resolve("gone.safetensors")));
    assertTrue(e.getMessage().contains("gone.safetensors"), e.getMessage());
    assertThrows(IOException.class, () -> CheckpointFormat.detect(dir));
  }

  @Test
  void truncatedAndEmptyFilesKeepTheirFormat() throws IOException {
    byte[] st = Files.readAllBytes(resource("safetensors_fixture.safetensors"));
    Path cut = Files.write(dir.resolve("cut.bin"), java.util.Arrays.copyOf(st, 100));
    assertEquals(CheckpointFormat.SAFETENSORS, CheckpointFormat.detect(cut));
    IOException e = assertThrows(IOException.class, () -> Checkpoints.read(cut));
    assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());

    Path empty = dir.resolve("empty.npz");
    NumpyFiles.writeNpz(new TensorSet("none"), empty);
    assertEquals(CheckpointFormat.NPZ, CheckpointFormat.detect(empty));
    assertEquals(0, Checkpoints.read(empty).size());
  }

  @Test
  void readsEveryFormat() throws IOException {
    TensorSet tf = Checkpoints.read(tfBundle());
    assertArrayEquals(new float[] {1, -2, 3.5f, 0}, tf.get("dense/kernel").toFloats());
    assertArrayEquals(new double[] {77}, tf.get("global_step").toDoubles());
    assertEquals(123456789012.0, Checkpoints.read(resource("safetensors_fixture.safetensors")).get("step")
        .toDoubles()[0]);
    assertArrayEquals(new double[] {7}, Checkpoints.read(resource("npy_mixed.npz")).get("count").toDoubles());
    assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f},
        Checkpoints.read(resource("npy_f32.npy")).get("npy_f32").toFloats());
    for (String torch : List.of("npy_detect_torch_zip.pt", "npy_detect_torch_legacy.pt")) {
      TensorSet t = Checkpoints.read(resource(torch));
      assertEquals(DType.F32, t.get("w").dtype(), torch);
      assertArrayEquals(new long[] {2, 3}, t.get("w").shape(), torch);
      assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, t.get("w").toFloats(), torch);
      assertEquals(DType.I64, t.get("b").dtype(), torch);
      assertArrayEquals(new double[] {1, 2}, t.get("b").toDoubles(), torch);
    }
  }

  @Test
  void writesEveryWritableFormat() throws IOException {
    TensorSet s = new TensorSet("s");
    s.add(NamedTensor.ofFloats("enc/w", new long[] {2, 2}, new float[] {1, 2, 3, 4}));
    s.add(NamedTensor.ofLongs("step", new long[] {}, new long[] {9}));
    Map<CheckpointFormat, Path> targets = Map.of(
        CheckpointFormat.TF_BUNDLE, dir.resolve("b/ckpt"),
        CheckpointFormat.SAFETENSORS, dir.resolve("m.safetensors"),
        CheckpointFormat.NPZ, dir.resolve("m.npz"));
    Files.createDirectories(dir.resolve("b"));
    for (Map.Entry<CheckpointFormat, Path> e : targets.entrySet()) {
      Checkpoints.write(s, e.getValue(), e.getKey());
      assertEquals(e.getKey(), CheckpointFormat.detect(e.getValue()));
      TensorSet back = Checkpoints.read(e.getValue());
      assertEquals(2, back.size(), e.getKey().toString());
      assertArrayEquals(new float[] {1, 2, 3, 4}, back.get("enc/w").toFloats(), e.getKey().toString());
      assertArrayEquals(new double[] {9}, back.get("step").toDoubles(), e.getKey().toString());
      List<Checkpoints.TensorInfo> infos = Checkpoints.list(e.getValue());
      assertEquals(2, infos.size());
      Checkpoints.TensorInfo w = infos.stream().filter(i -> i.name().equals("enc/w")).findFirst().orElseThrow();
      assertEquals("F32", w.dtype());
      assertEquals(DType.F32, w.type());
      assertArrayEquals(new long[] {2, 2}, w.shape());
      assertEquals(16, w.bytes());
    }
    TensorSet one = new TensorSet("one").add(NamedTensor.ofFloats("mu", new long[] {3}, new float[] {1, 2, 3}));
    Checkpoints.write(one, dir.resolve("mu.npy"), CheckpointFormat.NPY);
    assertEquals(CheckpointFormat.NPY, CheckpointFormat.detect(dir.resolve("mu.npy")));
    assertArrayEquals(new float[] {1, 2, 3}, Checkpoints.read(dir.resolve("mu.npy")).get("mu").toFloats());

    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
        () -> Checkpoints.write(s, dir.resolve("m.pt"), CheckpointFormat.PYTORCH));
    assertTrue(e.getMessage().contains("PyTorch"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("m.pt")));
  }

  @Test
  void parsesFormatNames() {
    assertEquals(CheckpointFormat.TF_BUNDLE, CheckpointFormat.parse("tf"));
    assertEquals(CheckpointFormat.SAFETENSORS, CheckpointFormat.parse("SafeTensors"));
    assertEquals(CheckpointFormat.PYTORCH, CheckpointFormat.parse("pth"));
    assertEquals(CheckpointFormat.NPZ, CheckpointFormat.parse("NPZ"));
    assertThrows(IllegalArgumentException.class, () -> CheckpointFormat.parse("onnx"));
  }
}
