package dev.genzoo.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SmoothingTest {
  @Test
  void trailingMeanOverTheWindow() {
    assertArrayEquals(new double[] {1, 1.5, 2.5, 3.5, 4.5},
        Smoothing.movingAverage(new double[] {1, 2, 3, 4, 5}, 2), 1e-12);
    assertArrayEquals(new double[] {1, 1.5, 2, 3, 4},
        Smoothing.movingAverage(new double[] {1, 2, 3, 4, 5}, 3), 1e-12);
    assertArrayEquals(new double[] {7, 2}, Smoothing.movingAverage(new double[] {7, 2}, 1), 0);
  }

  @Test
  void nonFiniteValuesAreLeftOutOfTheMeans() {
    double[] v = {1, Double.NaN, 3, Double.POSITIVE_INFINITY, 5};
    // windows of 3: {1}, {1}, {1, 3}, {3}, {3, 5}
    assertArrayEquals(new double[] {1, 1, 2, 3, 4}, Smoothing.movingAverage(v, 3), 1e-12);
    double[] gap = Smoothing.movingAverage(new double[] {Double.NaN, Double.NaN, 2}, 1);
    assertTrue(Double.isNaN(gap[0]) && Double.isNaN(gap[1]));
    assertArrayEquals(new double[] {2}, new double[] {gap[2]}, 0);
  }

  @Test
  void longSeriesStayAccurate() {
    // a constant plus alternating noise: every window of even length averages to the constant exactly
    double[] v = new double[100_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = 1e4 + ((i % 2 == 0) ? 0.125 : -0.125);
    }
    double[] m = Smoothing.movingAverage(v, 100);
    for (int i = 99; i < v.length; i += 2) {
      assertTrue(Math.abs(m[i] - 1e4) < 1e-9, "mean at " + i + " is " + m[i]);
    }
  }

  @Test
  void windowMustBePositive() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Smoothing.movingAverage(new double[] {1}, 0));
    assertTrue(e.getMessage().contains("window"), e.getMessage());
  }
}
