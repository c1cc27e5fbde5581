package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.ebm.BimodalExperiment.Method;
import dev.genzoo.graphs.ebm.BimodalExperiment.MethodResult;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The lecture notes' four behaviours on the bimodal toy (a = -10, b = 10, q* = 0.8, theta(0) = 0), each checked
 * against the value the math predicts: ML converges to theta*, SM does not learn, PCD collapses linearly in the
 * direction sign(q(0) - q*) with frozen walker shares, NCE converges to its fixed point, which is checked here by
 * minimising the exactly integrated NCE objective.
 */
class BimodalExperimentTest {
  private static final double Q_STAR = 0.8;
  private static final double THETA_STAR = -Math.log(4);
  private static final double MU = -3.0;

  /** log(e^u + e^v). */
  private static double logAddExp(double u, double v) {
    double m = Math.max(u, v);
    return m + Math.log(Math.exp(u - m) + Math.exp(v - m));
  }

  private static double softplus(double v) {
    return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
  }

  /** -U_theta(x) = log(exp(-(x-a)^2/2) + exp(-theta) exp(-(x-b)^2/2)). */
  private static double negU(double x, double theta) {
    return logAddExp(-0.5 * (x + 10) * (x + 10), -theta - 0.5 * (x - 10) * (x - 10));
  }

  private static double density(double x, double theta) {
    return Math.exp(negU(x, theta) - BimodalExperiment.logPartition(theta));
  }

  /**
   * The exact NCE objective with the notes' discriminator, E_* softplus(-G) + E_mu softplus(G), G = -U_theta + U_mu,
   * by the trapezoid rule on [-25, 25].
   */
  private static double nceObjective(double theta) {
    int n = 20001;
    double h = 50.0 / (n - 1);
    double total = 0;
    for (int i = 0; i < n; i++) {
      double x = -25 + i * h;
      double gl = negU(x, theta) - negU(x, MU);
      double v = density(x, THETA_STAR) * softplus(-gl) + density(x, MU) * softplus(gl);
      total += (i == 0 || i == n - 1 ? 0.5 : 1) * v * h;
    }
    return total;
  }

  /** Golden-section minimisation of the exact objective on [-5, 5]. */
  private static double nceArgmin() {
    double lo = -5;
    double hi = 5;
    double r = (Math.sqrt(5) - 1) / 2;
    double c = hi - r * (hi - lo);
    double d = lo + r * (hi - lo);
    double fc = nceObjective(c);
    double fd = nceObjective(d);
    while (hi - lo > 1e-7) {
      if (fc < fd) {
        hi = d;
        d = c;
        fd = fc;
        c = hi - r * (hi - lo);
        fc = nceObjective(c);
      } else {
        lo = c;
        c = d;
        fc = fd;
        d = lo + r * (hi - lo);
        fd = nceObjective(d);
      }
    }
    return (lo + hi) / 2;
  }

  @Test
  void closedFormsOfTheToy() {
    assertEquals(THETA_STAR, BimodalExperiment.thetaForShare(Q_STAR), 1e-15);
    assertEquals(Q_STAR, BimodalExperiment.share(THETA_STAR), 1e-15);
    // Z_theta = (1 + e^-theta) sqrt(2 pi): the density integrates to 1
    double integral = 0;
    for (int i = 0; i <= 40000; i++) {
      double x = -20 + i * 0.001;
      integral += (i == 0 || i == 40000 ? 0.5 : 1) * density(x, 0.7) * 0.001;
    }
    assertEquals(1, integral, 1e-9);
    // the NCE fixed point: the minimiser of the exactly integrated objective is theta* + log((1+e^-theta*)/(1+e^-mu))
    double argmin = nceArgmin();
    double fixed = BimodalExperiment.nceFixedPoint(THETA_STAR, MU);
    assertEquals(THETA_STAR + Math.log(5 / (1 + Math.exp(-MU))), fixed, 1e-12);
    assertEquals(fixed, argmin, 1e-5, "quadrature minimiser of the NCE objective");
    // the notes' mu + log(...) = -4.439 is far from it; both agree only at mu = theta*
    assertTrue(Math.abs(BimodalExperiment.nceFixedPointAsInNotes(THETA_STAR, MU) - argmin) > 1.5);
    assertEquals(BimodalExperiment.nceFixedPoint(THETA_STAR, THETA_STAR),
        BimodalExperiment.nceFixedPointAsInNotes(THETA_STAR, THETA_STAR), 1e-12);
  }

