package dev.genzoo.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TicksTest {
  @Test
  void niceStepIsTheSmallestOneTwoFiveTimesAPowerOfTenNotBelowTheRawStep() {
    assertEquals(0.1, Ticks.niceStep(0.07));
    assertEquals(0.5, Ticks.niceStep(0.3));
    assertEquals(1.0, Ticks.niceStep(1.0));
    assertEquals(2.0, Ticks.niceStep(1.01));
    assertEquals(5.0, Ticks.niceStep(2.5));
    assertEquals(10.0, Ticks.niceStep(7));
    assertEquals(200.0, Ticks.niceStep(120));
    assertEquals(5e-7, Ticks.niceStep(3e-7));
    assertEquals(2e9, Ticks.niceStep(1.5e9));
    assertThrows(IllegalArgumentException.class, () -> Ticks.niceStep(0));
    assertThrows(IllegalArgumentException.class, () -> Ticks.niceStep(Double.NaN));
  }

  @Test
  void linearTicksAreMultiplesOfTheStepInsideTheRange() {
    assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}, Ticks.linear(0, 1, 5));
    assertArrayEquals(new double[] {0, 5, 10}, Ticks.linear(-3.7, 12.1, 5));
    assertArrayEquals(new double[] {0, 20000, 40000, 60000, 80000, 100000}, Ticks.linear(0, 100000, 5));
    assertArrayEquals(new double[] {0.001, 0.0011, 0.0012, 0.0013}, Ticks.linear(0.001, 0.0013, 3));
    assertArrayEquals(new double[] {-1, -0.9, -0.8, -0.7, -0.6, -0.5}, Ticks.linear(-1, -0.5, 5));
    assertArrayEquals(new double[] {-2, -1, 0, 1, 2}, Ticks.linear(-2.1, 2.1, 5));
    assertArrayEquals(new double[] {0.3}, Ticks.linear(0.25, 0.35, 1));
    // zero is +0, never -0
    double[] t = Ticks.linear(-1, 1, 2);
    assertArrayEquals(new double[] {-1, 0, 1}, t);
    assertEquals(0, Double.compare(t[1], 0.0));
  }

  @Test
  void linearRejectsEmptyAndNonFiniteRanges() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ticks.linear(1, 1, 5));
    assertTrue(e.getMessage().contains("range"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Ticks.linear(0, Double.POSITIVE_INFINITY, 5));
    assertThrows(IllegalArgumentException.class, () -> Ticks.linear(0, 1, 0));
  }

  @Test
  void logTicksArePowersOfTenOrOneTwoFiveForShortRanges() {
    assertArrayEquals(new double[] {1, 10, 100, 1000}, Ticks.log(1, 1000, 5));
    // eight decades, five wanted: every second power of ten, on even exponents
    assertArrayEquals(new double[] {1e-2, 1, 1e2, 1e4}, Ticks.log(1e-3, 1e4, 5));
    // under three decades: 1, 2, 5 times powers of ten
    assertArrayEquals(new double[] {0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}, Ticks.log(0.018, 3, 5));
    // not even two of those: linear ticks
    assertArrayEquals(new double[] {1.2, 1.4, 1.6, 1.8}, Ticks.log(1.1, 1.9, 4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ticks.log(0, 10, 5));
    assertTrue(e.getMessage().contains("positive"), e.getMessage());
  }

  @Test
  void labelsUseTheDecimalsTheStepNeeds() {
    assertArrayEquals(new String[] {"0", "0.2", "0.4"}, Ticks.labels(new double[] {0, 0.2, 0.4}));
    assertArrayEquals(new String[] {"-10", "-5", "0", "5"}, Ticks.labels(new double[] {-10, -5, 0, 5}));
    assertArrayEquals(new String[] {"0", "0.25", "0.50"}, Ticks.labels(new double[] {0, 0.25, 0.5}));
    assertArrayEquals(new String[] {"0", "20000", "40000"}, Ticks.labels(new double[] {0, 20000, 40000}));
    assertArrayEquals(new String[] {"0.0010", "0.0011"}, Ticks.labels(new double[] {0.001, 0.0011}));
    assertArrayEquals(new String[] {"0.3", "0.4"}, Ticks.labels(new double[] {0.1 + 0.2, 0.4}));
  }

  @Test
  void labelsSwitchToScientificNotationForHugeAndTinyValues() {
    assertArrayEquals(new String[] {"0", "2e6", "4e6"}, Ticks.labels(new double[] {0, 2e6, 4e6}));
    assertArrayEquals(new String[] {"1.0e-5", "1.5e-5", "2.0e-5"}, Ticks.labels(new double[] {1e-5, 1.5e-5, 2e-5}));
    assertArrayEquals(new String[] {"-2.5e6", "0", "2.5e6"}, Ticks.labels(new double[] {-2.5e6, 0, 2.5e6}));
    assertEquals("1.0e-4", Ticks.format(1e-4, 5e-5));
    assertEquals("3e-5", Ticks.format(3e-5, 1e-5));
  }

  @Test
  void formatRoundsToTheStepAndNeverPrintsMinusZero() {
    assertEquals("0.3", Ticks.format(0.30000000000000004, 0.1));
    assertEquals("0", Ticks.format(-0.0, 1));
    assertEquals("0", Ticks.format(-1e-17, 0.1));
    assertEquals("-0.5", Ticks.format(-0.5, 0.5));
    assertEquals("1.25", Ticks.format(1.25, 0.05));
    assertEquals("123", Ticks.format(123.4, 1));
  }

  @Test
  void logLabelsArePlainInAReadableRangeAndPowersOfTenOtherwise() {
    assertArrayEquals(new String[] {"0.01", "1", "100"}, Ticks.logLabels(new double[] {0.01, 1, 100}));
    assertArrayEquals(new String[] {"0.02", "0.05", "0.1", "2"}, Ticks.logLabels(new double[] {0.02, 0.05, 0.1, 2}));
    assertArrayEquals(new String[] {"10⁻⁶", "10⁻⁴", "10⁻²"},
        Ticks.logLabels(new double[] {1e-6, 1e-4, 1e-2}));
    assertArrayEquals(new String[] {"10⁵", "2×10⁵", "5×10⁵"}, Ticks.logLabels(new double[] {1e5, 2e5, 5e5}));
  }
}
