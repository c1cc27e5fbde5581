package dev.genzoo.tools.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Fréchet distance, feature statistics, the matrix square root and the symmetric eigendecomposition, against
 * NumPy/SciPy values in metric_fid.npz and metric_sqrtm.npz (made by make_metric_fixtures.py: TTUR's
 * {@code scipy.linalg.sqrtm(sigma1.dot(sigma2))} formula, and the same distance through {@code numpy.linalg.eigh}),
 * and against the defining equations ({@code A v = lambda v}, {@code V^T V = I}, {@code S S = A}).
 */
class FrechetTest {
  @TempDir
  Path tmp;

  static Path resource(String name) throws Exception {
    return Path.of(FrechetTest.class.getResource(name).toURI());
  }

  static NpyArray fixture(String file, String key) throws Exception {
    return Npz.read(resource(file), key);
  }

  static FeatureStats statsOf(String key) throws Exception {
    NpyArray a = fixture("metric_fid.npz", key);
    return FeatureStats.of(a.asFloats(), (int) a.shape()[0], (int) a.shape()[1]);
  }

  static double scalar(String file, String key) throws Exception {
    return fixture(file, key).asDoubles()[0];
  }

  static double maxAbs(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  static double maxAbsDiff(double[] a, double[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void statisticsMatchNumpyMeanAndCov() throws Exception {
    FeatureStats s = statsOf("a64");
    assertEquals(256, s.count());
    assertEquals(64, s.dim());
    double[] mu = fixture("metric_fid.npz", "a64_mu").asDoubles();
    double[] sigma = fixture("metric_fid.npz", "a64_sigma").asDoubles();
    assertTrue(maxAbsDiff(mu, s.mu()) <= 1e-13 * maxAbs(mu), "mu");
    assertTrue(maxAbsDiff(sigma, s.sigma()) <= 1e-12 * maxAbs(sigma), "sigma: " + maxAbsDiff(sigma, s.sigma()));
  }

  /**
   * Every case of the fixture: two full-rank sets (d = 64), singular covariances (40 and 48 samples in 64
   * dimensions), a rank-12 mixing plus noise (near-singular), d = 256 with 200 samples on one side, and a set against
   * itself. The same computation in NumPy (eigh, round-off eigenvalues as zeros) agrees to 1e-10 relative; TTUR's
   * sqrtm formula agrees to 1e-13 on full-rank covariances and drifts by about 1e-8 on singular ones (the sqrt(eps)
   * noise of the zero eigenvalues, which the symmetric route removes).
   */
  @ParameterizedTest
  @CsvSource({"a64,b64,1e-13", "s64,b64,2e-8", "s64,t64,2e-8", "lr64,a64,1e-13", "a256,b256,2e-8",
      "a64,a64,1e-12"})
  void distanceMatchesScipySqrtmFormula(String p, String q, double scipyTolerance) throws Exception {
    double fid = Frechet.distance(statsOf(p), statsOf(q));
    double viaScipy = scalar("metric_fid.npz", "fid_scipy_" + p + "_" + q);
    double viaEigh = scalar("metric_fid.npz", "fid_eigh_" + p + "_" + q);
    double scale = Math.max(1, Math.abs(viaEigh));
    assertEquals(viaEigh, fid, 1e-10 * scale, "against numpy eigh");
    assertEquals(viaScipy, fid, scipyTolerance * scale, "against scipy sqrtm");
  }

  @Test
  void distanceOfASetToItselfIsZeroAndTheTermsAddUp() throws Exception {
    FeatureStats a = statsOf("a64");
    FeatureStats b = statsOf("b64");
    assertEquals(0, Frechet.distance(a, a), 1e-9 * a.trace());
    Frechet.Terms t = Frechet.terms(a, b);
    double mean = 0;
    for (int i = 0; i < 64; i++) {
      mean += (a.mu()[i] - b.mu()[i]) * (a.mu()[i] - b.mu()[i]);
    }
    assertEquals(mean, t.meanTerm(), 1e-12 * mean);
    assertEquals(a.trace(), t.trace1(), 0);
    assertEquals(b.trace(), t.trace2(), 0);
    assertEquals(t.meanTerm() + t.trace1() + t.trace2() - 2 * t.traceSqrt(), t.distance(), 0);
    // Symmetric in its arguments.
    assertEquals(Frechet.distance(b, a), Frechet.distance(a, b), 1e-9 * t.distance());
  }

  /** Gaussians with commuting covariances: Tr((S1 S2)^(1/2)) = sum sqrt(a_i b_i) for diagonal S1, S2. */
  @Test
  void diagonalCovariancesHaveAClosedForm() {
    int d = 5;
    double[] av = {1, 2, 3, 4, 0}; // one singular direction
    double[] bv = {2.5, 0.7, 4.0 / 3, 1.5, 1.3};
    double[] mu1 = {1, 2, 3, 4, 5};
    double[] mu2 = {1, 1, 1, 1, 1};
    double[] s1 = new double[d * d];
    double[] s2 = new double[d * d];
    double expected = 0;
    for (int i = 0; i < d; i++) {
      s1[i * d + i] = av[i];
      s2[i * d + i] = bv[i];
      expected += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + av[i] + bv[i] - 2 * Math.sqrt(av[i] * bv[i]);
    }
    double fid = Frechet.distance(new FeatureStats(0, d, mu1, s1), new FeatureStats(0, d, mu2, s2));
    assertEquals(expected, fid, 1e-12);
  }

  @Test
  void statisticsReadFromFloat32Npz() throws Exception {
    Path file = tmp.resolve("b64_f4.npz");
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    arrays.put("mu", fixture("metric_fid.npz", "b64_mu_f4"));
    arrays.put("sigma", fixture("metric_fid.npz", "b64_sigma_f4"));
    Npz.write(file, arrays, false);
    FeatureStats s = FeatureStats.readNpz(file);
    assertEquals(64, s.dim());
    assertEquals(0, s.count());
    assertEquals(scalar("metric_fid.npz", "fid_a64_b64stats_f4"), Frechet.distance(statsOf("a64"), s), 1e-7);
  }

  @Test
  void statisticsRoundTripThroughNpz() throws Exception {
    FeatureStats s = statsOf("s64");
    Path file = tmp.resolve("s.npz");
    s.writeNpz(file);
    FeatureStats back = FeatureStats.readNpz(file);
    assertEquals(s.count(), back.count());
    assertEquals(s.dim(), back.dim());
    assertArrayEquals(s.mu(), back.mu(), 0);
    assertArrayEquals(s.sigma(), back.sigma(), 0);
    assertEquals(java.util.List.of("mu", "sigma", "count"), Npz.keys(file));
  }

  @Test
  void badStatisticsFilesNameTheFileAndTheProblem() throws Exception {
    Path noSigma = tmp.resolve("nosigma.npz");
    Npz.write(noSigma, Map.of("mu", NpyArray.ofDoubles(new double[3], 3)), false);
    IOException e1 = assertThrows(IOException.class, () -> FeatureStats.readNpz(noSigma));
    assertTrue(e1.getMessage().contains("nosigma.npz") && e1.getMessage().contains("sigma"), e1.getMessage());

    Path wrongShape = tmp.resolve("shape.npz");
    Map<String, NpyArray> m = new LinkedHashMap<>();
    m.put("mu", NpyArray.ofDoubles(new double[3], 3));
    m.put("sigma", NpyArray.ofDoubles(new double[8], 2, 4));
    Npz.write(wrongShape, m, false);
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> FeatureStats.readNpz(wrongShape));
    assertTrue(e2.getMessage().contains("shape.npz") && e2.getMessage().contains("(3, 3)"), e2.getMessage());

    Path nan = tmp.resolve("nan.npz");
    double[] sigma = new double[9];
    sigma[4] = Double.NaN;
    m.put("sigma", NpyArray.ofDoubles(sigma, 3, 3));
    Npz.write(nan, m, false);
    IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> FeatureStats.readNpz(nan));
    assertTrue(e3.getMessage().contains("nan.npz") && e3.getMessage().contains("sigma[1, 1]"), e3.getMessage());

    Path ints = tmp.resolve("ints.npz");
    m.put("sigma", NpyArray.ofLongs(new long[9], 3, 3));
    Npz.write(ints, m, false);
    IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class, () -> FeatureStats.readNpz(ints));
    assertTrue(e4.getMessage().contains("ints.npz") && e4.getMessage().contains("float"), e4.getMessage());
  }

