package dev.genzoo.graphs.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.data.ToyBatches;
import dev.genzoo.data.Toys;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.testing.Weights;
import dev.genzoo.graphs.train.Trainer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat64;

class PlanarAndPreprocessingTest {
  @TempDir
  Path tmp;

  /** The planar flow's log|det| against the 2 x 2 finite-difference Jacobian of its map, per point. */
  @Test
  void planarLogDetEqualsNumericalJacobian() {
    try (FlowModel m = new FlowModel(FlowConfig.planarToy2d(), ModelOptions.inference().withDtype(TFloat64.class))) {
      Weights.perturb(m, 0.5, 3);
      SplittableRandom r = new SplittableRandom(8);
      double h = 1e-6;
      for (int trial = 0; trial < 5; trial++) {
        double a = 2 * r.nextDouble() - 1;
        double b = 2 * r.nextDouble() - 1;
        double[] pts = {a + h, b, a - h, b, a, b + h, a, b - h, a, b};
        double[][] out = m.pushForward(pts, 5);
        double[] z = out[0];
        double j00 = (z[0] - z[2]) / (2 * h);
        double j10 = (z[1] - z[3]) / (2 * h);
        double j01 = (z[4] - z[6]) / (2 * h);
        double j11 = (z[5] - z[7]) / (2 * h);
        double numeric = Math.log(Math.abs(j00 * j11 - j01 * j10));
        assertEquals(numeric, out[1][4], 1e-6, "log|det| at (" + a + ", " + b + ")");
        assertTrue(Math.abs(out[1][4]) > 1e-3, "trivial log-det");
      }
    }
  }

  /** Reverse KL to the analytic mixture goes down with training: KL(q || p) = E_q[log q - log p]. */
  @Test
  void planarFlowFitsItsTargetByReverseKl() throws Exception {
    FlowConfig cfg = FlowConfig.planarToy2d();
    cfg = cfg.withTraining(cfg.training().withSteps(600));
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(2))) {
      Trainer.Result r = new Trainer(m, new ToyBatches(Toys.byName("8gaussians"), 1), cfg.training(),
          Trainer.Options.defaults(tmp).withProgress(false).withCheckpointEvery(0).withSampleEvery(-1), s -> { })
          .run();
      java.util.List<String> rows = java.nio.file.Files.readAllLines(tmp.resolve("loss.csv"));
      double first = Double.parseDouble(rows.get(1).split(",")[1]);
      System.out.printf("planar reverse KL: %.3f at step 1, %.3f at step 600%n", first, r.lastLoss());
      assertTrue(r.lastLoss() < first - 1.0, "reverse KL " + first + " -> " + r.lastLoss());
    }
  }

  /**
   * The 8-bit accounting of the two preprocessings: log P(x) = log p(y) + sum_i log|dy_i/dx_i|, with x on the 8-bit
   * scale. SHIFT (Glow): y = x/256 - 1/2, so the term is -D log 256. LOGIT (RealNVP): y = logit(a + (1-2a) x/256), so
   * each pixel adds log((1 - 2a) / 256) - log p - log(1 - p). Computed here on the host in double precision.
   */
  @Test
  void preprocessingLogDetsFollowTheChangeOfVariables() {
    for (FlowConfig cfg : new FlowConfig[] {FlowConfig.tiny(), FlowConfig.realNvpTiny()}) {
      try (FlowModel m = new FlowModel(cfg, ModelOptions.inference().withDtype(TFloat64.class))) {
        Weights.perturb(m, 0.02, 1);
        int n = 3;
        int d = m.latentDims();
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[n * d];
        double[] y = new double[n * d];
        double[] expected = new double[n];
        double a = cfg.model().logitAlpha();
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (r.nextInt(256) + r.nextDouble());
          double u = x[i] / 256.0;
          if (cfg.model().preprocess() == FlowConfig.Preprocess.SHIFT) {
            y[i] = u - 0.5;
            expected[i / d] += -Math.log(256);
          } else {
            double p = a + (1 - 2 * a) * u;
            y[i] = Math.log(p) - Math.log(1 - p);
            expected[i / d] += Math.log((1 - 2 * a) / 256) - Math.log(p) - Math.log(1 - p);
          }
        }
        double[] logP = m.logProb(new Batch(x, new long[] {n, 8, 8, 3}, null));
        double[] logPy = m.logDensityModelSpace(y, n);
        for (int k = 0; k < n; k++) {
          assertEquals(expected[k], logP[k] - logPy[k], 1e-3 * Math.abs(expected[k]), cfg.preset() + " example " + k);
        }
      }
    }
  }
}
