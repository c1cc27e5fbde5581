package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.flow.FlowConfig;
import dev.genzoo.graphs.flow.FlowCost;
import dev.genzoo.graphs.flow.FlowFamily;
import dev.genzoo.graphs.flow.FlowModel;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.io.AtomicFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Times the training step and the sampling step of a Glow preset (glow-cifar10 by default) on this machine and,
 * in the same invocation, the same architecture in PyTorch (tools' bench/glow_torch.py under Debian's python3-torch),
 * and reports images/s, GFLOP/s and the ratio. A benchmark, not a test: run it on a quiet machine.
 */
@Command(name = "bench", description = {"Throughput of training and sampling steps beside a PyTorch peer, same run.",
    "Example: genzoo bench --batch 8 --iters 5"})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--family", defaultValue = "flow", description = "flow (Glow), ddpm (the DDPM U-Net, fp32 and "
      + "bf16 in one run), sngan (one generator iteration: n_dis critic updates and the generator update), ebm (an IGEBM "
      + "step: 60 Langevin steps from the replay buffer and the update) or nvae (an NVAE step: ELBO, KL balancing, "
      + "spectral regulariser, Adamax)")
  String family;

  @Option(names = "--preset", description = "the family's preset (default: its CIFAR-10 one)")
  String preset;

  @Option(names = "--set", paramLabel = "KEY=VALUE")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--batch", defaultValue = "8")
  int batch;

  @Option(names = "--warmup", defaultValue = "2")
  int warmup;

  @Option(names = "--iters", defaultValue = "5")
  int iters;

  @Option(names = "--python", description = "python with torch (default /usr/bin/python3, else python3)")
  String python;

  @Option(names = "--no-torch", description = "skip the PyTorch peer")
  boolean noTorch;

  @Option(names = "--json", description = "also write the results as JSON")
  Path json;

  @Mixin
  RuntimeMixin runtime;

  @Override
  public Integer call() throws Exception {
    if (family.equals("ddpm")) {
      return new DdpmBench(this).run();
    }
    if (family.equals("sngan")) {
      return new SnganBench(this).run();
    }
    if (family.equals("ebm")) {
      return new IgebmBench(this).run();
    }
    if (family.equals("nvae")) {
      return new NvaeBench(this).run();
    }
    if (!family.equals("flow")) {
      throw new IllegalArgumentException("--family " + family + ": bench knows flow, ddpm, sngan, ebm and nvae");
    }
    if (preset == null) {
      preset = "glow-cifar10";
    }
    FlowConfig cfg = new FlowFamily().parse(Configs.override(new FlowFamily().preset(preset), overrides));
    FlowConfig.Model m = cfg.model();
    int threads = runtime.threads > 0 ? runtime.threads : Runtime.getRuntime().availableProcessors();
    long macs = FlowCost.forwardMacs(m);
    ObjectNode report = Configs.JSON.createObjectNode();
    report.put("preset", preset);
    report.put("batch", batch);
    report.put("threads", threads);
    report.put("forward_macs_per_image", macs);
    System.out.printf("glow %s: %s, batch %d, %d threads, %.2f GMAC forward per image%n", preset, m, batch, threads,
        macs / 1e9);
    Timing ours = timeGenzoo(cfg, threads);
    report.set("genzoo", ours.toJson());
    Timing torch = null;
    if (!noTorch) {
      torch = timeTorch(m, threads);
      report.set("pytorch", torch.toJson());
    }
    System.out.println();
    System.out.printf("%-28s %12s %12s %10s %12s %12s %10s%n", "", "train s/step", "train img/s", "GFLOP/s",
        "sample s", "sample img/s", "GFLOP/s");
    row("genzoo (TF Java " + (runtime.bf16 ? "bf16" : runtime.xla ? "XLA" : "fp32") + ")", ours, macs);
    if (torch != null) {
      row("PyTorch " + torch.version + " fp32", torch, macs);
      System.out.printf("%-28s %12s %12.2fx %10s %12s %12.2fx%n", "ratio genzoo / PyTorch", "",
          torch.train / ours.train, "", "", torch.sample / ours.sample);
      report.put("train_speedup_vs_pytorch", torch.train / ours.train);
      report.put("sample_speedup_vs_pytorch", torch.sample / ours.sample);
      if (torch.params != ours.params) {
        System.out.println("warning: parameter counts differ: genzoo " + ours.params + ", PyTorch " + torch.params);
      }
    }
    if (json != null) {
      AtomicFiles.writeString(json, Configs.JSON.writeValueAsString(report));
      System.out.println("wrote " + json);
    }
    return 0;
  }

  private void row(String name, Timing t, long macs) {
    double trainFlops = 3.0 * 2 * macs * batch / t.train / 1e9;
    double sampleFlops = 2.0 * macs * batch / t.sample / 1e9;
    System.out.printf("%-28s %12.3f %12.2f %10.1f %12.3f %12.2f %10.1f%n", name, t.train, batch / t.train, trainFlops,
        t.sample, batch / t.sample, sampleFlops);
  }

  /** Median seconds of a training step and a sampling step, and the parameter count. */
  record Timing(double train, double sample, long params, String version, double[] trainAll, double[] sampleAll) {
    ObjectNode toJson() {
      ObjectNode o = Configs.JSON.createObjectNode();
      o.put("version", version);
      o.put("params", params);
      o.put("train_step_s", train);
      o.put("sample_step_s", sample);
      ArrayNode ta = o.putArray("train_step_s_all");
      Arrays.stream(trainAll).forEach(ta::add);
      ArrayNode sa = o.putArray("sample_step_s_all");
      Arrays.stream(sampleAll).forEach(sa::add);
      return o;
    }
  }

  private Timing timeGenzoo(FlowConfig cfg, int threads) {
    var rt = new dev.genzoo.graphs.RuntimeOptions(threads, 1, runtime.xla, runtime.bf16, runtime.device);
    try (FlowModel model = new FlowModel(cfg, new ModelOptions(true, 0, rt, TFloat32.class))) {
      long[] shape = dev.genzoo.graphs.nn.Tensors.batchShape(batch, cfg.model().dataShape());
      double[] train = timeTrainSteps(model, shape, randomImages(size(shape), 0, true));
      double[] sample = timeCalls(i -> model.sample(batch, new SampleOptions(i + 100, 1.0, null, 0, batch)));
      return ours("genzoo", model.parameterCount(), train, sample);
    }
  }

  private Timing timeTorch(FlowConfig.Model m, int threads) throws IOException, InterruptedException {
    JsonNode j = runPeer("glow_torch.py", List.of("--levels", "" + m.levels(), "--steps", "" + m.steps(),
        "--width", "" + m.width(), "--image", "" + m.dataShape()[0], "" + m.dataShape()[1], "" + m.dataShape()[2],
        "--batch", "" + batch, "--threads", "" + threads, "--warmup", "" + warmup, "--iters", "" + iters));
    if (j.path("forward_macs_per_image").asLong() != FlowCost.forwardMacs(m)) {
      System.out.println("warning: MAC counts differ: genzoo " + FlowCost.forwardMacs(m) + ", PyTorch "
          + j.path("forward_macs_per_image").asLong());
    }
    return peerTiming("pytorch", j);
  }

  /**
   * Times {@link #iters} training steps of {@code model} after {@link #warmup} untimed ones. Step i (from -warmup) is
   * fed {@code batches.apply(i)} as x (shape {@code shape}), the seed (0, i + warmup) and, for a class-conditional
   * model, label 0 for every example; only {@code Session.run} is timed. A non-finite loss stops the bench.
   */
  double[] timeTrainSteps(GenerativeModel model, long[] shape, java.util.function.IntFunction<float[]> batches) {
    TrainGraph g = model.trainGraph();
    double[] train = new double[iters];
    for (int i = -warmup; i < iters; i++) {
      try (TFloat32 xt = HostTensors.float32(batches.apply(i), shape); TInt64 seed = TInt64.vectorOf(0, i + warmup);
           org.tensorflow.types.TInt32 labels = org.tensorflow.types.TInt32.vectorOf(new int[(int) shape[0]])) {
        var r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step()).fetch(g.loss());
        if (g.labels() != null) {
          r.feed(g.labels(), labels);
        }
        long t0 = System.nanoTime();
        try (org.tensorflow.Result res = r.run()) {
          if (i >= 0) {
            train[i] = (System.nanoTime() - t0) / 1e9;
          }
          float loss = ((TFloat32) res.get(0)).getFloat();
          if (!Float.isFinite(loss)) {
            throw new IllegalStateException("the training loss is " + loss + " at bench iteration " + i);
          }
        }
      }
    }
    return train;
  }

  /** Times {@link #iters} calls of {@code step} (given i from -warmup) after {@link #warmup} untimed ones. */
  double[] timeCalls(java.util.function.IntConsumer step) {
    double[] out = new double[iters];
    for (int i = -warmup; i < iters; i++) {
      long t0 = System.nanoTime();
      step.accept(i);
      if (i >= 0) {
        out[i] = (System.nanoTime() - t0) / 1e9;
      }
    }
    return out;
  }

  /** What a family's bench prints and records beside the timings: names of its network, step and keys. */
  record Report(String network, String trainColumn, String trainImagesColumn, double trainImages, String oursKey,
      String torchKey) {}

  /**
   * Prints genzoo's timing beside the peer's (null with --no-torch) as one table (seconds and images per second for
   * the training step and the sampling step, then the ratios), warns when the parameter counts differ, records both
   * and the speed-ups in {@code report} and writes it to --json.
   */
  void compare(ObjectNode report, Report r, String precision, Timing ours, Timing torch) throws IOException {
    report.set(r.oursKey(), ours.toJson());
    if (torch != null) {
      report.set(r.torchKey(), torch.toJson());
      report.put("train_speedup_vs_pytorch", torch.train() / ours.train());
      report.put("sample_speedup_vs_pytorch", torch.sample() / ours.sample());
      if (torch.params() != ours.params()) {
        System.out.println("warning: parameter counts differ: genzoo " + ours.params() + ", PyTorch "
            + torch.params());
      }
    }
    System.out.println();
    System.out.printf("%s: %,d parameters%n", r.network(), ours.params());
    System.out.printf("%-30s %12s %12s %14s %12s%n", "", r.trainColumn(), r.trainImagesColumn(), "sample s/step",
        "sample img/s");
    compareRow("genzoo (TF Java " + precision + ")", r, ours);
    if (torch != null) {
      compareRow("PyTorch " + torch.version() + (runtime.bf16 ? " bf16" : " fp32"), r, torch);
      System.out.printf("%-30s %12s %11.2fx %14s %11.2fx%n", "ratio genzoo / PyTorch", "",
          torch.train() / ours.train(), "", torch.sample() / ours.sample());
    }
    if (json != null) {
      AtomicFiles.writeString(json, Configs.JSON.writeValueAsString(report));
      System.out.println("wrote " + json);
    }
  }

  private void compareRow(String name, Report r, Timing t) {
    System.out.printf("%-30s %12.3f %12.2f %14.4f %12.2f%n", name, t.train(), r.trainImages() / t.train(), t.sample(),
        batch / t.sample());
  }

  /** genzoo's timings (medians and every iteration), printed as "LABEL: train steps [...] s, sample steps [...] s". */
  static Timing ours(String label, long params, double[] train, double[] sample) {
    System.out.printf("%s: train steps %s s, sample steps %s s%n", label, Arrays.toString(round(train)),
        Arrays.toString(round(sample)));
    return new Timing(median(train), median(sample), params, "TF Java 1.0.0", train, sample);
  }

  /** Runs a PyTorch peer and reads its timings from its JSON line, printed like {@link #ours}. */
  Timing peer(String label, String resource, List<String> args) throws IOException, InterruptedException {
    return peerTiming(label, runPeer(resource, args));
  }

  /** A peer's timings from its JSON line (medians and every iteration), printed like {@link #ours}. */
  static Timing peerTiming(String label, JsonNode j) {
    double[] train = toArray(j.path("train_step_s_all"));
    double[] sample = toArray(j.path("sample_step_s_all"));
    System.out.printf("%s: train steps %s s, sample steps %s s%n", label, Arrays.toString(round(train)),
        Arrays.toString(round(sample)));
    return new Timing(j.path("train_step_s").asDouble(), j.path("sample_step_s").asDouble(), j.path("params").asLong(),
        j.path("torch").asText(), train, sample);
  }

  /** The number of values of a tensor of this shape. */
  static int size(long[] shape) {
    return Math.toIntExact(dev.genzoo.graphs.nn.Tensors.size(shape));
  }

  /** Uniform random 8-bit images, a fresh batch of {@code size} values per call. */
  static java.util.function.IntFunction<float[]> randomImages(int size, long seed, boolean dequantise) {
    SplittableRandom rng = new SplittableRandom(seed);
    return i -> {
      float[] x = new float[size];
      for (int k = 0; k < size; k++) {
        x[k] = dequantise ? (float) (rng.nextDouble() * 256) : rng.nextInt(256);
      }
      return x;
    };
  }

  String pythonPath() {
    return python != null ? python : Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** Runs a PyTorch peer script from the jar's bench resources and returns the JSON object of its last line. */
  JsonNode runPeer(String resource, List<String> args) throws IOException, InterruptedException {
    Path script = Files.createTempFile(resource.replace(".py", ""), ".py");
    try {
      try (InputStream in = BenchCommand.class.getResourceAsStream("/dev/genzoo/tools/bench/" + resource)) {
        Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      List<String> cmd = new ArrayList<>(List.of(pythonPath(), script.toString()));
      cmd.addAll(args);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String last = null;
      StringBuilder all = new StringBuilder();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null;) {
          all.append(line).append('\n');
          if (line.startsWith("{")) {
            last = line;
          }
        }
      }
      int rc = p.waitFor();
      if (rc != 0 || last == null) {
        throw new IOException("the PyTorch peer failed (" + String.join(" ", cmd) + ", exit " + rc + "): "
            + all.toString().trim() + "; install Debian's python3-torch or pass --no-torch");
      }
      return Configs.JSON.readTree(last);
    } finally {
      Files.deleteIfExists(script);
    }
  }

  static double[] toArray(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asDouble();
    }
    return out;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
  }

  static double[] round(double[] v) {
    return Arrays.stream(v).map(d -> Math.round(d * 1000) / 1000.0).toArray();
  }
}
