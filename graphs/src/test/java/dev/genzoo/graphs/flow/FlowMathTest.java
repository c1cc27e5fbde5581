package dev.genzoo.graphs.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.testing.Weights;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/** The change-of-variables machinery of the flows, checked against the math. */
class FlowMathTest {

  private static double[] uniform(int n, double lo, double hi, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = lo + (hi - lo) * r.nextDouble();
    }
    return a;
  }

  private static double maxAbsDiff(double[] a, double[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  /**
   * Weight noise for the numerical tests. RealNVP's translations t are unbounded: with He-initialised ResNets and larger
   * noise the latents of an untrained model reach 1e7 and any inverse loses every digit to cancellation.
   */
  private static double noise(FlowConfig cfg) {
    return cfg.model().architecture() == FlowConfig.Architecture.REALNVP ? 0.02 : 0.1;
  }

  private static void roundTrip(FlowConfig cfg, double lo, double hi) {
    try (FlowModel model = new FlowModel(cfg, ModelOptions.inference().withDtype(TFloat32.class))) {
      Weights.perturb(model, noise(cfg), 11);
      int n = 4;
      int d = model.latentDims();
      double[] y = uniform(n * d, lo, hi, 3);
      double[][] f = model.forwardModelSpace(y, n);
      double[] back = model.inverseModelSpace(f[0], n);
      double err = maxAbsDiff(y, back);
      assertTrue(err < 1e-4, cfg.preset() + ": |f^-1(f(y)) - y| = " + err);
      // The latents really moved: the test would pass trivially for an identity map.
      assertTrue(maxAbsDiff(y, f[0]) > 1e-2, cfg.preset() + ": the flow is (close to) the identity");
    }
  }

  @Test
  void glowTinyInvertsItsForwardPass() {
    roundTrip(FlowConfig.tiny(), -0.5, 0.5);
  }

  @Test
  void realNvpTinyInvertsItsForwardPass() {
    roundTrip(FlowConfig.realNvpTiny(), -3, 3);
  }

  @Test
  void twoDimensionalFlowsInvert() {
    roundTrip(FlowConfig.toy2d(), -3, 3);
    roundTrip(FlowConfig.realNvpToy2d(), -3, 3);
    roundTrip(FlowConfig.niceToy2d(), -3, 3);
  }

  /** log|det J| of the flow against the log-determinant of a central-difference Jacobian, in double precision. */
  /**
   * @param sigma weight noise: large enough that every layer contributes, small enough that the Jacobian stays well
   *     conditioned (at log|det| ~ -850 over 192 dimensions the central differences no longer converge)
   */
  private static void logDetMatchesJacobian(FlowConfig cfg, double sigma, double lo, double hi) {
    try (FlowModel model = new FlowModel(cfg, ModelOptions.inference().withDtype(TFloat64.class))) {
      Weights.perturb(model, sigma, 5);
      int d = model.latentDims();
      double[] y0 = uniform(d, lo, hi, 17);
      double h = 1e-5;
      // Rows 2i and 2i+1 perturb coordinate i by +h and -h; the last row is y0 itself.
      int rows = 2 * d + 1;
      double[] batch = new double[rows * d];
      for (int i = 0; i < d; i++) {
        System.arraycopy(y0, 0, batch, 2 * i * d, d);
        System.arraycopy(y0, 0, batch, (2 * i + 1) * d, d);
        batch[2 * i * d + i] += h;
        batch[(2 * i + 1) * d + i] -= h;
      }
      System.arraycopy(y0, 0, batch, 2 * d * d, d);
      double[][] out = model.forwardModelSpace(batch, rows);
      double[] z = out[0];
      double[][] jac = new double[d][d];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          jac[j][i] = (z[2 * i * d + j] - z[(2 * i + 1) * d + j]) / (2 * h);
        }
      }
      double numeric = logAbsDet(jac);
      double analytic = out[1][2 * d];
      assertEquals(numeric, analytic, 1e-3, cfg.preset() + ": log|det J|");
      assertTrue(Math.abs(analytic) > 0.1, cfg.preset() + ": log-det is trivially small (" + analytic + ")");
    }
  }

  /** log|det A| by LU with partial pivoting. */
  static double logAbsDet(double[][] m) {
    int n = m.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = m[i].clone();
    }
    double sum = 0;
    for (int k = 0; k < n; k++) {
      int p = k;
      for (int i = k + 1; i < n; i++) {
        if (Math.abs(a[i][k]) > Math.abs(a[p][k])) {
          p = i;
        }
      }
      double[] t = a[k];
      a[k] = a[p];
      a[p] = t;
      sum += Math.log(Math.abs(a[k][k]));
      for (int i = k + 1; i < n; i++) {
        double f = a[i][k] / a[k][k];
        for (int j = k; j < n; j++) {
          a[i][j] -= f * a[k][j];
        }
      }
    }
    return sum;
  }

  @Test
  void glowLogDetEqualsNumericalJacobian() {
    logDetMatchesJacobian(FlowConfig.tiny(), 0.2, -0.5, 0.5);
  }

  @Test
  void realNvpLogDetEqualsNumericalJacobian() {
    logDetMatchesJacobian(FlowConfig.realNvpTiny(), 0.05, -2, 2);
  }

  @Test
  void twoDimensionalLogDetsEqualNumericalJacobians() {
    logDetMatchesJacobian(FlowConfig.toy2d(), 0.2, -2, 2);
    logDetMatchesJacobian(FlowConfig.realNvpToy2d(), 0.2, -2, 2);
    logDetMatchesJacobian(FlowConfig.niceToy2d(), 0.2, -2, 2);
  }

  /** A 2-D density integrates to 1: the sum of exp(log p) over a fine grid times the cell area. */
  @Test
  void twoDimensionalDensitiesIntegrateToOne() {
    for (FlowConfig cfg : new FlowConfig[] {FlowConfig.toy2d(), FlowConfig.realNvpToy2d(), FlowConfig.niceToy2d()}) {
      try (FlowModel model = new FlowModel(cfg, ModelOptions.inference().withDtype(TFloat64.class))) {
        Weights.perturb(model, 0.1, 23);
        double integral = integrate(model, 12.0, 600);
        assertEquals(1.0, integral, 0.02, cfg.preset() + ": integral of p over [-12, 12]^2");
      }
    }
  }

  /** Midpoint rule over [-half, half]^2 with cells x cells points. */
  static double integrate(FlowModel model, double half, int cells) {
    double step = 2 * half / cells;
    double total = 0;
    int rowsPerRun = 50;
    double[] block = new double[rowsPerRun * cells * 2];
    for (int i0 = 0; i0 < cells; i0 += rowsPerRun) {
      for (int i = 0; i < rowsPerRun; i++) {
        double yv = -half + (i0 + i + 0.5) * step;
        for (int j = 0; j < cells; j++) {
          block[2 * (i * cells + j)] = -half + (j + 0.5) * step;
          block[2 * (i * cells + j) + 1] = yv;
        }
      }
      for (double lp : model.logDensityModelSpace(block, rowsPerRun * cells)) {
        total += Math.exp(lp);
      }
    }
    return total * step * step;
  }
}
