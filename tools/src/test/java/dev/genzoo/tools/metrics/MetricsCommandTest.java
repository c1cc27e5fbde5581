package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genzoo metrics}: each subcommand's last line is {@code NAME VALUE}, parses, and equals both the library's
 * value and the NumPy/SciPy reference of the fixtures (to the printed precision); bad inputs fail with a message that
 * names the file and the problem.
 */
class MetricsCommandTest {
  @TempDir
  Path tmp;

  /** Exit status and captured output of one run. */
  record Run(int status, String out, String err) {
    String lastLine() {
      String[] lines = out.strip().split("\\R");
      return lines[lines.length - 1];
    }

    /** The value of the last line, checking its name. */
    double value(String name) {
      String[] parts = lastLine().split(" ");
      assertEquals(2, parts.length, lastLine());
      assertEquals(name, parts[0], out);
      return Double.parseDouble(parts[1]);
    }
  }

  /** Runs {@code genzoo metrics ARGS} in-process through Main (one line naming the command on errors). */
  static Run metrics(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "metrics";
    System.arraycopy(args, 0, all, 1, args.length);
    dev.genzoo.tools.CliRun.Result r = dev.genzoo.tools.CliRun.run(all);
    return new Run(r.status(), r.out(), r.err());
  }

  Path npy(String fixture, String key) throws Exception {
    Path p = tmp.resolve(key + ".npy");
    Npy.write(p, FrechetTest.fixture(fixture, key));
    return p;
  }

  static String s(Path p) {
    return p.toString();
  }

  @Test
  void fidFromTwoFeatureFiles() throws Exception {
    Path a = npy("metric_fid.npz", "a64");
    Path b = npy("metric_fid.npz", "b64");
    Run r = metrics("fid", "--features", s(a), s(b));
    assertEquals(0, r.status(), r.err());
    double printed = r.value("fid");
    double library = Frechet.distance(FrechetTest.statsOf("a64"), FrechetTest.statsOf("b64"));
    assertEquals(library, printed, 5e-7);
    assertEquals(FrechetTest.scalar("metric_fid.npz", "fid_scipy_a64_b64"), printed, 5e-7);
    assertTrue(r.out().contains("256 x 64") && r.out().contains("320 x 64"), r.out());
  }

  @Test
  void fidWithStatisticsFiles() throws Exception {
    Path a = npy("metric_fid.npz", "s64");
    Path b = npy("metric_fid.npz", "b64");
    Path stats = tmp.resolve("b64_stats.npz");
    Run st = metrics("stats", "--features", s(b), "--out", s(stats));
    assertEquals(0, st.status(), st.err());
    assertEquals("stats " + stats, st.lastLine());
    FeatureStats written = FeatureStats.readNpz(stats);
    assertEquals(320, written.count());
    double expected = FrechetTest.scalar("metric_fid.npz", "fid_eigh_s64_b64");
    Run mixed = metrics("fid", "--features", s(a), "--stats", s(stats));
    assertEquals(0, mixed.status(), mixed.err());
    assertEquals(expected, mixed.value("fid"), 5e-7);
    Path statsA = tmp.resolve("s64_stats.npz");
    assertEquals(0, metrics("stats", "--features", s(a), "--out", s(statsA)).status());
    Run both = metrics("fid", "--stats", s(statsA), s(stats));
    assertEquals(0, both.status(), both.err());
    assertEquals(expected, both.value("fid"), 5e-7);
    assertTrue(both.out().contains("from 320 samples"), both.out());
  }

  @Test
  void kidOneFullSubsetMatchesTheReference() throws Exception {
    Path a = npy("metric_kid.npz", "a");
    Path b = npy("metric_kid.npz", "b");
    Run r = metrics("kid", "--features", s(a), s(b), "--subsets", "1", "--subset-size", "100");
    assertEquals(0, r.status(), r.err());
    assertEquals(FrechetTest.scalar("metric_kid.npz", "mmd2_ab"), r.value("kid"), 5e-6);
  }

