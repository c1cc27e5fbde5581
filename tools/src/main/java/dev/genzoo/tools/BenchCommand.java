package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.GenerativeModel;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Times a family's training step and sampling step at a preset (its CIFAR-10 one by default) on this machine and, in
 * the same invocation, the same network and step in PyTorch (tools' bench/*_torch.py under Debian's python3-torch),
 * and reports seconds per step, images/s and the ratio. {@code --all} runs every family in fp32 and bf16 and prints
 * (and with {@code --write} writes) one summary table ({@link BenchSummary}). A benchmark, not a test: run it on a
 * quiet machine.
 */
@Command(name = "bench", description = {"Throughput of training and sampling steps beside a PyTorch peer, same run.",
    "Example: genzoo bench --batch 8 --iters 5",
    "Summary of every family: genzoo bench --all --write docs/benchmarks.md"})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--family", defaultValue = "flow", description = "flow (Glow), ddpm (the DDPM U-Net, fp32 and "
      + "bf16 in one run), ncsn (the NCSNv2 RefineNet: a denoising score matching step and one annealed Langevin step), "
      + "sngan (one generator iteration: n_dis critic updates and the generator update), ebm (an IGEBM "
      + "step: 60 Langevin steps from the replay buffer and the update), rbm (a contrastive divergence step and one "
      + "Gibbs sweep; no peer) or nvae (an NVAE step: ELBO, KL balancing, spectral regulariser, Adamax)")
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

  @Option(names = "--all", description = "run every family's bench (training and sampling steps, each precision) "
      + "and print one summary table; with --write, also write it as Markdown")
  boolean all;

  @Option(names = "--families", split = ",", paramLabel = "FAMILY", description = "with --all: only these families "
      + "(default: every family with a bench: flow, ddpm, ncsn, ebm, rbm, sngan, nvae)")
  List<String> families;

  @Option(names = "--precisions", split = ",", paramLabel = "PRECISION", description = "with --all: fp32, bf16 or "
      + "both (default fp32,bf16); bf16 is genzoo's --bf16 beside the peer's torch.autocast where the peer has one")
  List<String> precisions;

  @Option(names = "--tiny", description = "with --all: each family's tiny preset instead of its CIFAR-10 one (a smoke "
      + "test of the table, seconds per family)")
  boolean tiny;

  @Option(names = "--write", paramLabel = "FILE", description = "with --all: write the table and the machine line as "
      + "Markdown to FILE (atomically), e.g. docs/benchmarks.md")
  Path write;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (all) {
      return new BenchSummary(this).run();
    }
    if (families != null || precisions != null || tiny || write != null) {
      throw new IllegalArgumentException("--families, --precisions, --tiny and --write go with --all; one family's "
          + "bench is --family NAME");
    }
    return switch (family) {
      case "flow" -> new FlowBench(this).run();
      case "ddpm" -> new DdpmBench(this).run();
      case "ncsn" -> new NcsnBench(this).run();
      case "sngan" -> new SnganBench(this).run();
      case "ebm" -> new IgebmBench(this).run();
      case "rbm" -> new RbmBench(this).run();
      case "nvae" -> new NvaeBench(this).run();
      default -> throw new IllegalArgumentException("--family " + family + ": bench knows "
          + String.join(", ", FAMILIES));
    };
  }

  /** The families with a bench, in the registry's order (the summary table's rows). */
  static final List<String> FAMILIES = List.of("flow", "ddpm", "ncsn", "ebm", "rbm", "sngan", "nvae");

  /** The bench of one family, for {@code --all}. */
  FamilyBench bench(String name) {
    return switch (name) {
      case "flow" -> new FlowBench(this);
      case "ddpm" -> new DdpmBench(this);
      case "ncsn" -> new NcsnBench(this);
      case "ebm" -> new IgebmBench(this);
      case "rbm" -> new RbmBench(this);
      case "sngan" -> new SnganBench(this);
      case "nvae" -> new NvaeBench(this);
      default -> throw new IllegalArgumentException("--families: unknown family '" + name + "'; valid: "
          + String.join(", ", FAMILIES));
    };
  }

  /** Intra-op threads: --threads, else every core. */
  int threads() {
    return runtime.threads > 0 ? runtime.threads : Runtime.getRuntime().availableProcessors();
  }

  /**
   * A family's bench as {@code --all} runs it: the training step and the sampling step at one precision, genzoo and
   * (where asked and available) the PyTorch peer, at {@link #batch}, {@link #warmup} and {@link #iters}.
   */
  abstract static class FamilyBench {
    final BenchCommand c;
    private final String family;
    private final String defaultPreset;
    private final String tinyPreset;
    private final boolean peerBf16;
    private final boolean hasPeer;
    private final String steps;

    /**
     * @param family the family's name (its {@code --family} value)
     * @param defaultPreset the preset timed by default: the CIFAR-10 one where the family has one
     * @param tinyPreset the family's smallest image preset, for {@code --tiny}
     * @param peerBf16 whether the peer can run in bf16 (under {@code torch.autocast}); false when there is no peer
     * @param hasPeer whether the family has a PyTorch peer at all
     * @param steps what one training step and one sampling step are, a few words each, for the table's notes
     */
    FamilyBench(BenchCommand c, String family, String defaultPreset, String tinyPreset, boolean peerBf16,
        boolean hasPeer, String steps) {
      this.c = c;
      this.family = family;
      this.defaultPreset = defaultPreset;
      this.tinyPreset = tinyPreset;
      this.peerBf16 = peerBf16;
      this.hasPeer = hasPeer;
      this.steps = steps;
    }

    String family() {
      return family;
    }

    String defaultPreset() {
      return defaultPreset;
    }

    String tinyPreset() {
      return tinyPreset;
    }

    boolean peerBf16() {
      return peerBf16;
    }

    boolean hasPeer() {
      return hasPeer;
    }

    String steps() {
      return steps;
    }

    /**
     * Times both steps of {@code preset} in genzoo (bf16: oneDNN auto mixed precision) and, when {@code torch}, in
     * the peer at the same precision.
     */
    abstract Measurement measure(String preset, boolean bf16, boolean torch) throws Exception;
  }

  /**
   * One family's timings at one precision.
   *
   * @param preset the preset timed
   * @param params genzoo's trainable parameters
   * @param trainImages images one training step consumes (an SN-GAN iteration: n_dis batches)
   * @param sampleImages images one sampling step advances
   * @param ours genzoo's medians
   * @param torch the peer's medians, or null where it did not run
   */
  record Measurement(String preset, long params, double trainImages, double sampleImages, Timing ours, Timing torch) {}

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
   * and the speed-ups in {@code report} and writes it to --json. {@code precision} is genzoo's, {@code torchPrecision}
   * the peer's (fp32 where the peer has no bf16 mode).
   */
  void compare(ObjectNode report, Report r, String precision, Timing ours, Timing torch, String torchPrecision)
      throws IOException {
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
      compareRow("PyTorch " + torch.version() + " " + torchPrecision, r, torch);
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
      Process p;
      try {
        p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      } catch (IOException e) {
        throw new IOException("the PyTorch peer could not start (" + String.join(" ", cmd) + "): " + e.getMessage()
            + "; install Debian's python3-torch, name a python with torch in --python, or pass --no-torch", e);
      }
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
