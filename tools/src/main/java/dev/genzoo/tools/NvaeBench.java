package dev.genzoo.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nvae.NvaeConfig;
import dev.genzoo.graphs.nvae.NvaeFamily;
import dev.genzoo.graphs.nvae.NvaeModel;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family nvae}: one NVAE training step (encoder, decoder, ELBO with KL balancing, spectral
 * regulariser with its power iterations, BN penalty, Adamax: one Session.run) and one sampling pass (ancestral through
 * the decoder at T = 1, without the BN readjustment), at a preset, beside the same network and step in PyTorch
 * (bench/nvae_torch.py, upstream NVAE's train.py loop) timed in the same invocation.
 */
final class NvaeBench extends BenchCommand.FamilyBench {
  NvaeBench(BenchCommand c) {
    super(c, "nvae", "cifar10", "tiny", false, true,
        "train: ELBO with KL balancing, spectral and BN regularisers, Adamax; sample: one ancestral pass through "
            + "the decoder at T = 1 (no BN readjustment)");
  }

  private NvaeConfig config(String preset) {
    List<String> overrides = new ArrayList<>(c.overrides);
    overrides.add("sampling.readjustBnIterations=0");
    NvaeConfig cfg = new NvaeFamily().parse(Configs.override(new NvaeFamily().preset(preset), overrides));
    if (!cfg.model().isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the NVAE bench times image presets");
    }
    return cfg;
  }

  /** The peer runs first, as in {@link #run}. */
  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) throws Exception {
    NvaeConfig cfg = config(preset);
    BenchCommand.Timing peer = torch ? timeTorch(cfg, c.threads()) : null;
    BenchCommand.Timing ours = timeGenzoo(cfg, c.threads(), bf16);
    return new BenchCommand.Measurement(preset, ours.params(), c.batch, c.batch, ours, peer);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    NvaeConfig cfg = config(preset);
    NvaeConfig.Model m = cfg.model();
    int threads = c.threads();
    String precision = c.runtime.bf16 ? "bf16" : c.runtime.xla ? "XLA" : "fp32";
    System.out.printf("nvae %s: %s, batch %d, %d threads, %s%n", preset, m, c.batch, threads, precision);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("family", "nvae");
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("threads", threads);
    report.put("precision", precision);
    // The peer runs first: at cifar10 and batch 8 each side needs 12-19 GB, and TensorFlow's allocator keeps this
    // process's memory after the model is closed, so PyTorch after genzoo would run out of memory on a 24 GB machine.
    BenchCommand.Timing torch = c.noTorch ? null : timeTorch(cfg, threads);
    BenchCommand.Timing ours = timeGenzoo(cfg, threads, c.runtime.bf16);
    c.compare(report, new BenchCommand.Report("NVAE", "train s/step", "train img/s", c.batch, "genzoo", "pytorch"),
        precision, ours, torch, "fp32");
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(NvaeConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    try (NvaeModel model = new NvaeModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      long[] shape = Tensors.batchShape(c.batch, cfg.model().dataShape());
      double[] train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, false));
      double[] sample = c.timeCalls(i -> model.sample(c.batch, new SampleOptions(i + 100, 1.0, null, 0, c.batch)));
      return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), model.parameterCount(), train, sample);
    }
  }

  private BenchCommand.Timing timeTorch(NvaeConfig cfg, int threads) throws Exception {
    NvaeConfig.Model m = cfg.model();
    long[] d = m.dataShape();
    List<String> args = new ArrayList<>(List.of("--image", "" + (d[0] + 2L * m.padding()), "" + (d[1] + 2L
        * m.padding()), "" + d[2], "--channels-enc", "" + m.channelsEnc(), "--channels-dec", "" + m.channelsDec(),
        "--pre-blocks", "" + m.preprocessBlocks(), "--pre-cells", "" + m.preprocessCells(), "--scales",
        "" + m.latentScales(), "--groups", "" + m.groupsPerScale(), "--min-groups", "" + m.minGroupsPerScale(),
        "--latent", "" + m.latentPerGroup(), "--cells-enc", "" + m.cellsPerGroupEnc(), "--cells-dec",
        "" + m.cellsPerGroupDec(), "--post-blocks", "" + m.postprocessBlocks(), "--post-cells",
        "" + m.postprocessCells(), "--num-mix", "" + m.numMix(), "--num-nf", "" + m.numFlows(), "--likelihood",
        m.likelihood() == NvaeConfig.Likelihood.BERNOULLI ? "bernoulli" : "dmol", "--batch", "" + c.batch,
        "--threads", "" + threads, "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    if (m.adaGroups()) {
      args.add("--ada-groups");
    }
    if (!m.useSe()) {
      args.add("--no-se");
    }
    return c.peer("pytorch fp32", "nvae_torch.py", args);
  }
}
