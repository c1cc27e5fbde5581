package dev.genzoo.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.ebm.EbmConfig;
import dev.genzoo.graphs.ebm.EbmFamily;
import dev.genzoo.graphs.ebm.EbmModel;
import dev.genzoo.graphs.nn.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family ebm}: IGEBM's training step at a preset (cifar10 by default: ResNet32Large with 128
 * filters; the replay-buffer draw, 60 Langevin steps unrolled in the graph, the contrastive loss and one Adam update,
 * all one Session.run) and its sampling step (one Langevin step in inference), beside the same network and step in
 * PyTorch (bench/igebm_torch.py) timed in the same invocation. fp32, or bf16 with {@code --bf16} on the genzoo side
 * (the peer has no bf16 mode and runs fp32).
 */
final class IgebmBench extends BenchCommand.FamilyBench {
  IgebmBench(BenchCommand c) {
    super(c, "ebm", "cifar10", "tiny", false, true,
        "train: one IGEBM step (replay-buffer draw, the preset's Langevin steps unrolled, contrastive loss with "
            + "the L2 regulariser, Adam); sample: one Langevin step");
  }

  private EbmConfig config(String preset) {
    EbmFamily family = new EbmFamily();
    EbmConfig cfg = family.parse(Configs.override(family.preset(preset), c.overrides));
    if (!cfg.model().isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the IGEBM bench times the ResNet (image presets)");
    }
    if (c.batch > cfg.buffer().capacity()) {
      throw new IllegalArgumentException("--batch " + c.batch + " exceeds the replay buffer's "
          + cfg.buffer().capacity() + " slots");
    }
    return cfg;
  }

  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) throws Exception {
    EbmConfig cfg = config(preset);
    BenchCommand.Timing ours = timeGenzoo(cfg, c.threads(), bf16);
    BenchCommand.Timing peer = torch ? timeTorch(cfg, c.threads()) : null;
    return new BenchCommand.Measurement(preset, ours.params(), c.batch, c.batch, ours, peer);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    EbmConfig cfg = config(preset);
    EbmConfig.Model m = cfg.model();
    int threads = c.threads();
    String precision = c.runtime.bf16 ? "bf16" : c.runtime.xla ? "XLA" : "fp32";
    System.out.printf("ebm %s: %s-filter %s energy on %s, %d Langevin steps per training step, batch %d, %d "
        + "threads%n", preset, m.width(), m.network(), java.util.Arrays.toString(m.dataShape()), cfg.chains().steps(),
        c.batch, threads);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("family", "ebm");
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("threads", threads);
    report.put("langevin_steps", cfg.chains().steps());
    BenchCommand.Timing ours = timeGenzoo(cfg, threads, c.runtime.bf16);
    BenchCommand.Timing torch = c.noTorch ? null : timeTorch(cfg, threads);
    c.compare(report, new BenchCommand.Report("energy network", "train s/step", "train img/s", c.batch,
        "genzoo_" + precision, "pytorch_fp32"), precision, ours, torch, "fp32");
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(EbmConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    long t0 = System.nanoTime();
    try (EbmModel model = new EbmModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      System.out.printf("genzoo: graph built and variables initialised in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      long[] shape = Tensors.batchShape(c.batch, cfg.model().dataShape());
      double[] train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, true));
      // one Langevin step from uniform noise per timed call, each continuing the chain
      SplittableRandom rng = new SplittableRandom(1);
      double[][] xs = {rng.doubles(BenchCommand.size(shape)).toArray()};
      double[] sample = c.timeCalls(i -> xs[0] = model.langevin(xs[0], c.batch, i, 1, 1.0, null));
      return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), model.parameterCount(), train, sample);
    }
  }

  private BenchCommand.Timing timeTorch(EbmConfig cfg, int threads) throws Exception {
    EbmConfig.Model m = cfg.model();
    List<String> args = new ArrayList<>(List.of("--filters", "" + m.width(), "--image", "" + m.dataShape()[0],
        "" + m.dataShape()[1], "" + m.dataShape()[2], "--steps", "" + cfg.chains().steps(), "--dropout",
        "" + m.dropout(), "--capacity", "" + cfg.buffer().capacity(), "--batch", "" + c.batch, "--threads",
        "" + threads, "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    return c.peer("pytorch fp32", "igebm_torch.py", args);
  }
}
