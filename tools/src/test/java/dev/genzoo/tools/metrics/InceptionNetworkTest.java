package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference-network pipeline end to end on {@link TinyInceptionGraph} (the real graph's tensor names and its
 * batch-1 static shapes), against the same computation done in plain Java on the known weights.
 */
class InceptionNetworkTest {
  private static final int H = 6;
  private static final int W = 7;

  @TempDir
  static Path dir;

  private static Path graph;
  private static InceptionNetwork net;

  @BeforeAll
  static void load() throws IOException {
    graph = TinyInceptionGraph.write(dir);
    net = InceptionNetwork.load(graph).showProgress(false);
  }

  @AfterAll
  static void close() {
    net.close();
  }

  private static float[] random01(int n, int c, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * H * W * c];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    return x;
  }

  private static float[] to255(float[] x01, boolean round) {
    float[] out = new float[x01.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = round ? Math.round(x01[i] * 255f) : x01[i] * 255f;
    }
    return out;
  }

  private static void assertClose(double[] expected, float[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      assertEquals(e, actual[i], tol * Math.max(1, Math.abs(e)), what + "[" + i + "]");
    }
  }

  private static void assertSame(float[] expected, float[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
    }
  }

  @Test
  void describesTheGraph() throws Exception {
    assertEquals(TinyInceptionGraph.DIM, net.featureDim());
    assertEquals(TinyInceptionGraph.CLASSES, net.classes());
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(graph)));
    assertEquals(sha, net.graphSha256());
    String p = net.protocol();
    assertTrue(p.contains(sha) && p.contains("ExpandDims:0") && p.contains("pool_3") && p.contains("5x5")
        && p.contains("align_corners=false") && p.contains("softmax/logits/MatMul") && p.contains("batches of 50"),
        p);
  }

  @Test
  void featuresAndProbabilitiesMatchPlainJava() throws Exception {
    int n = 5;
    float[] x = random01(n, 3, 1);
    Features f = net.features(x, n, H, W, 3);
    assertEquals(n, f.n());
    double[][] expected = TinyInceptionGraph.reference(TinyInceptionGraph.weights(), to255(x, true), n, H, W, false);
    assertClose(expected[0], f.pool3(), 1e-5, "pool3");
    assertClose(expected[1], f.probs(), 1e-5, "probs");
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (int k = 0; k < net.classes(); k++) {
        sum += f.probs()[i * net.classes() + k];
      }
      assertEquals(1.0, sum, 1e-5);
    }
    // the reference softmax leaves out softmax/biases: with the bias the probabilities would differ
    double[][] withBias = TinyInceptionGraph.reference(TinyInceptionGraph.weights(), to255(x, true), n, H, W, true);
    double gap = 0;
    for (int i = 0; i < withBias[1].length; i++) {
      gap = Math.max(gap, Math.abs(withBias[1][i] - f.probs()[i]));
    }
    assertTrue(gap > 0.05, "bias makes a visible difference: " + gap);
  }

  @Test
  void feedsZeroTo255() throws Exception {
    int n = 3;
    float[] x = random01(n, 3, 2);
    double[][] rounded = TinyInceptionGraph.reference(TinyInceptionGraph.weights(), to255(x, true), n, H, W, false);
    double[][] exact = TinyInceptionGraph.reference(TinyInceptionGraph.weights(), to255(x, false), n, H, W, false);
    try (InceptionNetwork unrounded = InceptionNetwork.load(graph).showProgress(false).quantize(false)) {
      Features f = unrounded.features(x, n, H, W, 3);
      assertClose(exact[0], f.pool3(), 1e-5, "pool3 unrounded");
      assertTrue(unrounded.protocol().contains("not rounded"));
    }
    Features g = net.features255(to255(x, false), n, H, W, 3);
    assertClose(exact[0], g.pool3(), 1e-5, "pool3 of 0..255 input");
    assertClose(exact[1], g.probs(), 1e-5, "probs of 0..255 input");
    // the 8-bit rounding is visible (so the comparisons above can tell the two apart)
    double gap = 0;
    for (int i = 0; i < exact[0].length; i++) {
      gap = Math.max(gap, Math.abs(exact[0][i] - rounded[0][i]));
    }
    assertTrue(gap > 1e-4, "rounding changes the features: " + gap);
    // out-of-range inputs are clamped to [0, 1]
    float[] wild = x.clone();
    wild[0] = -3f;
    wild[1] = 7f;
    float[] clamped = x.clone();
    clamped[0] = 0f;
    clamped[1] = 1f;
    assertSame(net.features(clamped, n, H, W, 3).pool3(), net.features(wild, n, H, W, 3).pool3(), 0, "clamp");
  }

  @Test
  void batchSizeDoesNotChangeTheResult() throws Exception {
    int n = 7;
    float[] x = random01(n, 3, 3);
    Features all = net.features(x, n, H, W, 3);
    for (int b : new int[] {1, 2, 3, 7, 100}) {
      try (InceptionNetwork other = InceptionNetwork.load(graph).showProgress(false).batchSize(b)) {
        Features f = other.features(x, n, H, W, 3);
        assertSame(all.pool3(), f.pool3(), 1e-6, "pool3 with batches of " + b);
        assertSame(all.probs(), f.probs(), 1e-6, "probs with batches of " + b);
      }
    }
    // and a batch of more than one image gives what it gives one at a time, despite the graph's batch-1 shapes
    Features last = net.features(java.util.Arrays.copyOfRange(x, 6 * H * W * 3, 7 * H * W * 3), 1, H, W, 3);
    assertSame(all.slice(6, 7).pool3(), last.pool3(), 1e-6, "last image alone");
  }

  @Test
  void grayscaleIsTiledToRgb() throws Exception {
    int n = 4;
    float[] gray = random01(n, 1, 4);
    float[] rgb = new float[gray.length * 3];
    for (int i = 0; i < gray.length; i++) {
      rgb[3 * i] = gray[i];
      rgb[3 * i + 1] = gray[i];
      rgb[3 * i + 2] = gray[i];
    }
    Features f = net.batchSize(3).features(gray, n, H, W, 1);
    net.batchSize(InceptionNetwork.DEFAULT_BATCH_SIZE);
    double[][] expected = TinyInceptionGraph.reference(TinyInceptionGraph.weights(), to255(rgb, true), n, H, W, false);
    assertClose(expected[0], f.pool3(), 1e-5, "pool3 gray");
    assertClose(expected[1], f.probs(), 1e-5, "probs gray");
  }

  @Test
  void aGraphWithoutPool3IsRefusedByName() throws Exception {
    Path other = TinyInceptionGraph.write(dir.resolve("nopool"),
        TinyInceptionGraph.graphDef(TinyInceptionGraph.weights(), false));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InceptionNetwork.load(other));
    assertTrue(e.getMessage().contains("pool_3:0") && e.getMessage().contains(other.toString())
        && e.getMessage().contains("classify_image_graph_def.pb"), e.getMessage());
  }

  @Test
  void badFilesAndInputsGiveClearErrors() throws Exception {
    Path junk = dir.resolve("junk.pb");
    Files.write(junk, "this is not a graph at all, just some text".getBytes());
    IOException e = assertThrows(IOException.class, () -> InceptionNetwork.load(junk));
    assertTrue(e.getMessage().contains(junk.toString()), e.getMessage());
    IOException missing = assertThrows(IOException.class, () -> InceptionNetwork.load(dir.resolve("none.pb")));
    assertTrue(missing.getMessage().contains("none.pb"), missing.getMessage());
    IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
        () -> net.features(new float[10], 1, H, W, 3));
    assertTrue(len.getMessage().contains("1 x 6 x 7 x 3"), len.getMessage());
    assertThrows(IllegalArgumentException.class, () -> net.features(new float[H * W * 2], 1, H, W, 2));
    float[] nan = random01(2, 3, 5);
    nan[H * W * 3 + 4] = Float.NaN;
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> net.features(nan, 2, H, W, 3));
    assertTrue(bad.getMessage().contains("image 1"), bad.getMessage());
    assertNotEquals(0, net.features(random01(1, 3, 6), 1, H, W, 3).n());
    assertEquals(0, net.features(new float[0], 0, H, W, 3).n());
  }

  @Test
  void referenceGraphComesThroughTheZooAndSaysHowWhenUnpinnedIsRefused() throws Exception {
    Path home = dir.resolve("home");
    dev.genzoo.zoo.Fetcher.Options o = dev.genzoo.zoo.Fetcher.Options.defaults().withProgress(false)
        .withOffline(true);
    IOException refused = assertThrows(IOException.class, () -> InceptionNetwork.referenceGraph(
        new dev.genzoo.zoo.Fetcher(dev.genzoo.zoo.Cache.at(home), o)));
    assertTrue(refused.getMessage().contains("GENZOO_ALLOW_UNPINNED=1") && refused.getMessage().contains(
        "--inception-graph") && refused.getMessage().contains("GENZOO_INCEPTION_GRAPH"), refused.getMessage());
    // a mirror folder holding a stand-in archive (offline, so only the file mirror is tried)
    Path mirror = Files.createDirectories(dir.resolve("mirror"));
    try (var out = new org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream(
        Files.newOutputStream(mirror.resolve(InceptionNetwork.REFERENCE_ARCHIVE)));
         var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(out)) {
      byte[] pb = TinyInceptionGraph.graphDef();
      var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(InceptionNetwork.GRAPH_FILE);
      e.setSize(pb.length);
      tar.putArchiveEntry(e);
      tar.write(pb);
      tar.closeArchiveEntry();
    }
    dev.genzoo.zoo.Fetcher f = new dev.genzoo.zoo.Fetcher(dev.genzoo.zoo.Cache.at(home),
        o.withAllowUnpinned(true).withMirrors(java.util.List.of(mirror.toUri().toString())));
    Path pb = InceptionNetwork.referenceGraph(f);
    assertEquals(home.resolve("metrics").toAbsolutePath().normalize(), pb.getParent().getParent());
    assertTrue(pb.getParent().getFileName().toString().startsWith("inception-2015-12-05-"));
    assertEquals(pb, InceptionNetwork.referenceGraph(f));
    try (InceptionNetwork tiny = InceptionNetwork.load(pb)) {
      assertEquals(net.graphSha256(), tiny.graphSha256());
    }
  }

  @Test
  void referenceGraphSettingNamesAMissingFile() {
    System.setProperty(InceptionNetwork.GRAPH_PROPERTY, dir.resolve("absent.pb").toString());
    try {
      IOException e = assertThrows(IOException.class, InceptionNetwork::referenceGraph);
      assertTrue(e.getMessage().contains("absent.pb") && e.getMessage().contains(InceptionNetwork.GRAPH_PROPERTY),
          e.getMessage());
    } finally {
      System.clearProperty(InceptionNetwork.GRAPH_PROPERTY);
    }
  }
}
