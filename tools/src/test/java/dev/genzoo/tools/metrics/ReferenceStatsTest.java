package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.CifarReader;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference statistics on a small fake {@code cifar10:DIR} (records written here in the binary format) with the tiny
 * graph: equal to the statistics of the features computed independently, cached, reused, resumable.
 */
class ReferenceStatsTest {
  @TempDir
  static Path tmp;

  private static InceptionNetwork net;
  private static Path cifar;
  /** The images of the fake train split as HWC 0..255, decoded here from the records written. */
  private static float[] trainImages;
  private static final int TRAIN = 5;

  @BeforeAll
  static void setUp() throws IOException {
    net = InceptionNetwork.load(TinyInceptionGraph.write(tmp.resolve("graph"))).showProgress(false);
    cifar = Files.createDirectories(tmp.resolve("cifar"));
    Random r = new Random(11);
    byte[][] batches = {records(3, r), records(2, r)};
    Files.write(cifar.resolve("data_batch_1.bin"), batches[0]);
    Files.write(cifar.resolve("data_batch_2.bin"), batches[1]);
    Files.write(cifar.resolve("test_batch.bin"), records(1, r));
    trainImages = new float[TRAIN * 32 * 32 * 3];
    int img = 0;
    for (byte[] b : batches) {
      for (int rec = 0; rec < b.length / CifarReader.RECORD_SIZE; rec++, img++) {
        int at = rec * CifarReader.RECORD_SIZE + 1;
        for (int c = 0; c < 3; c++) {
          for (int p = 0; p < 1024; p++) {
            trainImages[img * 3072 + p * 3 + c] = b[at + c * 1024 + p] & 0xff; // planes R, G, B -> HWC
          }
        }
      }
    }
  }

  @AfterAll
  static void tearDown() {
    net.close();
  }

  /** {@code n} records: a label byte, then 1024 red, 1024 green and 1024 blue bytes. */
  private static byte[] records(int n, Random r) {
    byte[] b = new byte[n * CifarReader.RECORD_SIZE];
    r.nextBytes(b);
    for (int i = 0; i < n; i++) {
      b[i * CifarReader.RECORD_SIZE] = (byte) r.nextInt(10);
    }
    return b;
  }