  @Test
  void badInputsAreRejected() {
    FeatureStats a = new FeatureStats(0, 2, new double[2], new double[] {1, 0, 0, 1});
    FeatureStats b = new FeatureStats(0, 3, new double[3], new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1});
    IllegalArgumentException dims = assertThrows(IllegalArgumentException.class, () -> Frechet.distance(a, b));
    assertTrue(dims.getMessage().contains("2") && dims.getMessage().contains("3"), dims.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new FeatureStats(0, 2, new double[3], new double[4]));
    IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
        () -> FeatureStats.of(new float[] {1, 2}, 1, 2));
    assertTrue(one.getMessage().contains("at least 2"), one.getMessage());
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> FeatureStats.of(new float[] {1, 2, Float.NaN, 4}, 2, 2));
    assertTrue(nan.getMessage().contains("vector 1, component 0"), nan.getMessage());
    FeatureStats asym = new FeatureStats(0, 2, new double[2], new double[] {1, 0.5, 0, 1});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Frechet.distance(asym, a));
    assertTrue(e.getMessage().contains("not symmetric"), e.getMessage());
  }

  // ---------------------------------------------------------------- the matrix square root and the eigensolver

  @ParameterizedTest
  @ValueSource(strings = {"spd", "psd"})
  void squareRootMatchesScipySqrtm(String name) throws Exception {
    double[] a = fixture("metric_sqrtm.npz", name).asDoubles();
    double[] scipy = fixture("metric_sqrtm.npz", name + "_sqrtm").asDoubles();
    double[] eigh = fixture("metric_sqrtm.npz", name + "_sqrt_eigh").asDoubles();
    int n = 32;
    double[] s = MatrixSqrt.sqrtPsd(a, n);
    double scale = maxAbs(scipy);
    // scipy's Schur method leaves about 6e-8 of noise on the rank-10 matrix (and 1e-8 imaginary parts).
    double tolScipy = name.equals("spd") ? 1e-12 : 2e-7;
    assertTrue(maxAbsDiff(scipy, s) <= tolScipy * scale, "against scipy: " + maxAbsDiff(scipy, s));
    double tolEigh = 1e-12;
    assertTrue(maxAbsDiff(eigh, s) <= tolEigh * scale, "against numpy eigh: " + maxAbsDiff(eigh, s));
    // S is symmetric and S S = A.
    double[] ss = new double[n * n];
    for (int i = 0; i < n; i++) {
      assertEquals(s[i * n + (n - 1 - i)], s[(n - 1 - i) * n + i], 0);
      for (int j = 0; j < n; j++) {
        double v = 0;
        for (int k = 0; k < n; k++) {
          v += s[i * n + k] * s[k * n + j];
        }
        ss[i * n + j] = v;
      }
    }
    assertTrue(maxAbsDiff(a, ss) <= 1e-13 * maxAbs(a) * n, "S S - A: " + maxAbsDiff(a, ss));
  }

  @ParameterizedTest
  @ValueSource(strings = {"spd", "psd"})
  void eigenvaluesMatchNumpy(String name) throws Exception {
    double[] a = fixture("metric_sqrtm.npz", name).asDoubles();
    double[] expected = fixture("metric_sqrtm.npz", name + "_eigvals").asDoubles();
    double tol = 1e-13 * 32 * maxAbs(expected);
    assertArrayEquals(expected, SymmetricEigen.eigenvalues(a, 32), tol);
    assertArrayEquals(expected, SymmetricEigen.of(a, 32).values(), tol);
  }

  /** Random symmetric matrices, including repeated and clustered eigenvalues: residuals and orthogonality. */
  @ParameterizedTest
  @CsvSource({"1,random", "2,random", "3,random", "7,random", "64,random", "150,random", "150,repeated",
      "150,clustered", "40,diagonal", "40,zero", "40,tridiagonal", "130,lowrank"})
  void decompositionResiduals(int n, String kind) {
    double[] a = matrix(n, kind, new SplittableRandom(n * 31L + kind.hashCode()));
    SymmetricEigen e = SymmetricEigen.of(a, n);
    double[] values = e.values();
    double norm = Math.max(1e-300, maxAbs(a) * n);
    for (int i = 1; i < n; i++) {
      assertTrue(values[i - 1] <= values[i], "ascending");
    }
    double worstResidual = 0;
    double worstOrth = 0;
    for (int i = 0; i < n; i++) {
      double[] v = e.vector(i);
      for (int p = 0; p < n; p++) {
        double s = 0;
        for (int q = 0; q < n; q++) {
          s += a[p * n + q] * v[q];
        }
        worstResidual = Math.max(worstResidual, Math.abs(s - values[i] * v[p]));
      }
      for (int j = i; j < n; j++) {
        double[] w = e.vector(j);
        double s = 0;
        for (int q = 0; q < n; q++) {
          s += v[q] * w[q];
        }
        worstOrth = Math.max(worstOrth, Math.abs(s - (i == j ? 1 : 0)));
      }
    }
    assertTrue(worstResidual <= 1e-14 * norm + 1e-300, kind + " residual " + worstResidual + " vs " + norm);
    assertTrue(worstOrth <= 1e-13 * Math.max(n, 4), kind + " orthogonality " + worstOrth);
    double trace = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      trace += a[i * n + i];
      sum += values[i];
    }
    assertEquals(trace, sum, 1e-13 * norm + 1e-300);
    assertArrayEquals(values, SymmetricEigen.eigenvalues(a, n), 1e-13 * norm + 1e-300);
  }

  static double[] matrix(int n, String kind, SplittableRandom r) {
    double[] a = new double[n * n];
    switch (kind) {
      case "random" -> {
        for (int i = 0; i < n; i++) {
          for (int j = 0; j <= i; j++) {
            double v = r.nextDouble(-1, 1);
            a[i * n + j] = v;
            a[j * n + i] = v;
          }
        }
      }
      case "diagonal" -> {
        for (int i = 0; i < n; i++) {
          a[i * n + i] = (i * 7919) % 13 - 6;
        }
      }
      case "zero" -> { }
      case "tridiagonal" -> {
        for (int i = 0; i < n; i++) {
          a[i * n + i] = 2;
          if (i + 1 < n) {
            a[i * n + i + 1] = -1;
            a[(i + 1) * n + i] = -1;
          }
        }
      }
      default -> {
        // Q diag(l) Q^T with a random orthogonal Q (Gram-Schmidt) and chosen eigenvalues.
        double[][] q = new double[n][n];
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            q[i][j] = r.nextGaussian();
          }
          for (int k = 0; k < i; k++) {
            double dot = 0;
            for (int j = 0; j < n; j++) {
              dot += q[i][j] * q[k][j];
            }
            for (int j = 0; j < n; j++) {
              q[i][j] -= dot * q[k][j];
            }
          }
          double norm = 0;
          for (int j = 0; j < n; j++) {
            norm += q[i][j] * q[i][j];
          }
          norm = Math.sqrt(norm);
          for (int j = 0; j < n; j++) {
            q[i][j] /= norm;
          }
        }
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
          l[i] = switch (kind) {
            case "repeated" -> i % 3;
            case "clustered" -> 1 + 1e-10 * i;
            default -> i < 10 ? i + 1 : 0; // lowrank
          };
        }
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) {
              s += q[k][i] * l[k] * q[k][j];
            }
            a[i * n + j] = s;
          }
        }
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < i; j++) {
            a[i * n + j] = a[j * n + i];
          }
        }
      }
    }
    return a;
  }

  @Test
  void badMatricesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[5], 2));
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> SymmetricEigen.of(new double[] {1, Double.NaN, Double.NaN, 1}, 2));
    assertTrue(nan.getMessage().contains("(0, 1)"), nan.getMessage());
    IllegalArgumentException asym = assertThrows(IllegalArgumentException.class,
        () -> MatrixSqrt.sqrtPsd(new double[] {1, 2, 3, 4}, 2));
    assertTrue(asym.getMessage().contains("not symmetric"), asym.getMessage());
  }

  @Test
  void squareRootClipsNegativeRoundOff() {
    // [[1, 1], [1, 1]] has eigenvalues 2 and 0; its square root is A / sqrt(2).
    double[] s = MatrixSqrt.sqrtPsd(new double[] {1, 1, 1, 1}, 2);
    double r = 1 / Math.sqrt(2);
    assertArrayEquals(new double[] {r, r, r, r}, s, 1e-15);
    assertEquals(-1, MatrixSqrt.smallestEigenvalue(new double[] {0, 1, 1, 0}, 2), 1e-15);
  }

  @Test
  void fixtureFilesExist() throws Exception {
    for (String f : new String[] {"metric_fid.npz", "metric_sqrtm.npz", "make_metric_fixtures.py"}) {
      assertTrue(Files.size(resource(f)) > 0, f);
    }
  }
}
