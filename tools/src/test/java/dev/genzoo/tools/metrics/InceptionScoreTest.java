package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Inception Score against improved-gan's inception_score.py formula computed with NumPy on the fixture logits
 * (metric_is.npz: 250 samples, 20 classes; 10, 3 and 1 splits, so split sizes 25, 83/83/84 and 250), and against
 * closed forms.
 */
class InceptionScoreTest {
  static NpyArray fixture(String key) throws Exception {
    return FrechetTest.fixture("metric_is.npz", key);
  }

  @ParameterizedTest
  @ValueSource(ints = {10, 3, 1})
  void fromLogitsMatchesTheReferenceFormula(int splits) throws Exception {
    float[] logits = fixture("logits").asFloats();
    double[] expected = fixture("logits_is_" + splits).asDoubles();
    InceptionScore.Result r = InceptionScore.computeFromLogits(logits, 250, 20, splits);
    assertEquals(expected[0], r.mean(), 1e-12 * expected[0]);
    assertEquals(expected[1], r.std(), 1e-11 * expected[0]);
    assertArrayEquals(fixture("logits_scores_" + splits).asDoubles(), r.splitScores(), 1e-12 * expected[0]);
  }

  @Test
  void fromFloat32ProbabilitiesMatchesTheReferenceFormula() throws Exception {
    float[] probs = fixture("probs").asFloats();
    double[] expected = fixture("probs_is_10").asDoubles();
    InceptionScore.Result r = InceptionScore.compute(probs, 250, 20, 10);
    assertEquals(expected[0], r.mean(), 1e-12 * expected[0]);
    assertEquals(expected[1], r.std(), 1e-11 * expected[0]);
  }

  /** Uniform predictions: p(y|x) = p(y), KL = 0, IS = 1. */
  @Test
  void uniformPredictionsScoreOne() {
    int n = 40;
    int c = 8;
    float[] p = new float[n * c];
    java.util.Arrays.fill(p, 1f / c);
    InceptionScore.Result r = InceptionScore.compute(p, n, c, 4);
    assertEquals(1, r.mean(), 1e-6);
    assertEquals(0, r.std(), 1e-7);
  }

  /**
   * Confident, balanced predictions over C classes: KL = log C, IS = C, with zero probabilities (0 log 0 = 0). With
   * splits that see only some classes the score is the number of classes in the split.
   */
  @Test
  void oneHotBalancedPredictionsScoreTheClassCount() {
    int n = 24;
    int c = 6;
    float[] p = new float[n * c];
    for (int i = 0; i < n; i++) {
      p[i * c + i % c] = 1;
    }
    InceptionScore.Result whole = InceptionScore.compute(p, n, c, 1);
    assertEquals(6, whole.mean(), 1e-12);
    // Rows sorted by class: split i (of 3) holds classes 2i and 2i + 1 only: score 2 each.
    float[] sorted = new float[n * c];
    for (int i = 0; i < n; i++) {
      sorted[i * c + i / 4] = 1;
    }
    InceptionScore.Result three = InceptionScore.compute(sorted, n, c, 3);
    assertEquals(2, three.mean(), 1e-12);
    assertEquals(0, three.std(), 1e-12);
  }

  @Test
  void softmaxIsStableForLargeLogits() {
    double[] p = InceptionScore.softmax(new float[] {1000, 1000, 0, -1000}, 1, 4);
    assertEquals(0.5, p[0], 1e-15);
    assertEquals(0.5, p[1], 1e-15);
    assertEquals(0.5 * Math.exp(-1000), p[2], 0);
    assertEquals(0, p[3], 0);
  }

  @Test
  void badInputsAreRejected() {
    IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
        () -> InceptionScore.compute(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 2, 2, 10));
    assertTrue(few.getMessage().contains("2 samples") && few.getMessage().contains("10 splits"), few.getMessage());
    IllegalArgumentException sum = assertThrows(IllegalArgumentException.class,
        () -> InceptionScore.compute(new float[] {0.5f, 0.5f, 0.9f, 0.5f}, 2, 2, 1));
    assertTrue(sum.getMessage().contains("sample 1") && sum.getMessage().contains("sum"), sum.getMessage());
    IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
        () -> InceptionScore.compute(new float[] {1.5f, -0.5f}, 1, 2, 1));
    assertTrue(neg.getMessage().contains("class 1"), neg.getMessage());
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> InceptionScore.computeFromLogits(new float[] {1, Float.NaN}, 1, 2, 1));
    assertTrue(nan.getMessage().contains("NaN"), nan.getMessage());
    assertThrows(IllegalArgumentException.class, () -> InceptionScore.compute(new float[3], 2, 2, 1));
    assertThrows(IllegalArgumentException.class, () -> InceptionScore.compute(new float[4], 2, 2, 0));
  }
}