  private static float[] expectedFeatures() {
    double[] pool = TinyInceptionGraph.reference(TinyInceptionGraph.weights(), trainImages, TRAIN, 32, 32, false)[0];
    float[] f = new float[pool.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) pool[i];
    }
    return f;
  }

  @Test
  void statsOfTheTrainSplitAreCachedAndReused() throws Exception {
    Path stats = tmp.resolve("stats1");
    FeatureStats s = ReferenceStats.cifar10Train(net, cifar, stats);
    assertEquals(TRAIN, s.count());
    assertEquals(TinyInceptionGraph.DIM, s.dim());
    // the statistics of features computed independently (plain Java on the known weights) ...
    FeatureStats expected = FeatureStats.of(expectedFeatures(), TRAIN, TinyInceptionGraph.DIM);
    // ... and, spelled out, the mean and the unbiased covariance (numpy.cov) of those features
    float[] f = expectedFeatures();
    int d = TinyInceptionGraph.DIM;
    for (int j = 0; j < d; j++) {
      double m = 0;
      for (int i = 0; i < TRAIN; i++) {
        m += f[i * d + j];
      }
      m /= TRAIN;
      assertEquals(m, s.mu()[j], 1e-5 * Math.max(1, Math.abs(m)), "mu[" + j + "]");
      assertEquals(expected.mu()[j], s.mu()[j], 1e-5 * Math.max(1, Math.abs(m)));
    }
    for (int a = 0; a < d; a++) {
      for (int b = 0; b < d; b++) {
        double ma = expected.mu()[a];
        double mb = expected.mu()[b];
        double c = 0;
        for (int i = 0; i < TRAIN; i++) {
          c += (f[i * d + a] - ma) * (f[i * d + b] - mb);
        }
        c /= TRAIN - 1;
        assertEquals(c, s.sigma()[a * d + b], 1e-5 * Math.max(1, Math.abs(c)), "sigma[" + a + ", " + b + "]");
        assertEquals(expected.sigma()[a * d + b], s.sigma()[a * d + b], 1e-5 * Math.max(1, Math.abs(c)));
      }
    }
    // one .npz and its sidecar, named by the data and the graph; the work folder is gone
    Path npz;
    try (Stream<Path> files = Files.list(stats)) {
      npz = files.filter(p -> p.toString().endsWith(".npz")).findFirst().orElseThrow();
    }
    assertTrue(npz.getFileName().toString().contains(net.graphSha256().substring(0, 16)), npz.toString());
    String side = Files.readString(ReferenceStats.sidecar(npz));
    assertTrue(side.contains(net.graphSha256()) && side.contains("\"count\" : 5") && side.contains("ExpandDims"),
        side);
    try (Stream<Path> files = Files.list(stats)) {
      assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith(".work-")));
    }
    FeatureStats read = FeatureStats.readNpz(npz);
    assertTrue(Arrays.equals(s.mu(), read.mu()) && Arrays.equals(s.sigma(), read.sigma()));
    // reused: a marked file in its place comes back as it is, without computing anything
    double[] marked = new double[d];
    Arrays.fill(marked, 42.0);
    new FeatureStats(TRAIN, d, marked, s.sigma()).writeNpz(npz);
    assertEquals(42.0, ReferenceStats.cifar10Train(net, cifar, stats).mu()[0]);
    // another graph is another key: computed anew
    byte[] otherGraph = TinyInceptionGraph.graphDef(TinyInceptionGraph.weights(TinyInceptionGraph.SIZE, d,
        TinyInceptionGraph.CLASSES, 99), true);
    try (InceptionNetwork other = InceptionNetwork.load(TinyInceptionGraph.write(tmp.resolve("other"), otherGraph))
        .showProgress(false)) {
      FeatureStats o = ReferenceStats.cifar10Train(other, cifar, stats);
      assertNotEquals(42.0, o.mu()[0]);
      assertNotEquals(s.mu()[0], o.mu()[0]);
    }
    try (Stream<Path> files = Files.list(stats)) {
      assertEquals(2, files.filter(p -> p.toString().endsWith(".npz")).count());
    }
  }

  @Test
  void otherFilesAreAnotherKey() throws Exception {
    Path copy = Files.createDirectories(tmp.resolve("cifar-copy"));
    for (String name : new String[] {"data_batch_1.bin", "data_batch_2.bin"}) {
      Files.copy(cifar.resolve(name), copy.resolve(name));
    }
    assertEquals(ReferenceStats.filesSha256(cifar), ReferenceStats.filesSha256(copy));
    byte[] b = Files.readAllBytes(copy.resolve("data_batch_2.bin"));
    b[100] ^= 1;
    Files.write(copy.resolve("data_batch_2.bin"), b);
    assertNotEquals(ReferenceStats.filesSha256(cifar), ReferenceStats.filesSha256(copy));
  }

  @Test
  void chunksResumeAnInterruptedRun() throws Exception {
    var data = CifarReader.readDir(cifar, "train");
    Path work = tmp.resolve("work");
    Files.createDirectories(work);
    int d = TinyInceptionGraph.DIM;
    float[] sevens = new float[2 * d];
    Arrays.fill(sevens, 7f);
    Npy.write(work.resolve("chunk-00000.npy"), NpyArray.ofFloats(sevens, 2, d)); // a finished chunk
    Npy.write(work.resolve("chunk-00001.npy"), NpyArray.ofFloats(new float[3 * d], 3, d)); // wrong shape: redone
    float[] f = ReferenceStats.features(net, data, work, 2);
    float[] expected = expectedFeatures();
    for (int i = 0; i < TRAIN * d; i++) {
      float want = i < 2 * d ? 7f : expected[i];
      assertEquals(want, f[i], 1e-5 * Math.max(1, Math.abs(want)), "feature " + i);
    }
    assertTrue(Files.isRegularFile(work.resolve("chunk-00002.npy")));
    assertEquals(2, Npy.read(work.resolve("chunk-00001.npy")).shape()[0]);
  }

  @Test
  void precomputedStatsAreCheckedAgainstTheNetwork() throws Exception {
    Path npz = tmp.resolve("precomputed.npz");
    int d = TinyInceptionGraph.DIM + 1;
    double[] eye = new double[d * d];
    for (int i = 0; i < d; i++) {
      eye[i * d + i] = 1;
    }
    new FeatureStats(0, d, new double[d], eye).writeNpz(npz);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceStats.load(npz, net));
    assertTrue(e.getMessage().contains(npz.toString()) && e.getMessage().contains("9-dimensional"), e.getMessage());
    assertEquals(d, ReferenceStats.load(npz, null).dim());
    assertThrows(IOException.class, () -> ReferenceStats.load(tmp.resolve("absent.npz"), net));
  }
}
