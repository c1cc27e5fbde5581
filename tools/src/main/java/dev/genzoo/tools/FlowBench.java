package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.flow.FlowConfig;
import dev.genzoo.graphs.flow.FlowCost;
import dev.genzoo.graphs.flow.FlowFamily;
import dev.genzoo.graphs.flow.FlowModel;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.io.AtomicFiles;
import java.util.List;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family flow} (the default family): Glow's training step (the bits/dim loss, backward and one
 * Adamax update) and sampling step (one full inverse pass from the priors at T = 1) at a preset (glow-cifar10 by
 * default), beside the same architecture in PyTorch (bench/glow_torch.py, fp32 only) timed in the same invocation,
 * with GFLOP/s from the counted MACs.
 */
final class FlowBench extends BenchCommand.FamilyBench {
  FlowBench(BenchCommand c) {
    super(c, "flow", "glow-cifar10", "tiny", false, true,
        "train: bits/dim loss, backward, Adamax; sample: one full inverse pass from the priors (T = 1)");
  }

  private FlowConfig config(String preset) {
    return new FlowFamily().parse(Configs.override(new FlowFamily().preset(preset), c.overrides));
  }

  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) throws Exception {
    FlowConfig cfg = config(preset);
    BenchCommand.Timing ours = timeGenzoo(cfg, c.threads(), bf16);
    BenchCommand.Timing peer = torch ? timeTorch(cfg.model(), c.threads()) : null;
    return new BenchCommand.Measurement(preset, ours.params(), c.batch, c.batch, ours, peer);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    FlowConfig cfg = config(preset);
    FlowConfig.Model m = cfg.model();
    int threads = c.threads();
    long macs = FlowCost.forwardMacs(m);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("threads", threads);
    report.put("forward_macs_per_image", macs);
    System.out.printf("glow %s: %s, batch %d, %d threads, %.2f GMAC forward per image%n", preset, m, c.batch, threads,
        macs / 1e9);
    BenchCommand.Timing ours = timeGenzoo(cfg, threads, c.runtime.bf16);
    report.set("genzoo", ours.toJson());
    BenchCommand.Timing torch = null;
    if (!c.noTorch) {
      torch = timeTorch(m, threads);
      report.set("pytorch", torch.toJson());
    }
    System.out.println();
    System.out.printf("%-28s %12s %12s %10s %12s %12s %10s%n", "", "train s/step", "train img/s", "GFLOP/s",
        "sample s", "sample img/s", "GFLOP/s");
    row("genzoo (TF Java " + (c.runtime.bf16 ? "bf16" : c.runtime.xla ? "XLA" : "fp32") + ")", ours, macs);
    if (torch != null) {
      row("PyTorch " + torch.version() + " fp32", torch, macs);
      System.out.printf("%-28s %12s %12.2fx %10s %12s %12.2fx%n", "ratio genzoo / PyTorch", "",
          torch.train() / ours.train(), "", "", torch.sample() / ours.sample());
      report.put("train_speedup_vs_pytorch", torch.train() / ours.train());
      report.put("sample_speedup_vs_pytorch", torch.sample() / ours.sample());
      if (torch.params() != ours.params()) {
        System.out.println("warning: parameter counts differ: genzoo " + ours.params() + ", PyTorch "
            + torch.params());
      }
    }
    if (c.json != null) {
      AtomicFiles.writeString(c.json, Configs.JSON.writeValueAsString(report));
      System.out.println("wrote " + c.json);
    }
    return 0;
  }

  private void row(String name, BenchCommand.Timing t, long macs) {
    double trainFlops = 3.0 * 2 * macs * c.batch / t.train() / 1e9;
    double sampleFlops = 2.0 * macs * c.batch / t.sample() / 1e9;
    System.out.printf("%-28s %12.3f %12.2f %10.1f %12.3f %12.2f %10.1f%n", name, t.train(), c.batch / t.train(),
        trainFlops, t.sample(), c.batch / t.sample(), sampleFlops);
  }

  private BenchCommand.Timing timeGenzoo(FlowConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    try (FlowModel model = new FlowModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      long[] shape = Tensors.batchShape(c.batch, cfg.model().dataShape());
      double[] train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, true));
      double[] sample = c.timeCalls(i -> model.sample(c.batch, new SampleOptions(i + 100, 1.0, null, 0, c.batch)));
      return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), model.parameterCount(), train, sample);
    }
  }

  private BenchCommand.Timing timeTorch(FlowConfig.Model m, int threads) throws Exception {
    JsonNode j = c.runPeer("glow_torch.py", List.of("--levels", "" + m.levels(), "--steps", "" + m.steps(),
        "--width", "" + m.width(), "--image", "" + m.dataShape()[0], "" + m.dataShape()[1], "" + m.dataShape()[2],
        "--batch", "" + c.batch, "--threads", "" + threads, "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    if (j.path("forward_macs_per_image").asLong() != FlowCost.forwardMacs(m)) {
      System.out.println("warning: MAC counts differ: genzoo " + FlowCost.forwardMacs(m) + ", PyTorch "
          + j.path("forward_macs_per_image").asLong());
    }
    return BenchCommand.peerTiming("pytorch fp32", j);
  }
}
