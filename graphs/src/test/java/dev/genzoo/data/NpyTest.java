package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fixtures written by src/test/resources/data/npy/make_fixtures.py (numpy 1.24); the formulas are restated here. */
class NpyTest {
  @TempDir
  Path tmp;

  private static NpyArray fixture(String name) throws IOException {
    return Npy.read(TestResources.resource("npy/" + name + ".npy"));
  }

  private static double[] range(int from, int to, double scale, double offset) {
    double[] v = new double[to - from];
    for (int i = 0; i < v.length; i++) {
      v[i] = (from + i) * scale + offset;
    }
    return v;
  }

  private static float[] toFloats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  @Test
  void floatsInBothByteOrders() throws IOException {
    NpyArray c = fixture("f4_c");
    assertEquals("<f4", c.descr());
    assertArrayEquals(new long[] {2, 3, 4}, c.shape());
    assertArrayEquals(toFloats(range(0, 24, 1.0 / 8, -1)), c.asFloats());

    NpyArray big = fixture("f4_big");
    assertEquals(">f4", big.descr());
    assertArrayEquals(new long[] {2, 3}, big.shape());
    assertArrayEquals(toFloats(range(0, 6, 0.25, 0)), big.asFloats());

    assertArrayEquals(range(-3, 3, 1.0 / 16, 0), fixture("f8_little").asDoubles());
    NpyArray f8big = fixture("f8_big");
    assertEquals(">f8", f8big.descr());
    assertArrayEquals(range(-3, 3, 1.0 / 16, 0), f8big.asDoubles());
  }