  @Test
  void kidDefaultsEqualTheLibrary() throws Exception {
    Path a = npy("metric_kid.npz", "a");
    Path b = npy("metric_kid.npz", "b");
    Run r = metrics("kid", "--features", s(a), s(b), "--subsets", "20", "--subset-size", "50", "--seed", "3");
    assertEquals(0, r.status(), r.err());
    Kid.Result lib = Kid.compute(KidTest.features("a"), 100, KidTest.features("b"), 100, 32, 20, 50, 3);
    assertEquals(lib.mean(), r.value("kid"), 5e-7);
    assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "kid_stderr %.6f", lib.stderr())), r.out());
  }

  @Test
  void inceptionScoreFromLogitsAndProbabilities() throws Exception {
    Path logits = npy("metric_is.npz", "logits");
    Run r = metrics("is", "--logits", s(logits));
    assertEquals(0, r.status(), r.err());
    assertEquals(FrechetTest.fixture("metric_is.npz", "logits_is_10").asDoubles()[0], r.value("is"), 5e-5);
    assertTrue(r.out().contains("is_std"), r.out());
    Run three = metrics("is", "--logits", s(logits), "--splits", "3");
    assertEquals(FrechetTest.fixture("metric_is.npz", "logits_is_3").asDoubles()[0], three.value("is"), 5e-5);
    Path probs = npy("metric_is.npz", "probs");
    Run p = metrics("is", "--probs", s(probs));
    assertEquals(0, p.status(), p.err());
    assertEquals(FrechetTest.fixture("metric_is.npz", "probs_is_10").asDoubles()[0], p.value("is"), 5e-5);
    assertEquals(InceptionScore.compute(InceptionScoreTest.fixture("probs").asFloats(), 250, 20, 10).mean(),
        p.value("is"), 5e-5);
  }

  @Test
  void precisionAndRecall() throws Exception {
    Path real = npy("metric_pr.npz", "real");
    Path fake = npy("metric_pr.npz", "fake");
    Run r = metrics("pr", "--features", s(real), s(fake));
    assertEquals(0, r.status(), r.err());
    double[] expected = FrechetTest.fixture("metric_pr.npz", "pr_k3").asDoubles();
    assertEquals(expected[1], r.value("recall"), 5e-7);
    String[] lines = r.out().strip().split("\\R");
    assertEquals(String.format(java.util.Locale.ROOT, "precision %.6f", expected[0]), lines[lines.length - 2]);
    Run k5 = metrics("pr", "--features", s(real), s(fake), "--k", "5");
    assertEquals(FrechetTest.fixture("metric_pr.npz", "pr_k5").asDoubles()[1], k5.value("recall"), 5e-7);
  }

  // ------------------------------------------------------------------------------------------------- bad input

  void assertFails(Run r, String... fragments) {
    assertTrue(r.status() != 0, "should fail: " + r.out());
    for (String f : fragments) {
      assertTrue(r.err().contains(f), "'" + f + "' missing from: " + r.err());
    }
    assertFalse(r.out().contains("fid ") && r.out().strip().endsWith("0"), r.out());
  }

  @Test
  void wrongDimensionsNameTheFile() throws Exception {
    Path cube = tmp.resolve("cube.npy");
    Npy.write(cube, NpyArray.ofFloats(new float[24], 2, 3, 4));
    Path b = npy("metric_fid.npz", "b64");
    assertFails(metrics("fid", "--features", s(cube), s(b)), "cube.npy", "2-D", "(2, 3, 4)");
    Path vector = tmp.resolve("vector.npy");
    Npy.write(vector, NpyArray.ofFloats(new float[5], 5));
    assertFails(metrics("kid", "--features", s(vector), s(b)), "vector.npy", "(5,)");
  }

  @Test
  void mismatchedFeatureSizesNameBothFiles() throws Exception {
    Path a = npy("metric_fid.npz", "a64");
    Path c = npy("metric_kid.npz", "c");
    assertFails(metrics("fid", "--features", s(a), s(c)), "a64.npy", "c.npy", "64", "32");
    assertFails(metrics("kid", "--features", s(a), s(c)), "a64.npy", "c.npy");
    assertFails(metrics("pr", "--features", s(c), s(a)), "a64.npy", "c.npy");
    Path stats = tmp.resolve("stats32.npz");
    assertEquals(0, metrics("stats", "--features", s(c), "--out", s(stats)).status());
    assertFails(metrics("fid", "--features", s(a), "--stats", s(stats)), "a64.npy", "stats32.npz");
  }

  @Test
  void nanValuesAreReportedWithTheirPosition() throws Exception {
    float[] v = FrechetTest.fixture("metric_kid.npz", "a").asFloats();
    v[7 * 32 + 2] = Float.NaN;
    Path bad = tmp.resolve("nan.npy");
    Npy.write(bad, NpyArray.ofFloats(v, 100, 32));
    Path b = npy("metric_kid.npz", "b");
    assertFails(metrics("kid", "--features", s(bad), s(b)), "nan.npy", "row 7, column 2", "NaN");
    assertFails(metrics("stats", "--features", s(bad), "--out", s(tmp.resolve("x.npz"))), "nan.npy");
    assertFalse(Files.exists(tmp.resolve("x.npz")), "nothing written");
  }

  @Test
  void otherMistakes() throws Exception {
    Path a = npy("metric_fid.npz", "a64");
    assertFails(metrics("fid", "--features", s(a)), "two files");
    Path stats = tmp.resolve("s.npz");
    assertEquals(0, metrics("stats", "--features", s(a), "--out", s(stats)).status());
    assertFails(metrics("fid", "--features", s(stats), s(a)), "s.npz", "--stats");
    assertFails(metrics("fid", "--features", s(tmp.resolve("missing.npy")), s(a)), "missing.npy", "no such file");
    Path logits = npy("metric_is.npz", "logits");
    assertFails(metrics("is", "--logits", s(logits), "--splits", "300"), "logits.npy", "300 splits");
    assertFails(metrics("is", "--probs", s(logits)), "logits.npy", "sample 0");
    Path ints = tmp.resolve("ints.npy");
    Npy.write(ints, NpyArray.ofInts(new int[6], 3, 2));
    assertFails(metrics("is", "--probs", s(ints)), "ints.npy", "float");
    Run both = metrics("is", "--probs", s(logits), "--logits", s(logits));
    assertTrue(both.status() != 0);
  }
}
