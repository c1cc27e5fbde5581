package dev.genzoo.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.sngan.SnganConfig;
import dev.genzoo.graphs.sngan.SnganFamily;
import dev.genzoo.graphs.sngan.SnganModel;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family sngan}: one SN-GAN generator iteration (n_dis critic updates, each on its own batch of
 * real images and a fresh batch of G(z), then one generator update: one Session.run) and one sampling step (G on a
 * batch of z) at a preset, beside the same networks and iteration in PyTorch (bench/sngan_torch.py, Mimicry's loop)
 * timed in the same invocation. --batch is the batch of each update, so an iteration consumes n_dis x batch real
 * images.
 */
final class SnganBench extends BenchCommand.FamilyBench {
  SnganBench(BenchCommand c) {
    super(c, "sngan", "cifar10", "tiny", true, true,
        "train: one generator iteration (n_dis hinge-loss critic updates with Adam, then the generator update; "
            + "images/s counts the n_dis x batch real images); sample: G on a batch of z");
  }

  private SnganConfig config(String preset) {
    SnganConfig cfg = new SnganFamily().parse(Configs.override(new SnganFamily().preset(preset), c.overrides));
    if (!cfg.model().isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the SN-GAN bench times the ResNets (image presets)");
    }
    return cfg;
  }

  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) throws Exception {
    SnganConfig cfg = config(preset);
    BenchCommand.Timing ours = timeGenzoo(cfg, c.threads(), bf16);
    BenchCommand.Timing peer = torch ? timeTorch(cfg, c.threads(), bf16) : null;
    return new BenchCommand.Measurement(preset, ours.params(), (double) cfg.gan().nDis() * c.batch, c.batch, ours,
        peer);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    SnganConfig cfg = config(preset);
    SnganConfig.Model m = cfg.model();
    int threads = c.threads();
    int nDis = cfg.gan().nDis();
    String precision = c.runtime.bf16 ? "bf16" : c.runtime.xla ? "XLA" : "fp32";
    System.out.printf("sngan %s: %s, n_dis %d, batch %d, %d threads, %s%n", preset, m, nDis, c.batch, threads,
        precision);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("family", "sngan");
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("n_dis", nDis);
    report.put("threads", threads);
    report.put("precision", precision);
    BenchCommand.Timing ours = timeGenzoo(cfg, threads, c.runtime.bf16);
    BenchCommand.Timing torch = c.noTorch ? null : timeTorch(cfg, threads, c.runtime.bf16);
    c.compare(report, new BenchCommand.Report("G and D", "s/G iter", "real img/s", (double) nDis * c.batch, "genzoo",
        "pytorch"), precision, ours, torch, c.runtime.bf16 ? "bf16" : "fp32");
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(SnganConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    try (SnganModel model = new SnganModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      // one generator iteration consumes n_dis real batches, fed as one
      long[] shape = Tensors.batchShape((long) model.trainGraph().batchesPerStep() * c.batch, cfg.model().dataShape());
      double[] train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, false));
      double[] sample = c.timeCalls(i -> model.sample(c.batch, new SampleOptions(i + 100, 1.0, null, 0, c.batch)));
      return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), model.parameterCount(), train, sample);
    }
  }

  private BenchCommand.Timing timeTorch(SnganConfig cfg, int threads, boolean bf16) throws Exception {
    SnganConfig.Model m = cfg.model();
    List<String> args = new ArrayList<>(List.of("--nz", "" + m.zDim(), "--ngf", "" + m.ngf(), "--ndf", "" + m.ndf(),
        "--bottom-width", "" + m.bottomWidth(), "--image", "" + m.dataShape()[0], "" + m.dataShape()[1],
        "" + m.dataShape()[2], "--n-dis", "" + cfg.gan().nDis(), "--upsample",
        m.upsample().name().toLowerCase(java.util.Locale.ROOT), "--lr", "" + cfg.training().optimizer().learningRate(),
        "--steps", "" + Math.max(1, cfg.training().steps()), "--batch", "" + c.batch, "--threads", "" + threads,
        "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    if (bf16) {
      args.add("--bf16");
    }
    return c.peer("pytorch " + (bf16 ? "bf16" : "fp32"), "sngan_torch.py", args);
  }
}
