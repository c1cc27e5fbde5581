package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Improved precision and recall against a NumPy brute-force computation (metric_pr.npz: 200 real and 150 generated
 * 8-d vectors, k = 1, 3, 5; the script checks that no distance is within 1e-4 of a radius, so float dot products
 * cannot flip a decision), and against configurations with known answers.
 */
class PrecisionRecallTest {
  static final int D = 8;

  static float[] features(String key) throws Exception {
    return FrechetTest.fixture("metric_pr.npz", key).asFloats();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 5})
  void matchesNumpyBruteForce(int k) throws Exception {
    float[] real = features("real");
    float[] fake = features("fake");
    double[] expected = FrechetTest.fixture("metric_pr.npz", "pr_k" + k).asDoubles();
    PrecisionRecall.Result r = PrecisionRecall.compute(real, 200, fake, 150, D, k);
    assertEquals(expected[0], r.precision(), 1e-12);
    assertEquals(expected[1], r.recall(), 1e-12);
    double[] radii = FrechetTest.fixture("metric_pr.npz", "radii2_real_k" + k).asDoubles();
    double[] got = PrecisionRecall.kthNeighbourDistances2(real, 200, D, k);
    for (int i = 0; i < 200; i++) {
      assertEquals(radii[i], got[i], 1e-5 * radii[i], "radius " + i);
    }
  }

  @Test
  void aSetAgainstItselfHasFullPrecisionAndRecall() throws Exception {
    float[] real = features("real");
    PrecisionRecall.Result r = PrecisionRecall.compute(real, 200, real, 200, D, 3);
    assertEquals(1, r.precision(), 0);
    assertEquals(1, r.recall(), 0);
  }

  /**
   * Points on a line: real at 0..9, generated at 0.5..4.5 and 100. With k = 1 every real radius is 1, so the points
   * 0.5..4.5 are inside and 100 is not: precision 5/6. The generated radii are 1 (0.5..4.5) and 95.5 (100, whose
   * nearest neighbour is 4.5), so the ball around 100 reaches down to 4.5 and every real point from 5 to 9 is covered
   * by it, as are 0..5 by the others: recall 1.
   */
  @Test
  void pointsOnALine() {
    float[] real = new float[10];
    for (int i = 0; i < 10; i++) {
      real[i] = i;
    }
    float[] fake = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 100f};
    PrecisionRecall.Result r = PrecisionRecall.compute(real, 10, fake, 6, 1, 1);
    assertEquals(5.0 / 6, r.precision(), 1e-15);
    assertEquals(1, r.recall(), 0);
    double[] radii = PrecisionRecall.kthNeighbourDistances2(fake, 6, 1, 1);
    assertArrayEquals(new double[] {1, 1, 1, 1, 1, 95.5 * 95.5}, radii, 1e-9);
  }

  /** Duplicates are neighbours at distance 0; the vector itself is not. */
  @Test
  void duplicatesCountAsNeighbours() {
    float[] x = {0, 0, 3, 7};
    assertArrayEquals(new double[] {0, 0, 9, 16}, PrecisionRecall.kthNeighbourDistances2(x, 4, 1, 1), 1e-12);
    assertArrayEquals(new double[] {9, 9, 9, 49}, PrecisionRecall.kthNeighbourDistances2(x, 4, 1, 2), 1e-12);
  }

  /**
   * More vectors than one tile (128) and groups of four with a remainder (299 and 257), checked against a
   * straightforward double-precision implementation of the definition.
   */
  @Test
  void chunkBoundariesAgreeWithTheDefinition() {
    SplittableRandom rnd = new SplittableRandom(5);
    int d = 40;
    float[] real = new float[299 * d];
    float[] fake = new float[257 * d];
    for (int i = 0; i < real.length; i++) {
      real[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < fake.length; i++) {
      fake[i] = (float) (rnd.nextGaussian() * 1.2 + 0.1);
    }
    double[] rr = bruteRadii(real, 299, d, 4);
    double[] rf = bruteRadii(fake, 257, d, 4);
    assertArrayEquals(rr, PrecisionRecall.kthNeighbourDistances2(real, 299, d, 4), 1e-5 * d);
    int inReal = 0;
    for (int i = 0; i < 257; i++) {
      inReal += inside(fake, i, real, 299, d, rr) ? 1 : 0;
    }
    int inFake = 0;
    for (int i = 0; i < 299; i++) {
      inFake += inside(real, i, fake, 257, d, rf) ? 1 : 0;
    }
    PrecisionRecall.Result r = PrecisionRecall.compute(real, 299, fake, 257, d, 4);
    assertEquals(inReal / 257.0, r.precision(), 1e-15);
    assertEquals(inFake / 299.0, r.recall(), 1e-15);
    assertTrue(r.precision() > 0 && r.precision() < 1 && r.recall() > 0 && r.recall() < 1, r.toString());
  }

  static double dist2(float[] x, int i, float[] y, int j, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) {
      double t = (double) x[i * d + k] - y[j * d + k];
      s += t * t;
    }
    return s;
  }

  static double[] bruteRadii(float[] x, int n, int d, int k) {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      double[] all = new double[n - 1];
      for (int j = 0, p = 0; j < n; j++) {
        if (j != i) {
          all[p++] = dist2(x, i, x, j, d);
        }
      }
      Arrays.sort(all);
      out[i] = all[k - 1];
    }
    return out;
  }

  static boolean inside(float[] x, int i, float[] centres, int n, int d, double[] radii) {
    for (int j = 0; j < n; j++) {
      if (dist2(x, i, centres, j, d) <= radii[j]) {
        return true;
      }
    }
    return false;
  }

  @Test
  void badInputsAreRejected() {
    float[] x = {0, 1, 2};
    IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
        () -> PrecisionRecall.compute(x, 3, x, 3, 1, 3));
    assertTrue(few.getMessage().contains("at least 4"), few.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PrecisionRecall.compute(x, 3, x, 3, 1, 0));
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> PrecisionRecall.compute(x, 3, new float[] {0, Float.POSITIVE_INFINITY, 1}, 3, 1, 1));
    assertTrue(nan.getMessage().contains("generated") && nan.getMessage().contains("vector 1"), nan.getMessage());
  }
}
