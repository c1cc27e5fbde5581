package dev.genzoo.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.ddpm.DdpmConfig;
import dev.genzoo.graphs.ddpm.DdpmFamily;
import dev.genzoo.graphs.ddpm.DdpmModel;
import dev.genzoo.graphs.ddpm.DiffusionSampler;
import dev.genzoo.graphs.ddpm.VarianceType;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.io.AtomicFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.types.TFloat32;

/**
 * {@code genzoo bench --family ddpm}: the DDPM U-Net's training step (L_simple, Adam, clipping, EMA: one Session.run)
 * and sampling step (one ancestral step: a U-Net evaluation and the update) at a preset, in fp32 and in bf16 (the
 * oneDNN auto-mixed-precision rewrite), each beside the same network in PyTorch (bench/ddpm_torch.py; bf16 under
 * torch.autocast) timed in the same invocation.
 */
final class DdpmBench extends BenchCommand.FamilyBench {
  DdpmBench(BenchCommand c) {
    super(c, "ddpm", "cifar10", "tiny", true, true,
        "train: L_simple at a random t, backward, clipping, Adam, EMA; sample: one ancestral step (a U-Net "
            + "evaluation and the update)");
  }

  private DdpmConfig config(String preset) {
    DdpmConfig cfg = new DdpmFamily().parse(Configs.override(new DdpmFamily().preset(preset), c.overrides));
    if (!cfg.model().isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the DDPM bench times the U-Net (image presets)");
    }
    return cfg;
  }

  @Override
  public BenchCommand.Measurement measure(String preset, boolean bf16, boolean torch) throws Exception {
    DdpmConfig cfg = config(preset);
    BenchCommand.Timing ours = timeGenzoo(cfg, c.threads(), bf16);
    BenchCommand.Timing peer = torch ? timeTorch(cfg.model(), c.threads(), bf16) : null;
    return new BenchCommand.Measurement(preset, ours.params(), c.batch, c.batch, ours, peer);
  }

  int run() throws Exception {
    String preset = c.preset == null ? defaultPreset() : c.preset;
    DdpmConfig cfg = config(preset);
    DdpmConfig.Model m = cfg.model();
    int threads = c.threads();
    System.out.printf("ddpm %s: %s, batch %d, %d threads%n", preset, m, c.batch, threads);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("family", "ddpm");
    report.put("preset", preset);
    report.put("batch", c.batch);
    report.put("threads", threads);
    List<String[]> rows = new ArrayList<>();
    List<double[]> values = new ArrayList<>();
    long params = 0;
    for (boolean bf16 : new boolean[] {false, true}) {
      String precision = bf16 ? "bf16" : "fp32";
      BenchCommand.Timing ours = timeGenzoo(cfg, threads, bf16);
      params = ours.params();
      report.set("genzoo_" + precision, ours.toJson());
      rows.add(new String[] {"genzoo (TF Java) " + precision});
      values.add(new double[] {ours.train(), ours.sample()});
      if (!c.noTorch) {
        BenchCommand.Timing torch = timeTorch(m, threads, bf16);
        report.set("pytorch_" + precision, torch.toJson());
        rows.add(new String[] {"PyTorch " + torch.version() + " " + precision});
        values.add(new double[] {torch.train(), torch.sample()});
        rows.add(new String[] {"ratio genzoo / PyTorch " + precision});
        values.add(new double[] {torch.train() / ours.train(), torch.sample() / ours.sample(), 1});
        report.put("train_speedup_vs_pytorch_" + precision, torch.train() / ours.train());
        report.put("sample_speedup_vs_pytorch_" + precision, torch.sample() / ours.sample());
        if (torch.params() != ours.params()) {
          System.out.println("warning: parameter counts differ: genzoo " + ours.params() + ", PyTorch "
              + torch.params());
        }
      }
    }
    System.out.println();
    System.out.printf("U-Net: %,d parameters%n", params);
    System.out.printf("%-34s %12s %12s %14s %12s%n", "", "train s/step", "train img/s", "sample s/step",
        "sample img/s");
    for (int i = 0; i < rows.size(); i++) {
      double[] v = values.get(i);
      if (v.length == 3) {
        System.out.printf("%-34s %12s %11.2fx %14s %11.2fx%n", rows.get(i)[0], "", v[0], "", v[1]);
      } else {
        System.out.printf("%-34s %12.3f %12.2f %14.3f %12.2f%n", rows.get(i)[0], v[0], c.batch / v[0], v[1],
            c.batch / v[1]);
      }
    }
    if (c.json != null) {
      AtomicFiles.writeString(c.json, Configs.JSON.writeValueAsString(report));
      System.out.println("wrote " + c.json);
    }
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(DdpmConfig cfg, int threads, boolean bf16) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, bf16, c.runtime.device);
    try (DdpmModel model = new DdpmModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      long[] shape = Tensors.batchShape(c.batch, cfg.model().dataShape());
      double[] train = c.timeTrainSteps(model, shape, BenchCommand.randomImages(BenchCommand.size(shape), 0, false));
      DiffusionSampler.Spec spec = new DiffusionSampler.Spec(DiffusionSampler.Spec.Kind.ANCESTRAL,
          VarianceType.FIXED_LARGE, cfg.diffusion().timesteps(), 1);
      SplittableRandom rng = new SplittableRandom(1);
      double[] xs = new double[BenchCommand.size(shape)];
      for (int k = 0; k < xs.length; k++) {
        xs[k] = rng.nextGaussian();
      }
      int t = cfg.diffusion().timesteps() / 2;
      double[] sample = c.timeCalls(i -> model.sampleStep(xs, c.batch, t, i, spec));
      return BenchCommand.ours("genzoo " + (bf16 ? "bf16" : "fp32"), model.parameterCount(), train, sample);
    }
  }

  private BenchCommand.Timing timeTorch(DdpmConfig.Model m, int threads, boolean bf16) throws Exception {
    List<String> args = new ArrayList<>(List.of("--ch", "" + m.ch(), "--num-res-blocks", "" + m.numResBlocks(),
        "--dropout", "" + m.dropout(), "--num-classes", "" + m.numClasses(), "--image", "" + m.dataShape()[0],
        "" + m.dataShape()[1], "" + m.dataShape()[2], "--batch", "" + c.batch, "--threads", "" + threads,
        "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    args.add("--ch-mult");
    for (int v : m.chMult()) {
      args.add("" + v);
    }
    args.add("--attn-res");
    for (int v : m.attnResolutions()) {
      args.add("" + v);
    }
    if (bf16) {
      args.add("--bf16");
    }
    return c.peer("pytorch " + (bf16 ? "bf16" : "fp32"), "ddpm_torch.py", args);
  }
}
