package dev.genzoo.graphs.flow;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.data.ToyBatches;
import dev.genzoo.data.ToyDistribution;
import dev.genzoo.data.Toys;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 2-D flow trained by maximum likelihood reaches the true negative entropy of toy:8gaussians. */
class ToyFitTest {
  @TempDir
  Path tmp;

  /**
   * KL(p || q) = E_p[log p] - E_p[log q], by Monte Carlo over {@code n} samples of the analytic mixture; E_p[log p]
   * is the negative entropy of the data, computed from the exact density.
   */
  public static double[] klFromData(GenerativeModel model, ToyDistribution p, int n, long seed) {
    float[] x = p.sample(new SplittableRandom(seed), n);
    double[] logQ = model.logProb(new Batch(x, new long[] {n, p.dim()}, null));
    double negEntropy = 0;
    double crossEntropy = 0;
    for (int i = 0; i < n; i++) {
      double[] point = new double[p.dim()];
      for (int d = 0; d < p.dim(); d++) {
        point[d] = x[i * p.dim() + d];
      }
      negEntropy += p.logDensity(point);
      crossEntropy += logQ[i];
    }
    return new double[] {negEntropy / n, crossEntropy / n};
  }

  @Test
  void realNvp2dComesWithinAThirdOfANatOfTheTrueEntropy() throws IOException {
    FlowConfig cfg = FlowConfig.realNvpToy2d();
    cfg = cfg.withTraining(cfg.training().withSteps(2000));
    ToyDistribution eight = Toys.byName("8gaussians");
    try (FlowModel model = new FlowModel(cfg, ModelOptions.training(1))) {
      Trainer.Options opt = Trainer.Options.defaults(tmp).withSeed(1).withProgress(false).withCheckpointEvery(0)
          .withSampleEvery(-1);
      new Trainer(model, new ToyBatches(eight, 1), cfg.training(), opt, s -> { }).run();
      // The EMA weights are the ones a bundle ships: evaluate those.
      model.session().runner().addTarget(model.trainGraph().ema().swapIn()).run().close();
      double[] e = klFromData(model, eight, 20000, 99);
      double gap = e[0] - e[1];
      System.out.printf("realnvp-toy2d on 8gaussians: E_p log p = %.4f, E_p log q = %.4f, KL = %.4f nats%n", e[0], e[1], gap);
      assertTrue(gap < 0.3, "KL(data || model) = " + gap + " nats");
      assertTrue(gap > -0.05, "KL cannot be negative beyond Monte Carlo noise: " + gap);
    }
  }
}
