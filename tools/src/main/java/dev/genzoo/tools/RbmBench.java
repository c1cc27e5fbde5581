package dev.genzoo.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.rbm.RbmConfig;
import dev.genzoo.graphs.rbm.RbmFamily;
import dev.genzoo.graphs.rbm.RbmModel;
import java.util.SplittableRandom;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family rbm}: the Gaussian-Bernoulli RBM's training step at a preset (mnist by default: 784
 * spins and 200 Gaussian hidden units, PCD-1 from 100 persistent chains, Adam: one Session.run; the family has no
 * CIFAR-10 preset) and its sampling step (one Gibbs sweep of a batch of chains: the hidden half-sweep and the visible
 * half-sweep, each one Session.run, continuing the chain). No PyTorch peer: the model is a matrix product and a few
 * element-wise ops, and the timing is mostly per-call overhead.
 */
final class RbmBench extends BenchCommand.FamilyBench {
  RbmBench(BenchCommand c) {
    super(c, "rbm", "mnist", "tiny", false, false,
        "train: one contrastive divergence step (the preset's CD-k or PCD-k) and Adam; sample: one Gibbs sweep "
            + "(no PyTorch peer; the family has no CIFAR-10 preset, so mnist is its default)");
  }

  private RbmConfig config(String preset) {
    RbmConfig cfg = new RbmFamily().parse(Configs.override(new RbmFamily().preset(preset), c.overrides));
    if (!cfg.model().isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the RBM bench times image presets");
    }
    return cfg;
  }

  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) {
    BenchCommand.Timing ours = timeGenzoo(config(preset), c.threads(), bf16);
    return new BenchCommand.Measurement(preset, ours.params(), c.batch, c.batch, ours, null);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    RbmConfig cfg = config(preset);
    int threads = c.threads();
    String precision = c.runtime.bf16 ? "bf16" : c.runtime.xla ? "XLA" : "fp32";
    System.out.printf("rbm %s: %d visible spins, %d hidden units, batch %d, %d threads, %s; no PyTorch peer%n", preset,
        cfg.model().visible(), cfg.model().hidden(), c.batch, threads, precision);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("family", "rbm");
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("threads", threads);
    report.put("precision", precision);
    BenchCommand.Timing ours = timeGenzoo(cfg, threads, c.runtime.bf16);
    c.compare(report, new BenchCommand.Report("RBM", "train s/step", "train img/s", c.batch, "genzoo", "pytorch"),
        precision, ours, null, "-");
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(RbmConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    try (RbmModel model = new RbmModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      long[] shape = Tensors.batchShape(c.batch, cfg.model().dataShape());
      double[] train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, false));
      SplittableRandom rng = new SplittableRandom(1);
      double[][] spins = {new double[c.batch * model.visibleCount()]};
      for (int k = 0; k < spins[0].length; k++) {
        spins[0][k] = rng.nextBoolean() ? 1 : -1;
      }
      double[] sample = c.timeCalls(i -> {
        double[] hidden = model.sampleHidden(spins[0], c.batch, new long[] {1, 2L * (i + c.warmup)});
        spins[0] = model.sampleVisible(hidden, c.batch, new long[] {1, 2L * (i + c.warmup) + 1});
      });
      return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), model.parameterCount(), train, sample);
    }
  }
}
