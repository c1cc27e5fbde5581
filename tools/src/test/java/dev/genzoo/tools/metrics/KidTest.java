package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.NpyArray;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * KID against Binkowski et al.'s unbiased MMD^2 with the polynomial kernel computed with NumPy (metric_kid.npz:
 * 100 + 100 + 70 vectors of 32 features; full sets, given subset indices, and sets of different sizes).
 */
class KidTest {
  static final int D = 32;

  static float[] features(String key) throws Exception {
    return FrechetTest.fixture("metric_kid.npz", key).asFloats();
  }

  static double scalar(String key) throws Exception {
    return FrechetTest.scalar("metric_kid.npz", key);
  }

  /** Tolerance: the dot products are float multiply-adds, so 1e-6 of the kernel's size. */
  static double tolerance() throws Exception {
    return 1e-6 * scalar("kernel_scale");
  }

  /** One subset of the whole sets is a permutation of them: the full-set estimate. */
  @Test
  void oneFullSubsetIsTheFullSetEstimate() throws Exception {
    Kid.Result r = Kid.compute(features("a"), 100, features("b"), 100, D, 1, 1000, 7);
    assertEquals(100, r.subsetSize());
    assertEquals(scalar("mmd2_ab"), r.mean(), tolerance());
    assertTrue(Double.isNaN(r.stderr()));
    assertEquals(0, r.std(), 0);
  }

  @Test
  void givenSubsetsMatchTheReference() throws Exception {
    NpyArray ia = FrechetTest.fixture("metric_kid.npz", "idx_a");
    NpyArray ib = FrechetTest.fixture("metric_kid.npz", "idx_b");
    long[] a = ia.asLongs();
    long[] b = ib.asLongs();
    double[] expected = FrechetTest.fixture("metric_kid.npz", "mmd2_subsets").asDoubles();
    for (int s = 0; s < 3; s++) {
      int[] ra = new int[40];
      int[] rb = new int[40];
      for (int i = 0; i < 40; i++) {
        ra[i] = (int) a[s * 40 + i];
        rb[i] = (int) b[s * 40 + i];
      }
      assertEquals(expected[s], Kid.mmd2(features("a"), ra, features("b"), rb, D), tolerance(), "subset " + s);
    }
  }

  @Test
  void setsOfDifferentSizesAndHalvesOfOneSet() throws Exception {
    assertEquals(scalar("mmd2_ac"), Kid.mmd2(features("a"), null, features("c"), null, D), tolerance());
    float[] a = features("a");
    float[] first = Arrays.copyOfRange(a, 0, 50 * D);
    float[] second = Arrays.copyOfRange(a, 50 * D, 100 * D);
    assertEquals(scalar("mmd2_aa_halves"), Kid.mmd2(first, null, second, null, D), tolerance());
  }

  /**
   * Several subsets: the mean, population std and standard error are those of the per-subset estimates, each of
   * which is the unbiased MMD^2 of the rows that {@link Kid#subsetRows} reports; draws are without replacement and
   * reproducible per seed.
   */
  @Test
  void subsetsAreReproducibleAndSummarisedCorrectly() throws Exception {
    float[] a = features("a");
    float[] b = features("b");
    Kid.Result r = Kid.compute(a, 100, b, 100, D, 5, 30, 42);
    int[][] rows = Kid.subsetRows(100, 100, 5, 30, 42);
    double[] values = new double[5];
    for (int s = 0; s < 5; s++) {
      assertEquals(30, rows[2 * s].length);
      assertEquals(30, Arrays.stream(rows[2 * s]).distinct().count(), "without replacement");
      assertEquals(30, Arrays.stream(rows[2 * s + 1]).distinct().count(), "without replacement");
      values[s] = Kid.mmd2(a, rows[2 * s], b, rows[2 * s + 1], D);
    }
    assertArrayEquals(values, r.values(), 0);
    double mean = Arrays.stream(values).average().orElseThrow();
    double ss = Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum();
    assertEquals(mean, r.mean(), 1e-15 * Math.abs(mean));
    assertEquals(Math.sqrt(ss / 5), r.std(), 1e-15);
    assertEquals(Math.sqrt(ss / 4) / Math.sqrt(5), r.stderr(), 1e-15);
    assertTrue(r.std() > 0);
    Kid.Result again = Kid.compute(a, 100, b, 100, D, 5, 30, 42);
    assertArrayEquals(r.values(), again.values(), 0);
    Kid.Result other = Kid.compute(a, 100, b, 100, D, 5, 30, 43);
    assertNotEquals(r.mean(), other.mean());
    // Every subset estimates the same MMD^2: the spread is moderate around the full-set value.
    assertEquals(scalar("mmd2_ab"), r.mean(), 0.5 * scalar("mmd2_ab"));
  }

  /** Identical distributions: the unbiased estimate averages to about 0 (it can be negative). */
  @Test
  void sameDistributionGivesAboutZero() throws Exception {
    float[] a = features("a");
    Kid.Result r = Kid.compute(a, 100, a, 100, D, 20, 50, 1);
    assertTrue(Math.abs(r.mean()) < 4 * r.std() + 1e-12, r.toString());
    assertTrue(Arrays.stream(r.values()).anyMatch(v -> v < 0), "the estimator is unbiased, so some are negative");
  }

  @Test
  void badInputsAreRejected() throws Exception {
    float[] a = features("a");
    assertThrows(IllegalArgumentException.class, () -> Kid.compute(a, 100, a, 100, D, 0, 10, 0));
    assertThrows(IllegalArgumentException.class, () -> Kid.compute(a, 100, a, 100, D, 1, 1, 0));
    IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
        () -> Kid.compute(a, 100, a, 99, D, 1, 10, 0));
    assertTrue(len.getMessage().contains("second"), len.getMessage());
    float[] nan = a.clone();
    nan[5 * D + 3] = Float.NaN;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Kid.compute(nan, 100, a, 100, D, 1, 10, 0));
    assertTrue(e.getMessage().contains("vector 5, component 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Kid.mmd2(a, new int[] {0, 100}, a, null, D));
  }
}