  @Test
  void fortranOrderComesBackInCOrder() throws IOException {
    NpyArray f = fixture("f8_fortran");
    assertArrayEquals(new long[] {2, 3, 4}, f.shape());
    assertArrayEquals(range(0, 24, 1, 0), f.asDoubles());
    NpyArray u = fixture("u1_fortran");
    assertArrayEquals(new long[] {3, 4}, u.shape());
    assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, u.asBytes());
  }

  @Test
  void integersAndBools() throws IOException {
    long[] i4 = {-3, -2, -1, 0, 1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE};
    assertArrayEquals(i4, fixture("i4_little").asLongs());
    assertArrayEquals(i4, fixture("i4_big").asLongs());
    long[] i8 = {-(1L << 40), -1, 0, 1, (1L << 40) + 3, 1L << 62};
    assertArrayEquals(i8, fixture("i8_little").asLongs());
    assertArrayEquals(i8, fixture("i8_big").asLongs());
    assertArrayEquals(new long[] {-32768, -1, 0, 1, 32767}, fixture("i2_little").asLongs());
    assertArrayEquals(new long[] {0, 1, 255, 256, 65535}, fixture("u2_big").asLongs());
    assertArrayEquals(new long[] {0, 1, 4294967295L}, fixture("u4_little").asLongs());
    assertArrayEquals(new long[] {0, 1, 1L << 53}, fixture("u8_little").asLongs());
    assertArrayEquals(new double[] {0, 1, 0x1p53}, fixture("u8_little").asDoubles());

    NpyArray u1 = fixture("u1");
    assertEquals("|u1", u1.descr());
    assertArrayEquals(new long[] {16, 16}, u1.shape());
    byte[] bytes = u1.asBytes();
    float[] floats = u1.asFloats();
    for (int i = 0; i < 256; i++) {
      assertEquals(i, bytes[i] & 0xff);
      assertEquals(i, floats[i]);
    }
    long[] i1 = fixture("i1").asLongs();
    for (int i = 0; i < 256; i++) {
      assertEquals(i - 128, i1[i]);
    }
    NpyArray b1 = fixture("b1");
    assertEquals("|b1", b1.descr());
    assertArrayEquals(new byte[] {1, 0, 1, 1, 0}, b1.asBytes());
    assertArrayEquals(new double[] {1, 0, 1, 1, 0}, b1.asDoubles());
    assertThrows(IllegalStateException.class, () -> fixture("f4_c").asLongs());
    assertThrows(IllegalStateException.class, () -> fixture("i4_little").asBytes());
  }

  @Test
  void halfPrecisionIncludingSubnormalsAndInfinities() throws IOException {
    float[] want = {0f, 1f, -2f, 0.5f, 65504f, 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        -0f, 1f + 0x1p-10f};
    assertArrayEquals(want, fixture("f2_little").asFloats());
    assertArrayEquals(want, fixture("f2_big").asFloats());
    assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(fixture("f2_little").asFloats()[9]));
  }

  @Test
  void headerVersionsScalarsAndEmptyArrays() throws IOException {
    float[] want = toFloats(range(0, 12, 1, -5.5));
    for (String v : List.of("f4_v2", "f4_v3")) {
      NpyArray a = fixture(v);
      assertArrayEquals(new long[] {3, 4}, a.shape(), v);
      assertArrayEquals(want, a.asFloats(), v);
    }
    NpyArray scalar = fixture("scalar");
    assertEquals(0, scalar.shape().length);
    assertArrayEquals(new double[] {3.5}, scalar.asDoubles());
    NpyArray empty = fixture("empty");
    assertArrayEquals(new long[] {0, 3}, empty.shape());
    assertEquals(0, empty.asFloats().length);
  }

  @Test
  void badFilesNameTheFileAndTheProblem() throws IOException {
    Path complex = TestResources.resource("npy/complex.npy");
    IOException e = assertThrows(IOException.class, () -> Npy.read(complex));
    assertTrue(e.getMessage().contains(complex.toString()) && e.getMessage().contains("unsupported NumPy dtype '<c8'"),
        e.getMessage());

    Path structured = TestResources.resource("npy/structured.npy");
    e = assertThrows(IOException.class, () -> Npy.read(structured));
    assertTrue(e.getMessage().contains(structured.toString()) && e.getMessage().contains("structured"),
        e.getMessage());

    Path truncated = TestResources.resource("npy/truncated.npy");
    e = assertThrows(IOException.class, () -> Npy.read(truncated));
    assertTrue(e.getMessage().contains(truncated.toString()) && e.getMessage().contains("truncated")
        && e.getMessage().contains("needs 96 bytes") && e.getMessage().contains("has 88"), e.getMessage());

    Path trailing = TestResources.resource("npy/trailing.npy");
    e = assertThrows(IOException.class, () -> Npy.read(trailing));
    assertTrue(e.getMessage().contains(trailing.toString()) && e.getMessage().contains("4 bytes after the data"),
        e.getMessage());

    Path notNpy = tmp.resolve("not.npy");
    Files.writeString(notNpy, "hello, this is text and no array");
    e = assertThrows(IOException.class, () -> Npy.read(notNpy));
    assertTrue(e.getMessage().contains(notNpy.toString()) && e.getMessage().contains("bad magic"), e.getMessage());

    Path npzAsNpy = TestResources.resource("npy/stored.npz");
    e = assertThrows(IOException.class, () -> Npy.read(npzAsNpy));
    assertTrue(e.getMessage().contains(".npz"), e.getMessage());

    Path headerCut = tmp.resolve("cut.npy");
    Files.write(headerCut, java.util.Arrays.copyOf(Files.readAllBytes(TestResources.resource("npy/f4_c.npy")), 30));
    e = assertThrows(IOException.class, () -> Npy.read(headerCut));
    assertTrue(e.getMessage().contains(headerCut.toString()) && e.getMessage().contains("header"), e.getMessage());
  }

  @Test
  void shapeAndDataMustAgree() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new NpyArray("<f4", new long[] {2, 3}, new byte[20]));
    assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("needs 24 bytes, got 20"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NpyArray.ofFloats(new float[5], 2, 3));
    assertThrows(IllegalArgumentException.class, () -> new NpyArray("<c8", new long[] {1}, new byte[8]));
    assertThrows(IllegalArgumentException.class, () -> new NpyArray("|f4", new long[] {1}, new byte[4]));
  }

  @Test
  void headersArePaddedTo64AndRoundTrip() throws IOException {
    NpyArray f = NpyArray.ofFloats(new float[] {1.5f, -2f, Float.NaN, 3e-40f, Float.MAX_VALUE, 0f}, 2, 3);
    byte[] header = Npy.header(f);
    assertEquals(0, header.length % 64);
    assertEquals('\n', header[header.length - 1]);
    assertEquals(1, header[6]);

    Path file = tmp.resolve("sub/f.npy");
    Npy.write(file, f);
    NpyArray back = Npy.read(file);
    assertEquals("<f4", back.descr());
    assertArrayEquals(new long[] {2, 3}, back.shape());
    assertArrayEquals(f.asFloats(), back.asFloats());
    assertArrayEquals(f.data(), back.data());

    double[] d = {Math.PI, -0.0, Double.MIN_VALUE, 1e300};
    assertArrayEquals(d, roundTrip(NpyArray.ofDoubles(d, 4)).asDoubles());
    long[] l = {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE};
    assertArrayEquals(l, roundTrip(NpyArray.ofLongs(l, 2, 2)).asLongs());
    int[] ints = {Integer.MIN_VALUE, 5};
    assertArrayEquals(new long[] {Integer.MIN_VALUE, 5}, roundTrip(NpyArray.ofInts(ints, 2)).asLongs());
    byte[] u = {0, 127, (byte) 128, (byte) 255};
    NpyArray ub = roundTrip(NpyArray.ofUint8(u, 1, 2, 2));
    assertEquals("|u1", ub.descr());
    assertArrayEquals(new long[] {1, 2, 2}, ub.shape());
    assertArrayEquals(new long[] {0, 127, 128, 255}, ub.asLongs());
    assertEquals(0, roundTrip(NpyArray.ofDoubles(new double[] {7}, new long[0])).shape().length);

    // A header too long for version 1.0's uint16 length switches to 2.0.
    long[] manyDims = new long[25000];
    java.util.Arrays.fill(manyDims, 1);
    NpyArray wide = NpyArray.ofFloats(new float[] {4f}, manyDims);
    byte[] wideHeader = Npy.header(wide);
    assertEquals(2, wideHeader[6]);
    assertEquals(0, wideHeader.length % 64);
    NpyArray wideBack = roundTrip(wide);
    assertEquals(25000, wideBack.shape().length);
    assertArrayEquals(new float[] {4f}, wideBack.asFloats());
  }

  private NpyArray roundTrip(NpyArray a) throws IOException {
    Path file = tmp.resolve("rt.npy");
    Npy.write(file, a);
    return Npy.read(file);
  }

  @Test
  void npzStoredAndDeflatedFromNumpy() throws IOException {
    Map<String, NpyArray> stored = Npz.readAll(TestResources.resource("npy/stored.npz"));
    assertEquals(List.of("x", "n", "flags"), List.copyOf(stored.keySet()));
    assertArrayEquals(toFloats(range(0, 24, 1.0 / 8, -1)), stored.get("x").asFloats());
    assertArrayEquals(new long[] {-(1L << 40), -1, 0, 1, (1L << 40) + 3, 1L << 62}, stored.get("n").asLongs());
    assertArrayEquals(new byte[] {1, 0, 1, 1, 0}, stored.get("flags").asBytes());

    Path deflated = TestResources.resource("npy/deflated.npz");
    assertEquals(List.of("points", "pixels", "half"), Npz.keys(deflated));
    NpyArray points = Npz.read(deflated, "points");
    assertArrayEquals(new long[] {5, 2}, points.shape());
    assertArrayEquals(toFloats(range(0, 10, 0.5, -2.25)), points.asFloats());
    assertEquals(">f2", Npz.read(deflated, "half").descr());
    assertEquals(255, Npz.read(deflated, "pixels").asBytes()[255] & 0xff);

    IOException e = assertThrows(IOException.class, () -> Npz.read(deflated, "nope"));
    assertTrue(e.getMessage().contains(deflated.toString()) && e.getMessage().contains("'nope'")
        && e.getMessage().contains("[points, pixels, half]"), e.getMessage());
    Path notZip = TestResources.resource("npy/f4_c.npy");
    e = assertThrows(IOException.class, () -> Npz.readAll(notZip));
    assertTrue(e.getMessage().contains(notZip.toString()) && e.getMessage().contains("zip"), e.getMessage());
  }

  @Test
  void npzRoundTripAndAtomicWrite() throws IOException {
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    arrays.put("b", NpyArray.ofDoubles(new double[] {1, 2, 3}, 3));
    arrays.put("a", NpyArray.ofUint8(new byte[] {9, (byte) 200}, 2));
    for (boolean compress : new boolean[] {false, true}) {
      Path file = tmp.resolve("out" + compress + ".npz");
      Npz.write(file, arrays, compress);
      Map<String, NpyArray> back = Npz.readAll(file);
      assertEquals(List.of("b", "a"), List.copyOf(back.keySet()));
      assertArrayEquals(new double[] {1, 2, 3}, back.get("b").asDoubles());
      assertArrayEquals(new long[] {9, 200}, back.get("a").asLongs());
    }
    try (var listing = Files.list(tmp)) {
      assertTrue(listing.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "temporary file left");
    }
    assertThrows(IllegalArgumentException.class,
        () -> Npz.write(tmp.resolve("bad.npz"), Map.of("a/../b", arrays.get("a")), false));
    assertTrue(Files.notExists(tmp.resolve("bad.npz")));
  }

  /** Files written here are read back by numpy in make_fixtures.py --check (skipped without /usr/bin/python3). */
  @Test
  void javaWrittenFilesReadByNumpy() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(Files.isExecutable(python), "no /usr/bin/python3: numpy cross-check skipped");
    Assumptions.assumeTrue(run(List.of(python.toString(), "-c", "import numpy")) == 0,
        "numpy not importable by /usr/bin/python3: numpy cross-check skipped");
    NpyArray f4 = NpyArray.ofFloats(toFloats(range(0, 6, 0.25, -0.5)), 2, 3);
    byte[] u1 = new byte[24];
    for (int i = 0; i < 24; i++) {
      u1[i] = (byte) (i * 11 % 256);
    }
    NpyArray u = NpyArray.ofUint8(u1, 2, 2, 2, 3);
    Npy.write(tmp.resolve("java_f4.npy"), f4);
    Npy.write(tmp.resolve("java_f8.npy"), NpyArray.ofDoubles(range(0, 5, 1.0 / 8, -0.25), 5));
    Npy.write(tmp.resolve("java_u1.npy"), u);
    Npy.write(tmp.resolve("java_i8.npy"), NpyArray.ofLongs(new long[] {-(1L << 40), -1, 0, 7, 1L << 62}, 5));
    Npy.write(tmp.resolve("java_scalar.npy"), NpyArray.ofDoubles(new double[] {2.25}, new long[0]));
    Map<String, NpyArray> both = new LinkedHashMap<>();
    both.put("f4", f4);
    both.put("u1", u);
    Npz.write(tmp.resolve("java_stored.npz"), both, false);
    Npz.write(tmp.resolve("java_deflated.npz"), both, true);
    String script = TestResources.resource("npy/make_fixtures.py").toString();
    assertEquals(0, run(List.of(python.toString(), script, "--check", tmp.toString())),
        "numpy rejected the files written by Java (see the output above)");
  }

  private static int run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
