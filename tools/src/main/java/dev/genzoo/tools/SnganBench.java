package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.sngan.SnganConfig;
import dev.genzoo.graphs.sngan.SnganFamily;
import dev.genzoo.graphs.sngan.SnganModel;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.io.AtomicFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Result;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * {@code genzoo bench --family sngan}: one SN-GAN generator iteration (n_dis critic updates, each on its own batch of
 * real images and a fresh batch of G(z), then one generator update: one Session.run) and one sampling step (G on a
 * batch of z) at a preset, beside the same networks and iteration in PyTorch (bench/sngan_torch.py, Mimicry's loop)
 * timed in the same invocation. --batch is the batch of each update, so an iteration consumes n_dis x batch real
 * images.
 */
final class SnganBench {
  private final BenchCommand c;

  SnganBench(BenchCommand c) {
    this.c = c;
  }

  int run() throws Exception {
    String preset = c.preset == null ? "cifar10" : c.preset;
    SnganConfig cfg = new SnganFamily().parse(Configs.override(new SnganFamily().preset(preset), c.overrides));
    SnganConfig.Model m = cfg.model();
    if (!m.isImage()) {
      throw new IllegalArgumentException("--preset " + preset + ": the SN-GAN bench times the ResNets (image presets)");
    }
    int threads = c.runtime.threads > 0 ? c.runtime.threads : Runtime.getRuntime().availableProcessors();
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
    List<String> rows = new ArrayList<>();
    List<double[]> values = new ArrayList<>();
    BenchCommand.Timing ours = timeGenzoo(cfg, threads);
    report.set("genzoo", ours.toJson());
    rows.add("genzoo (TF Java " + precision + ")");
    values.add(new double[] {ours.train(), ours.sample()});
    if (!c.noTorch) {
      BenchCommand.Timing torch = timeTorch(cfg, threads);
      report.set("pytorch", torch.toJson());
      rows.add("PyTorch " + torch.version() + (c.runtime.bf16 ? " bf16" : " fp32"));
      values.add(new double[] {torch.train(), torch.sample()});
      rows.add("ratio genzoo / PyTorch");
      values.add(new double[] {torch.train() / ours.train(), torch.sample() / ours.sample(), 1});
      report.put("train_speedup_vs_pytorch", torch.train() / ours.train());
      report.put("sample_speedup_vs_pytorch", torch.sample() / ours.sample());
      if (torch.params() != ours.params()) {
        System.out.println("warning: parameter counts differ: genzoo " + ours.params() + ", PyTorch "
            + torch.params());
      }
    }
    System.out.println();
    System.out.printf("G and D: %,d parameters%n", ours.params());
    System.out.printf("%-30s %12s %12s %14s %12s%n", "", "s/G iter", "real img/s", "sample s/step", "sample img/s");
    for (int i = 0; i < rows.size(); i++) {
      double[] v = values.get(i);
      if (v.length == 3) {
        System.out.printf("%-30s %12s %11.2fx %14s %11.2fx%n", rows.get(i), "", v[0], "", v[1]);
      } else {
        System.out.printf("%-30s %12.3f %12.2f %14.3f %12.2f%n", rows.get(i), v[0], (double) nDis * c.batch / v[0],
            v[1], c.batch / v[1]);
      }
    }
    if (c.json != null) {
      AtomicFiles.writeString(c.json, Configs.JSON.writeValueAsString(report));
      System.out.println("wrote " + c.json);
    }
    return 0;
  }

  private BenchCommand.Timing timeGenzoo(SnganConfig cfg, int threads) {
    var rt = new RuntimeOptions(threads, 1, c.runtime.xla, c.runtime.bf16, c.runtime.device);
    try (SnganModel model = new SnganModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      TrainGraph g = model.trainGraph();
      long[] ds = cfg.model().dataShape();
      long[] shape = {(long) g.batchesPerStep() * c.batch, ds[0], ds[1], ds[2]};
      int size = (int) (shape[0] * shape[1] * shape[2] * shape[3]);
      SplittableRandom rng = new SplittableRandom(0);
      double[] train = new double[c.iters];
      for (int i = -c.warmup; i < c.iters; i++) {
        float[] x = new float[size];
        for (int k = 0; k < size; k++) {
          x[k] = rng.nextInt(256);
        }
        try (TFloat32 xt = HostTensors.float32(x, shape); TInt64 seed = TInt64.vectorOf(0, i + c.warmup)) {
          var r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step()).fetch(g.loss());
          long t0 = System.nanoTime();
          try (Result res = r.run()) {
            if (i >= 0) {
              train[i] = (System.nanoTime() - t0) / 1e9;
            }
            float loss = ((TFloat32) res.get(0)).getFloat();
            if (!Float.isFinite(loss)) {
              throw new IllegalStateException("the critic loss is " + loss + " at iteration " + i);
            }
          }
        }
      }
      double[] sample = new double[c.iters];
      for (int i = -c.warmup; i < c.iters; i++) {
        long t0 = System.nanoTime();
        model.sample(c.batch, new SampleOptions(i + 100, 1.0, null, 0, c.batch));
        if (i >= 0) {
          sample[i] = (System.nanoTime() - t0) / 1e9;
        }
      }
      System.out.printf("genzoo: iterations %s s, sample steps %s s%n", Arrays.toString(BenchCommand.round(train)),
          Arrays.toString(BenchCommand.round(sample)));
      return new BenchCommand.Timing(BenchCommand.median(train), BenchCommand.median(sample), model.parameterCount(),
          "TF Java 1.0.0", train, sample);
    }
  }

  private BenchCommand.Timing timeTorch(SnganConfig cfg, int threads) throws Exception {
    SnganConfig.Model m = cfg.model();
    List<String> args = new ArrayList<>(List.of("--nz", "" + m.zDim(), "--ngf", "" + m.ngf(), "--ndf", "" + m.ndf(),
        "--bottom-width", "" + m.bottomWidth(), "--image", "" + m.dataShape()[0], "" + m.dataShape()[1],
        "" + m.dataShape()[2], "--n-dis", "" + cfg.gan().nDis(), "--upsample",
        m.upsample().name().toLowerCase(java.util.Locale.ROOT), "--lr", "" + cfg.training().optimizer().learningRate(),
        "--steps", "" + Math.max(1, cfg.training().steps()), "--batch", "" + c.batch, "--threads", "" + threads,
        "--warmup", "" + c.warmup, "--iters", "" + c.iters));
    if (c.runtime.bf16) {
      args.add("--bf16");
    }
    JsonNode j = c.runPeer("sngan_torch.py", args);
    double[] train = BenchCommand.toArray(j.path("train_step_s_all"));
    double[] sample = BenchCommand.toArray(j.path("sample_step_s_all"));
    System.out.printf("pytorch: iterations %s s, sample steps %s s%n", Arrays.toString(BenchCommand.round(train)),
        Arrays.toString(BenchCommand.round(sample)));
    return new BenchCommand.Timing(j.path("train_step_s").asDouble(), j.path("sample_step_s").asDouble(),
        j.path("params").asLong(), j.path("torch").asText(), train, sample);
  }
}
