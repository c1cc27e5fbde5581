package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/** Sample moments and densities against the analytic values of the definitions in {@link Toys}. */
class ToysTest {
  private static final int N = 200_000;

  private static float[] sample(String name) {
    return Toys.byName(name).sample(new SplittableRandom(1234), N);
  }

  /** {mean x, mean y, var x, var y, cov xy} of 2-D samples. */
  private static double[] moments(float[] s) {
    int n = s.length / 2;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += s[2 * i];
      my += s[2 * i + 1];
    }
    mx /= n;
    my /= n;
    double vx = 0;
    double vy = 0;
    double cxy = 0;
    for (int i = 0; i < n; i++) {
      double dx = s[2 * i] - mx;
      double dy = s[2 * i + 1] - my;
      vx += dx * dx;
      vy += dy * dy;
      cxy += dx * dy;
    }
    return new double[] {mx, my, vx / n, vy / n, cxy / n};
  }

  /** Midpoint-rule integral of exp(logDensity) over [-half, half]^2 with spacing h. */
  private static double integrate2d(ToyDistribution toy, double half, double h) {
    int cells = (int) Math.round(2 * half / h);
    double sum = 0;
    double[] p = new double[2];
    for (int i = 0; i < cells; i++) {
      p[0] = -half + (i + 0.5) * h;
      for (int j = 0; j < cells; j++) {
        p[1] = -half + (j + 0.5) * h;
        sum += Math.exp(toy.logDensity(p));
      }
    }
    return sum * h * h;
  }

  private static double integrate1d(ToDoubleFunction<Double> f, double from, double to, double h) {
    double sum = 0;
    for (double x = from + h / 2; x < to; x += h) {
      sum += f.applyAsDouble(x);
    }
    return sum * h;
  }

  @Test
  void eightGaussiansMomentsAndDensity() {
    ToyDistribution toy = Toys.byName("8gaussians");
    assertEquals(2, toy.dim());
    double[] m = moments(sample("8gaussians"));
    double var = 2.0 * 2.0 / 2 + 0.2 * 0.2; // E[mu mu^T] = (r^2 / 2) I, plus sigma^2 I
    assertEquals(0, m[0], 0.02);
    assertEquals(0, m[1], 0.02);
    assertEquals(var, m[2], 0.03);
    assertEquals(var, m[3], 0.03);
    assertEquals(0, m[4], 0.03);

    assertEquals(1.0, integrate2d(toy, 4, 0.01), 1e-6);
    // At a mean: (1/8) Σ_k N(mu_0; mu_k, 0.04 I), written out.
    double p = 0;
    for (int k = 0; k < 8; k++) {
      double dx = 2 - 2 * Math.cos(k * Math.PI / 4);
      double dy = -2 * Math.sin(k * Math.PI / 4);
      p += Math.exp(-(dx * dx + dy * dy) / (2 * 0.04)) / (2 * Math.PI * 0.04) / 8;
    }
    assertEquals(Math.log(p), toy.logDensity(new double[] {2, 0}), 1e-12);
  }

  @Test
  void bimodalIsTheLectureNotesMixture() {
    ToyDistribution toy = Toys.byName("bimodal");
    assertEquals(1, toy.dim());
    ToDoubleFunction<Double> p = x -> Math.exp(toy.logDensity(new double[] {x}));
    assertEquals(1.0, integrate1d(p, -20, 20, 1e-3), 1e-9);
    assertEquals(0.8, integrate1d(p, 0, 20, 1e-3), 1e-9);
    // p(10) = (0.8 + 0.2 e^{-200}) / sqrt(2 pi).
    assertEquals(Math.log(0.8 / Math.sqrt(2 * Math.PI)), toy.logDensity(new double[] {10}), 1e-12);
    assertEquals(Math.log(0.2 / Math.sqrt(2 * Math.PI)), toy.logDensity(new double[] {-10}), 1e-12);

    float[] s = sample("bimodal");
    double mean = 0;
    int above = 0;
    for (float v : s) {
      mean += v;
      above += v > 0 ? 1 : 0;
    }
    mean /= s.length;
    double var = 0;
    for (float v : s) {
      var += (v - mean) * (v - mean);
    }
    var /= s.length;
    assertEquals(0.2 * -10 + 0.8 * 10, mean, 0.1);
    assertEquals(1 + 100 - 36, var, 1.5); // 1 + E[mu^2] - E[mu]^2
    assertEquals(0.8, above / (double) s.length, 0.005);
  }

  @Test
  void moonsMomentsFollowTheDocumentedMap() {
    ToyDistribution toy = Toys.byName("moons");
    double[] m = moments(sample("moons"));
    double scale2 = 16.0 / 9; // the map multiplies by 4/3
    double noise2 = 0.01;
    // Before the map: components (cos t, sin t) and (1 - cos t, 1/2 - sin t), t ~ U[0, pi), equal weights.
    double varX = 0.5 + 0.25 + noise2; // within-component 1/2, between-component (1/2)^2
    double meanSinT = 2 / Math.PI;
    double dy = (0.5 - meanSinT) - meanSinT;
    double varY = (0.5 - meanSinT * meanSinT) + dy * dy / 4 + noise2;
    double covXY = 1.0 * dy / 4; // within-component covariances vanish
    assertEquals(0, m[0], 0.01);
    assertEquals(0, m[1], 0.01);
    assertEquals(scale2 * varX, m[2], 0.015);
    assertEquals(scale2 * varY, m[3], 0.01);
    assertEquals(scale2 * covXY, m[4], 0.01);
    assertFalse(toy.hasDensity());
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
        () -> toy.logDensity(new double[] {0, 0}));
    assertTrue(e.getMessage().contains("moons"), e.getMessage());
  }

  @Test
  void ringsDensityIntegratesAndMatchesTheSampledRadii() {
    ToyDistribution toy = Toys.byName("rings");
    assertEquals(1.0, integrate2d(toy, 2.6, 0.004), 1e-4);
    assertEquals(1.0, Rings.radialCdf(10), 1e-15);
    assertEquals(1.0, integrate1d(Rings::radialDensity, 0, 3, 1e-4), 1e-9);
    // The planar density times the circumference is the radial density.
    for (double r : new double[] {0.3, 0.5, 0.97, 1.52, 2.1}) {
      double planar = Math.exp(toy.logDensity(new double[] {r * Math.cos(1), r * Math.sin(1)}));
      assertEquals(Rings.radialDensity(r), planar * 2 * Math.PI * r, 1e-12);
    }

    float[] s = sample("rings");
    int bins = 60;
    double width = 2.7 / bins;
    int[] counts = new int[bins];
    int[] quadrants = new int[4];
    for (int i = 0; i < N; i++) {
      double x = s[2 * i];
      double y = s[2 * i + 1];
      int b = (int) (Math.hypot(x, y) / width);
      assertTrue(b < bins, "radius beyond 2.7");
      counts[b]++;
      quadrants[(x >= 0 ? 0 : 1) + (y >= 0 ? 0 : 2)]++;
    }
    for (int b = 0; b < bins; b++) {
      double expected = N * (Rings.radialCdf((b + 1) * width) - Rings.radialCdf(b * width));
      assertEquals(expected, counts[b], 5 * Math.sqrt(expected) + 5, "radius bin " + b);
    }
    for (int q : quadrants) {
      assertEquals(N / 4.0, q, 5 * Math.sqrt(N * 0.25 * 0.75));
    }
  }

  @Test
  void ringsRadialDensityIsTheTruncatedGaussianMixture() {
    // Written out for r = 1.04: (1/4) Σ_k exp(-(r - R_k)^2 / (2 s^2)) / (s sqrt(2 pi) Phi(R_k / s)), with Phi
    // from scipy.special.ndtr(6.25) = 0.9999999997947736 for the ring at 0.5 and 1 to double precision beyond.
    double s = 0.08;
    double r = 1.04;
    double[] radii = {0.5, 1.0, 1.5, 2.0};
    double[] phi = {0.9999999997947736, 1, 1, 1};
    double want = 0;
    for (int k = 0; k < 4; k++) {
      want += Math.exp(-(r - radii[k]) * (r - radii[k]) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI) * phi[k]) / 4;
    }
    assertEquals(want, Rings.radialDensity(r), 1e-13 * want);
    assertEquals(0, Rings.radialDensity(0));
  }

  private static void assertRelative(double want, double got) {
    assertEquals(want, got, 1e-14 * Math.abs(want), "relative error 1e-14");
  }

  @Test
  void normalDistributionFunctionMatchesScipy() {
    // Reference values from scipy.special (ndtr, erfc), scipy 1.10.
    assertRelative(0.5, NormalDistribution.cdf(0));
    assertRelative(0.8413447460685429, NormalDistribution.cdf(1));
    assertRelative(0.0013498980316300933, NormalDistribution.cdf(-3));
    assertRelative(2.0522634252189396e-10, NormalDistribution.cdf(-6.25));
    assertRelative(0.4795001221869535, NormalDistribution.erfc(0.5));
    assertRelative(4.109787809945884e-05, NormalDistribution.erfc(2.9));
    assertRelative(2.2090496998585445e-05, NormalDistribution.erfc(3.0));
    assertRelative(7.430983723414129e-07, NormalDistribution.erfc(3.5));
    assertRelative(1.5374597944280347e-12, NormalDistribution.erfc(5.0));
    assertRelative(2.0884875837625446e-45, NormalDistribution.erfc(10.0));
    assertRelative(1.8427007929497148, NormalDistribution.erfc(-1.0));
  }

  @Test
  void checkerboardIsUniformOnTheBlackSquares() {
    ToyDistribution toy = Toys.byName("checkerboard");
    assertEquals(1.0, integrate2d(toy, 3, 0.01), 1e-9);
    assertEquals(Math.log(1.0 / 8), toy.logDensity(new double[] {-1.5, -1.5}), 0); // square (-2, -2)
    assertEquals(Double.NEGATIVE_INFINITY, toy.logDensity(new double[] {-0.5, -1.5})); // square (-1, -2)
    assertEquals(Double.NEGATIVE_INFINITY, toy.logDensity(new double[] {2.5, 0.5})); // off the board
    assertEquals(Double.NEGATIVE_INFINITY, toy.logDensity(new double[] {2.0, 0.5})); // [-2, 2): 2 is off

    float[] s = sample("checkerboard");
    int[] squares = new int[16];
    for (int i = 0; i < N; i++) {
      double[] p = {s[2 * i], s[2 * i + 1]};
      assertEquals(Math.log(1.0 / 8), toy.logDensity(p), 0, "sample off the black squares");
      squares[((int) Math.floor(p[0]) + 2) * 4 + (int) Math.floor(p[1]) + 2]++;
    }
    for (int i = 0; i < 16; i++) {
      boolean black = ((i / 4) + (i % 4)) % 2 == 0;
      double expected = black ? N / 8.0 : 0;
      assertEquals(expected, squares[i], 5 * Math.sqrt(N / 8.0 * 7 / 8), "square " + i);
    }
    double[] m = moments(s);
    assertEquals(0, m[0], 0.015);
    assertEquals(0, m[1], 0.015);
    assertEquals(16.0 / 12, m[2], 0.02); // x uniform on [-2, 2)
    assertEquals(16.0 / 12, m[3], 0.02);
  }

  @Test
  void namesAndErrors() {
    for (String name : Toys.names()) {
      ToyDistribution t = Toys.byName(name);
      assertEquals(name, t.name());
      float[] a = t.sample(new SplittableRandom(5), 10);
      assertEquals(10 * t.dim(), a.length);
      assertArrayEquals(a, t.sample(new SplittableRandom(5), 10), "same generator state, same samples");
    }
    assertEquals("8gaussians", Toys.byName(" 8Gaussians ").name());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Toys.byName("spiral"));
    assertTrue(e.getMessage().contains("spiral") && e.getMessage().contains("8gaussians, bimodal, moons, rings, "
        + "checkerboard"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Toys.byName("rings").logDensity(new double[] {1}));
  }
}
