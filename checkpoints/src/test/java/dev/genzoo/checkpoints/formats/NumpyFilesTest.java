package dev.genzoo.checkpoints.formats;

import static dev.genzoo.checkpoints.formats.SafetensorsTest.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .npy/.npz files written by numpy (npy_make_fixtures.py; the values below are its formulas) and round trips. */
class NumpyFilesTest {
  @TempDir
  Path dir;

  @Test
  void readsNumpyWrittenNpy() throws IOException {
    TensorSet f32 = NumpyFiles.readNpy(resource("npy_f32.npy"));
    assertEquals(List.of("npy_f32"), f32.names());
    NamedTensor t = f32.get("npy_f32");
    assertEquals(DType.F32, t.dtype());
    assertArrayEquals(new long[] {3, 2}, t.shape());
    assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, t.toFloats());

    NamedTensor be = NumpyFiles.readNpy(resource("npy_be_i4.npy")).get("npy_be_i4");
    assertEquals(DType.I32, be.dtype());
    assertArrayEquals(new long[] {2, 3}, be.shape());
    assertArrayEquals(new double[] {1, -2, 3, 400000, -5, 6}, be.toDoubles());
    assertArrayEquals(new byte[] {1, 0, 0, 0, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff},
        java.util.Arrays.copyOf(be.data(), 8), "converted to little-endian");

    NamedTensor fortran = NumpyFiles.readNpy(resource("npy_fortran_f8.npy")).get("npy_fortran_f8");
    assertEquals(DType.F64, fortran.dtype());
    assertArrayEquals(new long[] {2, 3}, fortran.shape());
    assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, fortran.toDoubles(), "C order");
  }

  @Test
  void readsNumpyWrittenNpz() throws IOException {
    for (String name : List.of("npy_mixed.npz", "npy_mixed_compressed.npz")) {
      TensorSet s = NumpyFiles.readNpz(resource(name));
      assertEquals(List.of("enc/conv/w", "count", "flags", "half", "u8", "empty"), s.names(), name);
      assertEquals(DType.F32, s.get("enc/conv/w").dtype());
      assertArrayEquals(new long[] {2, 2}, s.get("enc/conv/w").shape());
      assertArrayEquals(new float[] {1.5f, -2, 0.25f, 8}, s.get("enc/conv/w").toFloats());
      assertEquals(DType.I64, s.get("count").dtype());
      assertArrayEquals(new long[] {}, s.get("count").shape());
      assertArrayEquals(new double[] {7}, s.get("count").toDoubles());
      assertEquals(DType.BOOL, s.get("flags").dtype());
      assertArrayEquals(new byte[] {1, 0, 0, 1}, s.get("flags").data());
      assertEquals(DType.F16, s.get("half").dtype());
      assertArrayEquals(new double[] {0.5, -1, 2048}, s.get("half").toDoubles());
      assertEquals(DType.U8, s.get("u8").dtype());
      assertArrayEquals(new double[] {0, 255, 3}, s.get("u8").toDoubles());
      assertEquals(DType.F64, s.get("empty").dtype());
      assertArrayEquals(new long[] {2, 0}, s.get("empty").shape());
    }
  }

  static TensorSet sample() {
    TensorSet s = new TensorSet("sample");
    s.add(NamedTensor.ofFloats("model/enc/conv1/W", new long[] {1, 2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
    s.add(NamedTensor.ofDoubles("mu", new long[] {2}, new double[] {0.1, -0.2}));
    s.add(NamedTensor.ofLongs("step", new long[] {}, new long[] {Long.MAX_VALUE}));
    s.add(NamedTensor.ofInts("i", new long[] {2}, new int[] {-1, 2}));
    s.add(new NamedTensor("u16", DType.U16, new long[] {1}, new byte[] {(byte) 0xff, (byte) 0xfe}));
    s.add(new NamedTensor("i8", DType.I8, new long[] {2}, new byte[] {-1, 5}));
    s.add(new NamedTensor("u64", DType.U64, new long[] {1}, new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) 0x80}));
    s.add(new NamedTensor("b", DType.BOOL, new long[] {2, 1}, new byte[] {0, 1}));
    s.add(new NamedTensor("f16", DType.F16, new long[] {1}, new byte[] {0x00, (byte) 0xbc}));
    s.add(NamedTensor.ofFloats("none", new long[] {0, 2}, new float[0]));
    return s;
  }

  @Test
  void npzRoundTripKeepsSlashedNamesAndTypes() throws IOException {
    for (boolean compress : new boolean[] {false, true}) {
      Path f = dir.resolve("out" + compress + ".npz");
      NumpyFiles.writeNpz(sample(), f, compress);
      TensorSet back = NumpyFiles.readNpz(f);
      assertEquals(sample().names(), back.names());
      for (NamedTensor t : sample()) {
        NamedTensor b = back.get(t.name());
        assertEquals(t.dtype(), b.dtype(), t.name());
        assertArrayEquals(t.shape(), b.shape(), t.name());
        assertArrayEquals(t.data(), b.data(), t.name());
      }
      // the archive as NumPy lays it out: <key>.npy entries, stored or deflated
      try (ZipFile zip = new ZipFile(f.toFile())) {
        ZipEntry e = zip.getEntry("model/enc/conv1/W.npy");
        assertEquals(compress ? ZipEntry.DEFLATED : ZipEntry.STORED, e.getMethod());
      }
      NpyArray w = Npz.readAll(f).get("model/enc/conv1/W");
      assertEquals("<f4", w.descr());
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.asFloats());
      assertEquals("|b1", Npz.readAll(f).get("b").descr());
    }
  }

  @Test
  void npyRoundTrip() throws IOException {
    Path f = dir.resolve("sigma.npy");
    NamedTensor t = NamedTensor.ofDoubles("whatever", new long[] {2, 2}, new double[] {1, 0.5, 0.5, 2});
    NumpyFiles.writeNpy(t, f);
    TensorSet back = NumpyFiles.readNpy(f);
    assertEquals(List.of("sigma"), back.names());
    assertArrayEquals(t.data(), back.get("sigma").data());
    assertArrayEquals(new long[] {2, 2}, back.get("sigma").shape());
    assertEquals("<f8", dev.genzoo.data.Npy.read(f).descr());
  }

  @Test
  void refusesWhatNumpyCannotHold() throws IOException {
    TensorSet bf = new TensorSet("bf").add(new NamedTensor("x", DType.BF16, new long[] {1}, new byte[2]));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NumpyFiles.writeNpz(bf, dir.resolve("bf.npz")));
    assertTrue(e.getMessage().contains("BF16") && e.getMessage().contains("x"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NumpyFiles.writeNpy(sample(), dir.resolve("two.npy")));
    for (String bad : List.of("", "../evil", "/abs", "a/../../b", "dir/")) {
      TensorSet s = new TensorSet("s").add(NamedTensor.ofFloats(bad, new long[] {}, new float[] {1}));
      assertThrows(IllegalArgumentException.class, () -> NumpyFiles.writeNpz(s, dir.resolve("bad.npz")), bad);
    }
    assertFalse(Files.exists(dir.resolve("bf.npz")));
    assertFalse(Files.exists(dir.resolve("bad.npz")));
    try (var files = Files.list(dir)) {
      assertEquals(0, files.count());
    }
    assertEquals(Map.of(), NumpyFiles.readNpz(writeEmpty()).metadata());
  }

  private Path writeEmpty() throws IOException {
    Path f = dir.resolve("empty.npz");
    NumpyFiles.writeNpz(new TensorSet("e"), f);
    return f;
  }
}
