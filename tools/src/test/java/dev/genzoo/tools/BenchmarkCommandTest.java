package dev.genzoo.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.tools.metrics.TinyInceptionGraph;
import dev.genzoo.zoo.Zoo;
import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genzoo benchmark} end to end on the embedded flow-mnist (28 x 28 x 1 samples) with the tiny stand-in for the
 * Inception graph. Expected values come from the math, computed here independently of the command: the samples are
 * drawn again with the documented seeds, embedded by {@link TinyInceptionGraph#reference} (plain Java), and FID and
 * the Inception Score are computed from those features with a Jacobi eigensolver and the improved-gan formula.
 */
class BenchmarkCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int N = 64;
  private static final int CHUNK = 32;
  private static final long SEED = 3;
  private static final int REF_N = 40;

  @TempDir
  Path tmp;

  private String out;
  private String err;

  @BeforeEach
  void home() {
    System.setProperty("genzoo.home", tmp.resolve("home").toString());
  }

  @AfterEach
  void release() {
    System.clearProperty("genzoo.home");
  }

  /** Runs {@code genzoo benchmark ARGS} in-process, capturing both streams. */
  private int benchmark(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "benchmark";
    System.arraycopy(args, 0, all, 1, args.length);
    CliRun.Result r = CliRun.run(all);
    out = r.out();
    err = r.err();
    return r.status();
  }

  @Test
  void endToEndReportMatchesTheMathAndASecondRunResumes() throws Exception {
    Path graph = TinyInceptionGraph.write(tmp.resolve("graph"));
    Path refNpy = tmp.resolve("ref.npy");
    byte[] refPixels = new byte[REF_N * 28 * 28];
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < refPixels.length; i++) {
      refPixels[i] = (byte) rnd.nextInt(256);
    }
    Npy.write(refNpy, NpyArray.ofUint8(refPixels, REF_N, 28, 28));
    Path dir = tmp.resolve("bench");
    String[] args = {"flow-mnist", "--metrics", "fid,is,kid", "--samples", "" + N, "--chunk", "" + CHUNK, "--seed",
        "" + SEED, "--ref", "data:npy:" + refNpy, "--inception-graph", graph.toString(), "--out", dir.toString(),
        "--is-splits", "4", "--kid-subsets", "10", "--kid-subset-size", "20", "--feature-batch", "16", "--quiet"};
    // An interrupted run stands in first: only its first chunk (of 32 images) is in the cache.
    String[] firstChunk = args.clone();
    firstChunk[4] = "" + CHUNK;
    assertEquals(0, benchmark(firstChunk), err);
    Path samplesCache = dir.resolve("cache").resolve("samples");
    Map<Path, FileTime> chunk0 = chunkTimes(samplesCache);
    assertEquals(2, chunk0.size(), chunk0::toString);
    Thread.sleep(20);
    assertEquals(0, benchmark(args), err);
    Map<Path, FileTime> extended = chunkTimes(samplesCache);
    assertEquals(4, extended.size(), extended::toString);
    for (Map.Entry<Path, FileTime> e : chunk0.entrySet()) {
      assertEquals(e.getValue(), extended.get(e.getKey()), () -> e.getKey() + " was written again");
    }

    // The expected numbers: samples drawn again chunk by chunk, embedded in plain Java.
    TinyInceptionGraph.Weights wt = TinyInceptionGraph.weights();
    int d = TinyInceptionGraph.DIM;
    int k = TinyInceptionGraph.CLASSES;
    double[] fake = new double[N * d];
    double[] fakeProbs = new double[N * k];
    int nonFinite = 0;
    try (GenerativeModel m = Zoo.load("flow-mnist")) {
      for (int c = 0; c < N / CHUNK; c++) {
        float[] x = m.sample(CHUNK, new SampleOptions(Seeds.mix(SEED, c), 1.0, null, 0, 0)).data();
        for (int i = 0; i < CHUNK; i++) {
          for (int j = i * 28 * 28; j < (i + 1) * 28 * 28; j++) {
            if (!Float.isFinite(x[j])) {
              nonFinite++;
              break;
            }
          }
        }
        double[][] ref = TinyInceptionGraph.reference(wt, rgb255(x, CHUNK, true), CHUNK, 28, 28, false);
        System.arraycopy(ref[0], 0, fake, c * CHUNK * d, CHUNK * d);
        System.arraycopy(ref[1], 0, fakeProbs, c * CHUNK * k, CHUNK * k);
      }
    }
    float[] refFloats = new float[refPixels.length];
    for (int i = 0; i < refPixels.length; i++) {
      refFloats[i] = (refPixels[i] & 0xff) / 255f;
    }
    double[] real = TinyInceptionGraph.reference(wt, rgb255(refFloats, REF_N, false), REF_N, 28, 28, false)[0];
    double[][] fs = meanCov(fake, N, d);
    double[][] rs = meanCov(real, REF_N, d);
    double expectedFid = fid(fs[0], fs[1], rs[0], rs[1], d);
    double[] expectedIs = inceptionScore(fakeProbs, N, k, 4);

    JsonNode r = JSON.readTree(dir.resolve("report.json").toFile());
    assertEquals("genzoo-benchmark-report", r.path("format").asText());
    Map<String, JsonNode> metrics = metrics(r);
    assertEquals(java.util.List.of("fid", "inception_score", "kid"), java.util.List.copyOf(metrics.keySet()));
    assertEquals(expectedFid, metrics.get("fid").path("value").asDouble(), 1e-3 * Math.max(1, expectedFid));
    assertEquals(expectedIs[0], metrics.get("inception_score").path("value").asDouble(), 1e-4);
    assertEquals(expectedIs[1], metrics.get("inception_score").path("uncertainty").asDouble(), 1e-4);
    JsonNode kid = metrics.get("kid");
    assertTrue(Double.isFinite(kid.path("value").asDouble()) && kid.path("uncertainty").asDouble() >= 0, kid::toString);
    assertTrue(kid.path("protocol").asText().contains("10 subsets of 20"), kid::toString);

    // Protocol fields: counts, seed, graph and its SHA-256 (computed here), the reference.
    String graphSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(graph)));
    JsonNode p = r.path("protocol");
    assertEquals(N, p.path("samples").asInt());
    assertEquals(SEED, p.path("seed").asLong());
    assertEquals("default", p.path("sampler").asText());
    assertEquals(nonFinite, p.path("non_finite_samples").asInt());
    assertEquals(graphSha, p.path("inception").path("sha256").asText());
    assertEquals(d, p.path("inception").path("feature_dim").asInt());
    assertEquals(REF_N, p.path("reference").path("count").asInt());
    assertTrue(p.path("reference").path("has_features").asBoolean());
    for (JsonNode m : metrics.values()) {
      String proto = m.path("protocol").asText();
      assertTrue(proto.contains("64 samples") && proto.contains("seed " + SEED) && proto.contains(graphSha), proto);
    }
    assertTrue(metrics.get("fid").path("protocol").asText().contains(REF_N + " images"));
    assertTrue(r.path("model").path("manifest_sha256").asText().matches("[0-9a-f]{64}"));
    assertTrue(r.path("timing").path("sampling_images_per_second").asDouble() > 0);
    assertTrue(r.path("timing").path("feature_images_per_second").asDouble() > 0);
    assertEquals(CHUNK, r.path("resume").path("sampled_images").asInt());
    assertEquals(1, r.path("resume").path("cached_chunks").asInt());
    assertEquals(2, r.path("resume").path("runs").asInt());
    String md = Files.readString(dir.resolve("report.md"));
    assertTrue(md.contains("| fid |") && md.contains("inception_score") && md.contains(graphSha), md);
    BufferedImage grid = ImageIO.read(dir.resolve("samples.png").toFile());
    assertTrue(grid.getWidth() >= 8 * 28 && grid.getHeight() >= 8 * 28, grid.getWidth() + "x" + grid.getHeight());

    // The same command again resumes: nothing is sampled, the chunk files are untouched, the numbers are the same.
    Map<Path, FileTime> times = chunkTimes(samplesCache);
    assertEquals(4, times.size(), times::toString);
    Thread.sleep(20);
    assertEquals(0, benchmark(args), err);
    JsonNode again = JSON.readTree(dir.resolve("report.json").toFile());
    assertEquals(0, again.path("resume").path("sampled_images").asInt());
    assertEquals(2, again.path("resume").path("cached_chunks").asInt());
    assertEquals(3, again.path("resume").path("runs").asInt());
    assertEquals(times, chunkTimes(samplesCache));
    assertEquals(metrics.get("fid").path("value").asDouble(), metrics(again).get("fid").path("value").asDouble(),
        0.0);

    // Precomputed statistics (mu, sigma of the reference, computed here) give the same FID, still from the cache.
    Path stats = tmp.resolve("ref-stats.npz");
    writeNpz(stats, Map.of("mu", NpyArray.ofDoubles(rs[0], d), "sigma", NpyArray.ofDoubles(rs[1], d, d)));
    String[] statsArgs = args.clone();
    statsArgs[2] = "fid";
    statsArgs[10] = "stats:" + stats;
    assertEquals(0, benchmark(statsArgs), err);
    JsonNode viaStats = JSON.readTree(dir.resolve("report.json").toFile());
    assertEquals(0, viaStats.path("resume").path("sampled_images").asInt());
    assertEquals(expectedFid, metrics(viaStats).get("fid").path("value").asDouble(), 1e-3 * Math.max(1, expectedFid));
    assertEquals(times, chunkTimes(samplesCache));

    // Another seed into the same folder is refused, naming the field and the way out.
    String[] otherSeed = args.clone();
    otherSeed[8] = "4";
    assertEquals(1, benchmark(otherSeed));
    assertTrue(err.contains("seed") && err.contains("--fresh"), err);
  }

  @Test
  void bitsPerDimAreMeasuredOrSkipped() throws Exception {
    Path test = tmp.resolve("test.npy");
    byte[] px = new byte[8 * 28 * 28];
    SplittableRandom rnd = new SplittableRandom(11);
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (rnd.nextInt(4) == 0 ? 255 : 0);
    }
    Npy.write(test, NpyArray.ofUint8(px, 8, 28, 28));
    Path dir = tmp.resolve("bpd");
    assertEquals(0, benchmark("flow-mnist", "--metrics", "bpd", "--samples", "16", "--chunk", "16", "--data",
        "npy:" + test, "--out", dir.toString(), "--quiet"), err);
    JsonNode r = JSON.readTree(dir.resolve("report.json").toFile());
    JsonNode bpd = metrics(r).get("bpd");
    assertTrue(bpd != null && bpd.path("value").asDouble() > 0 && "bits/dim".equals(bpd.path("unit").asText()),
        r::toString);
    assertTrue(bpd.path("protocol").asText().contains("npy:" + test), bpd::toString);
    assertTrue(Files.isRegularFile(dir.resolve("samples.png")));

    Path rbm = tmp.resolve("rbm");
    assertEquals(0, benchmark("rbm-mnist", "--metrics", "bpd", "--samples", "4", "--chunk", "4", "--out",
        rbm.toString(), "--quiet"), err);
    assertTrue(out.contains("bpd skipped: rbm models have no likelihood"), out);
    JsonNode rr = JSON.readTree(rbm.resolve("report.json").toFile());
    assertEquals("bpd", rr.path("skipped").get(0).path("name").asText());
    assertEquals(0, rr.path("metrics").size());
  }

  @Test
  void badArgumentsAreNamed() throws Exception {
    Path graph = TinyInceptionGraph.write(tmp.resolve("graph"));
    Path stats = tmp.resolve("s.npz");
    writeNpz(stats, Map.of("mu", NpyArray.ofDoubles(new double[8], 8), "sigma",
        NpyArray.ofDoubles(new double[64], 8, 8)));
    String g = graph.toString();
    String o = tmp.resolve("o").toString();
    assertEquals(1, benchmark("flow-mnist", "--metrics", "fid,foo", "--inception-graph", g, "--out", o));
    assertTrue(err.contains("--metrics") && err.contains("'foo'"), err);
    assertEquals(1, benchmark("flow-mnist", "--ref", "bogus:x", "--inception-graph", g, "--out", o));
    assertTrue(err.contains("--ref") && err.contains("bogus:x"), err);
    assertEquals(1, benchmark("flow-mnist", "--metrics", "kid", "--ref", "stats:" + stats, "--out", o));
    assertTrue(err.contains("kid") && err.contains("stats"), err);
    assertEquals(1, benchmark("flow-mnist", "--ref", "stats:" + tmp.resolve("none.npz"), "--out", o));
    assertTrue(err.contains("none.npz"), err);
    assertEquals(1, benchmark("flow-mnist", "--samples", "1", "--out", o));
    assertTrue(err.contains("--samples"), err);
    assertEquals(1, benchmark("flow-mnist", "--inception-graph", tmp.resolve("missing.pb").toString(), "--out", o));
    assertTrue(err.contains("--inception-graph") && err.contains("missing.pb"), err);
    assertEquals(1, benchmark("flow-mnist", "--metrics", "bpd", "--out", o));
    assertTrue(err.contains("--data"), err);
    assertEquals(1, benchmark("flow-8gaussians", "--inception-graph", g, "--ref", "stats:" + stats, "--out", o));
    assertTrue(err.contains("image models") && err.contains("flow-8gaussians"), err);
    assertNotEquals(0, benchmark("flow-mnist", "--samples", "many"));
    assertTrue(err.contains("--samples"), err);
    assertTrue(!Files.exists(tmp.resolve("o").resolve("report.json")));
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private static Map<String, JsonNode> metrics(JsonNode report) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    for (JsonNode x : report.path("metrics")) {
      m.put(x.path("name").asText(), x);
    }
    return m;
  }

  private static Map<Path, FileTime> chunkTimes(Path dir) throws Exception {
    Map<Path, FileTime> t = new java.util.TreeMap<>();
    try (var list = Files.list(dir)) {
      for (Path f : (Iterable<Path>) list::iterator) {
        if (f.getFileName().toString().matches("(features|probs)-\\d+\\.npy")) {
          t.put(f, Files.getLastModifiedTime(f));
        }
      }
    }
    return t;
  }

  private static void writeNpz(Path file, Map<String, NpyArray> arrays) throws Exception {
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
      for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
        z.write(Npy.toBytes(e.getValue()));
        z.closeEntry();
      }
    }
  }

  /**
   * Grayscale [n, 28, 28] in [0, 1] to RGB 0..255, rounded to 8 bits as the benchmark feeds samples (NaN as 0:
   * Math.round(NaN) is 0; infinities clamped).
   */
  private static float[] rgb255(float[] gray, int n, boolean clamp) {
    float[] out = new float[gray.length * 3];
    for (int i = 0; i < gray.length; i++) {
      float v = clamp ? Math.min(1f, Math.max(0f, gray[i])) : gray[i];
      float q = Math.round(v * 255f);
      out[3 * i] = q;
      out[3 * i + 1] = q;
      out[3 * i + 2] = q;
    }
    return out;
  }

  /** Mean and unbiased covariance (n - 1), as numpy.mean and numpy.cov(rowvar=False). */
  private static double[][] meanCov(double[] x, int n, int d) {
    double[] mu = new double[d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        mu[j] += x[i * d + j] / n;
      }
    }
    double[] s = new double[d * d];
    for (int i = 0; i < n; i++) {
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          s[a * d + b] += (x[i * d + a] - mu[a]) * (x[i * d + b] - mu[b]) / (n - 1);
        }
      }
    }
    return new double[][] {mu, s};
  }

  /**
   * FID = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with tr((S1 S2)^(1/2)) = tr((A S2 A)^(1/2)) for
   * A = S1^(1/2), both square roots from symmetric eigendecompositions.
   */
  private static double fid(double[] mu1, double[] s1, double[] mu2, double[] s2, int d) {
    double dm = 0;
    for (int i = 0; i < d; i++) {
      dm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    double[] a = sqrtPsd(s1, d);
    double[] m = mul(mul(a, s2, d), a, d);
    double[][] eig = jacobi(m, d);
    double trSqrt = 0;
    for (int i = 0; i < d; i++) {
      trSqrt += Math.sqrt(Math.max(0, eig[0][i]));
    }
    double tr = 0;
    for (int i = 0; i < d; i++) {
      tr += s1[i * d + i] + s2[i * d + i];
    }
    return dm + tr - 2 * trSqrt;
  }

  private static double[] sqrtPsd(double[] s, int d) {
    double[][] e = jacobi(s, d);
    double[] out = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double v = 0;
        for (int k = 0; k < d; k++) {
          v += e[1][i * d + k] * Math.sqrt(Math.max(0, e[0][k])) * e[1][j * d + k];
        }
        out[i * d + j] = v;
      }
    }
    return out;
  }

  private static double[] mul(double[] a, double[] b, int d) {
    double[] c = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int k = 0; k < d; k++) {
        for (int j = 0; j < d; j++) {
          c[i * d + j] += a[i * d + k] * b[k * d + j];
        }
      }
    }
    return c;
  }

  /** Cyclic Jacobi eigendecomposition of a symmetric matrix: {eigenvalues, eigenvectors as columns}. */
  private static double[][] jacobi(double[] sym, int d) {
    double[] a = sym.clone();
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < i; j++) {
        double avg = 0.5 * (a[i * d + j] + a[j * d + i]);
        a[i * d + j] = avg;
        a[j * d + i] = avg;
      }
    }
    double[] v = new double[d * d];
    for (int i = 0; i < d; i++) {
      v[i * d + i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int p = 0; p < d; p++) {
        for (int q = p + 1; q < d; q++) {
          off += a[p * d + q] * a[p * d + q];
        }
      }
      if (off < 1e-30) {
        break;
      }
      for (int p = 0; p < d; p++) {
        for (int q = p + 1; q < d; q++) {
          double apq = a[p * d + q];
          if (Math.abs(apq) < 1e-300) {
            continue;
          }
          double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < d; k++) {
            double akp = a[k * d + p];
            double akq = a[k * d + q];
            a[k * d + p] = c * akp - s * akq;
            a[k * d + q] = s * akp + c * akq;
          }
          for (int k = 0; k < d; k++) {
            double apk = a[p * d + k];
            double aqk = a[q * d + k];
            a[p * d + k] = c * apk - s * aqk;
            a[q * d + k] = s * apk + c * aqk;
          }
          for (int k = 0; k < d; k++) {
            double vkp = v[k * d + p];
            double vkq = v[k * d + q];
            v[k * d + p] = c * vkp - s * vkq;
            v[k * d + q] = s * vkp + c * vkq;
          }
        }
      }
    }
    double[] ev = new double[d];
    for (int i = 0; i < d; i++) {
      ev[i] = a[i * d + i];
    }
    return new double[][] {ev, v};
  }

  /**
   * The Inception Score as openai/improved-gan computes it: for each of {@code splits} consecutive parts,
   * exp(mean_x KL(p(y|x) || p(y))) with p(y) the part's mean; returns {mean, std (ddof 0)} over the parts.
   */
  private static double[] inceptionScore(double[] p, int n, int k, int splits) {
    double[] scores = new double[splits];
    for (int s = 0; s < splits; s++) {
      int from = s * n / splits;
      int to = (s + 1) * n / splits;
      double[] py = new double[k];
      for (int i = from; i < to; i++) {
        for (int j = 0; j < k; j++) {
          py[j] += p[i * k + j] / (to - from);
        }
      }
      double kl = 0;
      for (int i = from; i < to; i++) {
        for (int j = 0; j < k; j++) {
          double v = p[i * k + j];
          kl += v * (Math.log(v) - Math.log(py[j]));
        }
      }
      scores[s] = Math.exp(kl / (to - from));
    }
    double mean = 0;
    for (double v : scores) {
      mean += v / splits;
    }
    double var = 0;
    for (double v : scores) {
      var += (v - mean) * (v - mean) / splits;
    }
    return new double[] {mean, Math.sqrt(var)};
  }
}
