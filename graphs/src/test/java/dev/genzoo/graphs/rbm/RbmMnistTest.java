package dev.genzoo.graphs.rbm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.ImageBatches;
import dev.genzoo.data.ImageDataset;
import dev.genzoo.data.MnistReader;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.train.Trainer;
import dev.genzoo.graphs.train.TrainingConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short run of the MNIST preset on the real data (skipped when the shared data folder is absent). */
class RbmMnistTest {
  private static Path mnistDir() {
    String root = System.getProperty("genzoo.shared.data");
    Assumptions.assumeTrue(root != null && Files.isDirectory(Path.of(root, "mnist")),
        "shared data folder mnist not available (set -Dgenzoo.shared.data=../shared/data); skipping");
    return Path.of(root, "mnist");
  }

  /** Mean of column {@code name} of loss.csv over rows [from, to). */
  private static double column(List<String> lines, String name, int from, int to) {
    List<String> header = List.of(lines.get(0).split(","));
    int c = header.indexOf(name);
    assertTrue(c > 0, "loss.csv has no column " + name + ": " + header);
    double sum = 0;
    for (int i = from; i < to; i++) {
      sum += Double.parseDouble(lines.get(1 + i).split(",")[c]);
    }
    return sum / (to - from);
  }

  @Test
  void shortMnistRunLowersReconstructionErrorAndDrawsDigits(@TempDir Path tmp) throws IOException {
    ImageDataset train = MnistReader.readDir(mnistDir(), "train");
    RbmConfig preset = RbmConfig.mnist();
    int steps = 1500;
    TrainingConfig t = preset.training().withSteps(steps);
    RbmConfig config = preset.withTraining(t);
    try (RbmModel model = new RbmModel(config, ModelOptions.training(0))) {
      Trainer.Options opt = new Trainer.Options(tmp.resolve("run"), 0, 0, -1, 0, 10, 1, false, false, null, 0);
      new Trainer(model, new ImageBatches(train, 0, false, false), t, opt, s -> { }).run();
      List<String> lines = Files.readAllLines(tmp.resolve("run/loss.csv"));
      assertEquals(steps + 1, lines.size());
      double first = column(lines, "recon_error", 0, 5);
      double last = column(lines, "recon_error", steps - 20, steps);
      // Visible fields from the data means give about 0.09 per pixel; 1500 PCD-1 steps (2.5 epochs) bring it to about half of that.
      assertTrue(first > 0.06 && first < 0.12, "initial reconstruction error " + first);
      assertTrue(last < 0.6 * first, "reconstruction error " + first + " -> " + last);
      assertTrue(Files.exists(tmp.resolve("run/checkpoints/latest")));

      Samples s = model.sample(16, new SampleOptions(1, 1, null, 200, 0));
      assertEquals(List.of(16L, 28L, 28L, 1L), List.of(s.shape()[0], s.shape()[1], s.shape()[2], s.shape()[3]));
      double mean = 0;
      for (float v : s.data()) {
        assertTrue(v >= 0 && v <= 1);
        mean += v / s.data().length;
      }
      // Binarised MNIST has about 13% of its pixels on; blank or saturated grids would be far from it.
      assertTrue(mean > 0.03 && mean < 0.4, "mean sample intensity " + mean);
      Path png = tmp.resolve("samples.png");
      Trainer.writeSamples(s, png, "rbm samples");
      assertTrue(Files.size(png) > 0);
    }
  }
}
