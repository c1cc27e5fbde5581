package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModeCoverageTest {
  private static final MixtureToy TOY = (MixtureToy) Toys.byName("8gaussians");

  /**
   * Exact samples of the mixture: each mode's share is 1/8 (binomial SE sqrt(p(1-p)/n)), the fraction within 3 sd of
   * the nearest mode is P(|z| <= 3) for a 2-D standard normal, 1 - exp(-9/2) (modes 1.53 apart barely overlap), and the
   * spread around each centre is the components' 0.2.
   */
  @Test
  void exactSamplesOfTheMixtureCoverEveryMode() {
    int n = 40_000;
    ModeCoverage c = ModeCoverage.of(TOY, TOY.sample(new SplittableRandom(7), n), 20);
    double se = Math.sqrt(0.125 * 0.875 / n);
    for (double share : c.shares()) {
      assertEquals(0.125, share, 4 * se);
    }
    double p = 1 - Math.exp(-4.5);
    assertEquals(p, c.highQuality(), 4 * Math.sqrt(p * (1 - p) / n) + 1e-3);
    for (double sd : c.spreads()) {
      assertEquals(0.2, sd, 0.01);
    }
    assertEquals(8, c.modesCovered());
  }

  /** Samples all on one mode: one mode covered, its share 1; points far from every mode are not high quality. */
  @Test
  void collapsedAndScatteredSamples() {
    float[] collapsed = new float[200];
    for (int i = 0; i < 100; i++) {
      collapsed[2 * i] = 2.0f;
      collapsed[2 * i + 1] = 0.05f;
    }
    ModeCoverage c = ModeCoverage.of(TOY, collapsed, 20);
    assertEquals(1, c.modesCovered());
    assertEquals(1.0, c.shares()[0], 0);
    assertEquals(1.0, c.highQuality(), 0);
    float[] far = {0f, 0f, 10f, 10f};
    assertEquals(0.0, ModeCoverage.of(TOY, far, 1).highQuality(), 0);
    assertThrows(IllegalArgumentException.class, () -> ModeCoverage.of(TOY, new float[3], 1));
  }
}