  @Test
  void graphEnergyIsTheToyEnergy() {
    double[] xs = {-13.0, -10.0, -1.0, 0.0, 0.3, 9.5, 10.0, 14.0};
    double theta = -0.8;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      @SuppressWarnings("unchecked")
      Class<TFloating> f64 = (Class<TFloating>) (Class<?>) TFloat64.class;
      Energy u = BimodalExperiment.energy(-10, 10, Tensors.constant(tf, f64, theta));
      Operand<TFloating> x = Tensors.constant(tf, f64, xs, Shape.of(xs.length, 1));
      try (Result r = s.runner().fetch(u.apply(tf, x)).fetch(u.gradient(tf, x)).run()) {
        double[] got = HostTensors.toDoubles(r.get(0));
        double[] grad = HostTensors.toDoubles(r.get(1));
        for (int i = 0; i < xs.length; i++) {
          assertEquals(-negU(xs[i], theta), got[i], 1e-10, "U(" + xs[i] + ")");
          double h = 1e-6;
          double fd = (-negU(xs[i] + h, theta) + negU(xs[i] - h, theta)) / (2 * h);
          assertEquals(fd, grad[i], 1e-6 * Math.max(1, Math.abs(fd)), "U'(" + xs[i] + ")");
        }
      }
    }
  }

  @Test
  void theFourBehaviours(@TempDir Path dir) throws Exception {
    BimodalExperiment.Options o = BimodalExperiment.Options.defaults(dir).withSeed(7).withProgress(false);
    assertEquals(0.0, o.theta0());
    BimodalExperiment.Result res = BimodalExperiment.run(o);
    assertEquals(THETA_STAR, res.thetaStar(), 1e-12);

    // ML with exact negatives: d theta/dt = q_theta - q*, converges to theta*
    MethodResult ml = res.get(Method.ML);
    assertEquals(THETA_STAR, ml.finalTheta(), 0.1, "ML final theta");
    assertEquals(Q_STAR, ml.negativeShare()[ml.negativeShare().length - 1], 0.08,
        "the last exact negatives' share of the mode at b");
    assertTrue(ml.agrees());

    // SM: no learning over the same steps
    MethodResult sm = res.get(Method.SM);
    for (double v : sm.theta()) {
      assertEquals(0.0, v, 0.05, "SM theta moved");
    }
    assertTrue(sm.agrees());

    // PCD: the walkers keep their initial share q(0) = 1/2, so theta falls at the constant rate lr (q_w - q*) past
    // theta* (mode collapse onto b, since q(0) < q*)
    MethodResult pcd = res.get(Method.PCD);
    double qw = pcd.negativeShare()[0];
    assertEquals(0.5, qw, 0.07, "initial walker share (512 exact samples of rho_0)");
    for (double share : pcd.negativeShare()) {
      assertEquals(qw, share, 1e-12, "a walker crossed the barrier");
    }
    for (int t = 25; t < pcd.theta().length; t += 25) {
      assertTrue(pcd.theta()[t] < pcd.theta()[t - 25], "PCD theta not decreasing at step " + t);
    }
    double rate = (pcd.lastTheta() - pcd.theta0()) / o.steps();
    assertEquals(o.learningRate() * (qw - Q_STAR), rate, 0.1 * Math.abs(o.learningRate() * (qw - Q_STAR)),
        "PCD drift rate");
    assertTrue(pcd.lastTheta() < THETA_STAR - 3, "PCD theta " + pcd.lastTheta() + " not past theta* by a margin");
    assertTrue(pcd.agrees());

    // NCE: converges to its fixed point, away from theta*
    MethodResult nce = res.get(Method.NCE);
    double fixed = nceArgmin();
    assertEquals(fixed, res.nceFixedPoint(), 1e-5);
    assertEquals(fixed, nce.finalTheta(), 0.1, "NCE final theta");
    assertTrue(Math.abs(nce.finalTheta() - THETA_STAR) > 1.0, "NCE should not reach theta*");
    assertTrue(nce.agrees());

    // outputs
    BufferedImage png = ImageIO.read(res.plot().toFile());
    assertTrue(png.getWidth() >= 400 && png.getHeight() >= 300);
    String md = Files.readString(res.table());
    assertEquals(md, res.markdown());
    for (String m : List.of("| ml |", "| sm |", "| pcd |", "| nce |")) {
      assertTrue(md.contains(m), "table row " + m);
    }
    assertTrue(!md.contains("NOT as predicted"), md);
    List<String> csv = Files.readAllLines(res.trace());
    assertEquals("step,ml,sm,pcd,nce", csv.get(0));
    assertEquals(o.steps() + 2, csv.size());
  }

  @Test
  void pcdCollapsesTheOtherWayWhenTheInitialShareIsAboveTheTarget() throws Exception {
    // theta(0) = -3: q(0) = 0.953 > q* = 0.8, so d theta/dt = q(0) - q* < 0 is reversed: theta -> +infinity
    BimodalExperiment.Options o = BimodalExperiment.Options.defaults(null).withTheta0(-3).withSteps(300)
        .withMethods(List.of(Method.PCD)).withProgress(false).withSeed(3);
    MethodResult pcd = BimodalExperiment.run(o).get(Method.PCD);
    double qw = pcd.negativeShare()[0];
    assertEquals(BimodalExperiment.share(-3), qw, 0.04);
    double rate = (pcd.lastTheta() - pcd.theta0()) / o.steps();
    assertTrue(rate > 0);
    assertEquals(o.learningRate() * (qw - Q_STAR), rate, 0.15 * o.learningRate() * (qw - Q_STAR));
    assertTrue(pcd.lastTheta() > THETA_STAR + 1);
    assertTrue(pcd.agrees());
  }
}
