package dev.genzoo.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.ncsn.NcsnConfig;
import dev.genzoo.graphs.ncsn.NcsnFamily;
import dev.genzoo.graphs.ncsn.NcsnModel;
import dev.genzoo.graphs.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family ncsn}: the score network's training step at a preset (cifar10 by default: NCSNv2's
 * RefineNet with ngf 128; a random noise level per example, denoising score matching weighted by sigma^2, Adam and
 * the EMA: one Session.run) and its sampling step (one annealed Langevin step x + alpha s(x, sigma) + sqrt(2 alpha) z
 * for a batch), beside the same network and step in PyTorch (bench/ncsn_torch.py) timed in the same invocation.
 *
 * <p>The sampling step is timed on a second, inference-only model of the same network whose noise schedule has one
 * level and no final denoising step, so that {@code sample(batch, T = 1)} is one chain start (a uniform draw) and one
 * Langevin step; the network and its cost do not depend on the levels (NCSNv2 divides by sigma after the network;
 * NCSN v1's conditional norms gather one embedding row).
 */
final class NcsnBench extends BenchCommand.FamilyBench {
  NcsnBench(BenchCommand c) {
    super(c, "ncsn", "cifar10", "tiny", true, true,
        "train: denoising score matching at a random noise level per image, Adam, EMA; sample: one annealed "
            + "Langevin step (a RefineNet evaluation and the update)");
  }

  private NcsnConfig config(String preset, List<String> extra) {
    List<String> overrides = new ArrayList<>(c.overrides);
    overrides.addAll(extra);
    NcsnConfig cfg = new NcsnFamily().parse(Configs.override(new NcsnFamily().preset(preset), overrides));
    if (!cfg.model().isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the NCSN bench times the RefineNet (image presets)");
    }
    return cfg;
  }

  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) throws Exception {
    NcsnConfig cfg = config(preset, List.of());
    BenchCommand.Timing ours = timeGenzoo(preset, cfg, c.threads(), bf16);
    BenchCommand.Timing peer = torch ? timeTorch(cfg, c.threads(), bf16) : null;
    return new BenchCommand.Measurement(preset, ours.params(), c.batch, c.batch, ours, peer);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    NcsnConfig cfg = config(preset, List.of());
    NcsnConfig.Model m = cfg.model();
    int threads = c.threads();
    String precision = c.runtime.bf16 ? "bf16" : c.runtime.xla ? "XLA" : "fp32";
    System.out.printf("ncsn %s: %s ngf %d on %s, %d noise levels, batch %d, %d threads, %s%n", preset, m.network(),
        m.ngf(), java.util.Arrays.toString(m.dataShape()), cfg.noise().numScales(), c.batch, threads, precision);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("family", "ncsn");
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("threads", threads);
    report.put("precision", precision);
    BenchCommand.Timing ours = timeGenzoo(preset, cfg, threads, c.runtime.bf16);
    BenchCommand.Timing torch = c.noTorch ? null : timeTorch(cfg, threads, c.runtime.bf16);
    c.compare(report, new BenchCommand.Report("score network", "train s/step", "train img/s", c.batch, "genzoo",
        "pytorch"), precision, ours, torch, c.runtime.bf16 ? "bf16" : "fp32");
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(String preset, NcsnConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    long[] shape = Tensors.batchShape(c.batch, cfg.model().dataShape());
    long params;
    double[] train;
    try (NcsnModel model = new NcsnModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      params = model.parameterCount();
      train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, true));
    }
    NcsnConfig one = config(preset, List.of("noise.numScales=1", "sampling.finalDenoise=false"));
    double[] sample;
    try (NcsnModel model = new NcsnModel(one, new ModelOptions(false, 0, rt, TFloat32.class))) {
      sample = c.timeCalls(i -> model.sample(c.batch, new SampleOptions(i + 100, 1.0, null, 1, c.batch)));
    }
    return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), params, train, sample);
  }

  private BenchCommand.Timing timeTorch(NcsnConfig cfg, int threads, boolean bf16) throws Exception {
    NcsnConfig.Model m = cfg.model();
    if (cfg.training().optimizer().name() != dev.genzoo.graphs.train.OptimizerConfig.Name.ADAM) {
      throw new IllegalArgumentException("the NCSN peer trains with Adam, the preset with "
          + cfg.training().optimizer().name() + ": pass --no-torch");
    }
    List<String> args = new ArrayList<>(List.of("--variant",
        m.network() == NcsnConfig.Network.REFINENET_V1 ? "v1" : "v2", "--ngf", "" + m.ngf(), "--image",
        "" + m.dataShape()[0], "" + m.dataShape()[1], "" + m.dataShape()[2], "--sigma-begin",
        "" + cfg.noise().sigmaBegin(), "--sigma-end", "" + cfg.noise().sigmaEnd(), "--num-scales",
        "" + cfg.noise().numScales(), "--lr", "" + cfg.training().optimizer().learningRate(), "--beta1",
        "" + cfg.training().optimizer().beta1(), "--beta2", "" + cfg.training().optimizer().beta2(), "--eps",
        "" + cfg.training().optimizer().epsilon(), "--clip", "" + cfg.training().gradClipNorm(), "--ema",
        "" + cfg.training().emaDecay(), "--step-lr", "" + cfg.sampling().stepLr(), "--batch", "" + c.batch,
        "--threads", "" + threads, "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    if (bf16) {
      args.add("--bf16");
    }
    return c.peer("pytorch " + (bf16 ? "bf16" : "fp32"), "ncsn_torch.py", args);
  }
}
