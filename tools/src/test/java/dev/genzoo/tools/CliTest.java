package dev.genzoo.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Toys;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** The command line, run in-process as a user would run it. */
class CliTest {
  @TempDir
  Path tmp;

  private CliRun.Result last;

  @BeforeEach
  void capture() {
    System.setProperty("genzoo.home", tmp.resolve("home").toString());
  }

  @AfterEach
  void release() {
    System.clearProperty("genzoo.home");
  }

  /** Runs genzoo with arguments; returns the exit status, with stdout and stderr captured. */
  private int genzoo(String... args) {
    last = CliRun.run(args);
    return last.status();
  }

  private String stdout() {
    return last.out();
  }

  private String stderr() {
    return last.err();
  }

  @Test
  void listShowsTheEmbeddedModels() {
    assertEquals(0, genzoo("list"));
    for (String name : new String[] {"flow-8gaussians", "flow-rings", "flow-mnist"}) {
      assertTrue(stdout().contains(name), stdout());
    }
  }

  /**
   * Glow on CIFAR-10 (L = 3, K = 32, width 512): per step with C channels, 2C (actnorm) + 2C^2 + C (LU 1x1 conv) +
   * 9 (C/2) W + 2W + W^2 + 2W + 9 W C + 2C (coupling network); C = 12, 24, 48; split priors 9 * 6 * 12 + 24 and
   * 9 * 12 * 24 + 48; top prior 2 * 48. The same closed form as the PyTorch peer's.
   */
  @Test
  void infoPrintsGlowCifar10sParameterCount() {
    long expected = 0;
    long w = 512;
    for (long c : new long[] {12, 24, 48}) {
      expected += 32 * (2 * c + (2 * c * c + c) + (9 * (c / 2) * w + 2 * w + w * w + 2 * w + 9 * w * c + 2 * c));
    }
    expected += 9 * 6 * 12 + 24 + 9 * 12 * 24 + 48 + 2 * 48;
    assertEquals(44_152_272L, expected);
    assertEquals(0, genzoo("info", "flow", "--preset", "glow-cifar10"), stderr());
    assertTrue(stdout().contains(String.format("%,d", expected)), stdout());
  }

  @Test
  void infoPrintsTheDiffusionAndScorePresetsParameterCounts() {
    // Ho et al.'s released CIFAR-10 U-Net has 35,746,307 parameters ("35.7M"); the NCSNv2 and NCSN counts are those
    // of PyTorch ports of the authors' networks (graphs' ncsn fixtures).
    assertEquals(0, genzoo("info", "ddpm", "--preset", "cifar10"), stderr());
    assertTrue(stdout().contains("(35,746,307)"), stdout());
    assertEquals(0, genzoo("info", "ncsn", "--preset", "cifar10"), stderr());
    assertTrue(stdout().contains("(29,694,083)"), stdout());
  }

  @Test
  void diffusionAndScoreModelsSampleWithTheirSamplers() throws Exception {
    Path ddim = tmp.resolve("ddim.npy");
    assertEquals(0, genzoo("sample", "ddpm-8gaussians", "--n", "200", "--sampler", "ddim", "--steps", "50", "--npy",
        ddim.toString(), "--out", tmp.resolve("ddim.png").toString()), stderr());
    assertEquals(200 * 2, dev.genzoo.data.Npy.read(ddim).asFloats().length);
    assertEquals(0, genzoo("sample", "ncsn-8gaussians", "--n", "100", "--steps", "5", "--out",
        tmp.resolve("ald.png").toString()), stderr());
    assertTrue(Files.size(tmp.resolve("ald.png")) > 1000);
    assertEquals(1, genzoo("sample", "ddpm-8gaussians", "--n", "10", "--sampler", "ancestral", "--steps", "10",
        "--out", tmp.resolve("x.png").toString()));
    assertTrue(stderr().contains("ddim"), stderr());
  }

  @Test
  void evalReportsTheDdpmBound() {
    assertEquals(0, genzoo("eval", "ddpm-8gaussians", "--data", "toy:8gaussians", "--limit", "200"), stderr());
    String[] lines = stdout().trim().split("\n");
    String last = lines[lines.length - 1];
    assertTrue(last.startsWith("nll "), last);
    double nll = Double.parseDouble(last.substring(4));
    // The data's entropy is 1.70 nats (eight well separated Gaussians of sd 0.2: log 8 + log(2 pi e 0.04)); the bound
    // lies above it up to Monte Carlo error over 200 points and, for a trained model, not far above.
    assertTrue(nll > 1.5 && nll < 3.0, last);
    assertTrue(stdout().contains("variational bound"), stdout());
  }

  @Test
  void sampleWritesAPngForEveryEmbeddedModel() throws Exception {
    for (String name : new String[] {"flow-8gaussians", "flow-rings", "flow-mnist"}) {
      Path png = tmp.resolve(name + ".png");
      assertEquals(0, genzoo("sample", name, "--n", "64", "--out", png.toString()), stderr());
      BufferedImage img = ImageIO.read(png.toFile());
      assertTrue(img.getWidth() >= 256 && img.getHeight() >= 256, name + ": " + img.getWidth());
    }
  }

  @Test
  void sampleWritesNpyAtATemperature() throws Exception {
    Path npy = tmp.resolve("s.npy");
    assertEquals(0, genzoo("sample", "flow-mnist", "--n", "5", "--temperature", "0.7", "--npy", npy.toString()),
        stderr());
    NpyArray a = Npy.read(npy);
    assertEquals(5, a.shape()[0]);
    assertEquals(28, a.shape()[1]);
  }

  /** logp of the 8gaussians model on data from the mixture averages close to the negative data entropy. */
  @Test
  void logpWritesLogDensitiesPerRow() throws Exception {
    int n = 5000;
    float[] x = Toys.byName("8gaussians").sample(new SplittableRandom(5), n);
    Path in = tmp.resolve("points.npy");
    Path lp = tmp.resolve("logp.npy");
    Npy.write(in, NpyArray.ofFloats(x, n, 2));
    assertEquals(0, genzoo("logp", "flow-8gaussians", "--in", in.toString(), "--out", lp.toString()), stderr());
    double[] v = Npy.read(lp).asDoubles();
    assertEquals(n, v.length);
    double mean = java.util.Arrays.stream(v).average().orElseThrow();
    double negEntropy = 0;
    for (int i = 0; i < n; i++) {
      negEntropy += Toys.byName("8gaussians").logDensity(new double[] {x[2 * i], x[2 * i + 1]});
    }
    negEntropy /= n;
    assertTrue(mean < negEntropy + 0.05 && mean > negEntropy - 0.2, "mean log q " + mean + ", -H " + negEntropy);
  }

  @Test
  void logpRejectsTheWrongShape() throws Exception {
    Path in = tmp.resolve("bad.npy");
    Npy.write(in, NpyArray.ofFloats(new float[6], 2, 3));
    assertEquals(1, genzoo("logp", "flow-8gaussians", "--in", in.toString(), "--out", tmp.resolve("o.npy")
        .toString()));
    assertTrue(stderr().contains("bad.npy") && stderr().contains("(2, 3)"), stderr());
  }

  @Test
  void evalReportsNllAndDrawsTheDensity() throws Exception {
    Path heat = tmp.resolve("density.png");
    assertEquals(0, genzoo("eval", "flow-8gaussians", "--data", "toy:8gaussians", "--limit", "20000",
        "--heatmap", heat.toString()), stderr());
    String[] lines = stdout().trim().split("\n");
    String last = lines[lines.length - 1];
    assertTrue(last.startsWith("nll "), last);
    assertTrue(stdout().contains("kl_data_model"), stdout());
    assertTrue(ImageIO.read(heat.toFile()).getWidth() > 300);
  }

  @Test
  void trainThenResumeThenBundle() throws Exception {
    Path run = tmp.resolve("run");
    assertEquals(0, genzoo("train", "flow", "--preset", "nice-toy2d", "--data", "toy:moons", "--steps", "60",
        "--out", run.toString(), "--until-step", "30", "--no-progress", "--checkpoint-every", "10"), stderr());
    assertTrue(stderr().contains("continue with --resume"), stderr());
    assertEquals(1, genzoo("train", "flow", "--preset", "nice-toy2d", "--data", "toy:moons", "--steps", "60",
        "--out", run.toString(), "--no-progress"));
    assertTrue(stderr().contains("--resume"), stderr());
    assertEquals(0, genzoo("train", "flow", "--preset", "nice-toy2d", "--data", "toy:moons", "--steps", "60",
        "--out", run.toString(), "--resume", "--no-progress"), stderr());
    assertTrue(stderr().contains("resuming") && stderr().contains("at step 30"), stderr());
    try (Bundle b = Bundle.open(run.resolve("run.tar.gz"))) {
      assertEquals(60, b.manifest().step());
      assertTrue(b.manifest().provenance().command().startsWith("genzoo train flow --preset nice-toy2d"));
    }
    assertEquals(0, genzoo("info", run.resolve("bundle").toString()), stderr());
    assertTrue(stdout().contains("made by: genzoo train flow"), stdout());
    assertEquals(0, genzoo("sample", run.resolve("run.tar.gz").toString(), "--n", "500", "--out",
        tmp.resolve("moons.png").toString(), "--data", "toy:moons"), stderr());
  }

  @Test
  void evalOnAFolderNamesAnUnreadableFileOrSkipsIt() throws Exception {
    Path dir = tmp.resolve("digits");
    java.nio.file.Files.createDirectories(dir);
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < 6; i++) {
      BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 40; x++) {
          img.getRaster().setSample(x, y, 0, r.nextInt(256));
        }
      }
      ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile());
    }
    Files.write(dir.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2});
    assertEquals(1, genzoo("eval", "flow-mnist", "--data", "folder:" + dir));
    assertTrue(stderr().contains("broken.png"), stderr());
    assertEquals(0, genzoo("eval", "flow-mnist", "--data", "folder:" + dir, "--skip-bad-images", "--fit", "resize"),
        stderr());
    assertTrue(stderr().contains("broken.png"), "the skipped file is named in a warning: " + stderr());
    String[] lines = stdout().trim().split("\n");
    assertTrue(lines[lines.length - 1].startsWith("bpd "), stdout());
    assertTrue(stdout().contains("6 images"), stdout());
  }

  /** The bench on the tiny preset: a smoke test of its code path (the real figures come from the CIFAR-10 preset). */
  @Test
  void benchReportsThroughputAndWritesJson() throws Exception {
    Path json = tmp.resolve("bench.json");
    boolean torch = hasTorch();
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("bench", "--preset", "tiny", "--batch",
        "2", "--warmup", "1", "--iters", "2", "--json", json.toString()));
    if (!torch) {
      args.add("--no-torch");
    }
    assertEquals(0, genzoo(args.toArray(String[]::new)), stderr());
    var report = dev.genzoo.graphs.Configs.JSON.readTree(json.toFile());
    assertTrue(report.path("genzoo").path("train_step_s").asDouble() > 0, report.toString());
    assertEquals(dev.genzoo.graphs.flow.FlowCost.forwardMacs(dev.genzoo.graphs.flow.FlowConfig.tiny().model()),
        report.path("forward_macs_per_image").asLong());
    if (torch) {
      assertEquals(report.path("genzoo").path("params").asLong(), report.path("pytorch").path("params").asLong(),
          "the PyTorch peer builds the same architecture");
    }
  }

  @Test
  void benchTimesTheDdpmUNetInBothPrecisions() throws Exception {
    Path json = tmp.resolve("ddpm-bench.json");
    boolean torch = hasTorch();
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("bench", "--family", "ddpm", "--preset",
        "tiny", "--batch", "2", "--warmup", "1", "--iters", "1", "--json", json.toString()));
    if (!torch) {
      args.add("--no-torch");
    }
    assertEquals(0, genzoo(args.toArray(String[]::new)), stderr());
    var report = dev.genzoo.graphs.Configs.JSON.readTree(json.toFile());
    for (String p : new String[] {"fp32", "bf16"}) {
      assertTrue(report.path("genzoo_" + p).path("sample_step_s").asDouble() > 0, report.toString());
      if (torch) {
        assertEquals(report.path("genzoo_" + p).path("params").asLong(),
            report.path("pytorch_" + p).path("params").asLong(), "the PyTorch peer builds the same U-Net");
      }
    }
  }

  @Test
  void infoPrintsTheSnganCifar10ParameterCount() {
    // Mimicry's SNGANGenerator32 (4,276,739) and SNGANDiscriminator32 (1,053,825), counted from the PyTorch modules
    // (graphs' sngan fixtures); the power-iteration vectors u are state, not parameters.
    assertEquals(0, genzoo("info", "sngan", "--preset", "cifar10"), stderr());
    assertTrue(stdout().contains("(5,330,564)"), stdout());
  }

  @Test
  void infoPrintsTheNvaeCifar10ParameterCount() {
    // the same network built in PyTorch by the bench peer (bench/nvae_torch.py, upstream NVAE's module structure,
    // one pair of flow cells per group) counts 130,852,480 parameters (129,215,680 without the flow cells)
    assertEquals(0, genzoo("info", "nvae", "--preset", "cifar10"), stderr());
    assertTrue(stdout().contains("(130,852,480)"), stdout());
  }

  @Test
  void evalReportsTheNvaeElboAndImportanceWeightedBound() {
    assertEquals(0, genzoo("eval", "nvae-8gaussians", "--data", "toy:8gaussians", "--limit", "500",
        "--importance-samples", "10"), stderr());
    assertTrue(stdout().contains("nll ") || stdout().contains("nll:"), stdout());
    assertTrue(stdout().contains("nll_iw10"), stdout());
  }

  @Test
  void reconstructDrawsOriginalsAndReconstructions() throws Exception {
    Path dir = tmp.resolve("strokes");
    Files.createDirectories(dir);
    for (int i = 0; i < 4; i++) {
      BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 4; y < 24; y++) {
        img.getRaster().setSample(8 + 3 * i, y, 0, 255);
        img.getRaster().setSample(9 + 3 * i, y, 0, 255);
      }
      ImageIO.write(img, "png", dir.resolve("s" + i + ".png").toFile());
    }
    Path png = tmp.resolve("recon.png");
    assertEquals(0, genzoo("reconstruct", "nvae-mnist", "--data", "folder:" + dir, "--n", "4", "--out",
        png.toString()), stderr());
    BufferedImage grid = ImageIO.read(png.toFile());
    assertTrue(grid.getWidth() >= 2 * 28 && grid.getHeight() >= 28, grid.getWidth() + "x" + grid.getHeight());
    assertEquals(1, genzoo("reconstruct", "flow-mnist", "--data", "folder:" + dir, "--out", png.toString()));
    assertTrue(stderr().contains("VAE"), stderr());
  }

  @Test
  void bimodalExperimentWritesItsPlotAndTable() throws Exception {
    Path dir = tmp.resolve("bimodal");
    assertEquals(0, genzoo("experiment", "bimodal", "--out", dir.toString(), "--steps", "200", "--no-progress"),
        stderr());
    for (String method : new String[] {"| ml |", "| sm |", "| pcd |", "| nce |"}) {
      assertTrue(stdout().contains(method), stdout());
    }
    assertTrue(Files.size(dir.resolve("bimodal_theta.png")) > 1000);
    assertEquals(1, genzoo("experiment", "trimodal", "--out", dir.toString()));
    assertTrue(stderr().contains("trimodal") && stderr().contains("bimodal"), stderr());
  }

  @Test
  void rbmTrainsAndSamplesThroughTheCommandLine() throws Exception {
    // exact10: 10 visible spins, small enough for the exact likelihood; data from a .npy of +-1 vectors
    float[] v = new float[200 * 10];
    java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
    for (int i = 0; i < 200; i++) {
      boolean up = rng.nextBoolean();
      for (int j = 0; j < 10; j++) {
        v[i * 10 + j] = (rng.nextDouble() < 0.9) == up ? 1f : -1f;
      }
    }
    Path npy = tmp.resolve("spins.npy");
    dev.genzoo.data.Npy.write(npy, dev.genzoo.data.NpyArray.ofFloats(v, 200, 10));
    Path run = tmp.resolve("rbm");
    assertEquals(0, genzoo("train", "rbm", "--preset", "exact10", "--data", "npy:" + npy, "--steps", "50",
        "--out", run.toString(), "--no-progress"), stderr());
    assertEquals(0, genzoo("eval", run.resolve("rbm.tar.gz").toString(), "--data", "npy:" + npy), stderr());
    assertTrue(stdout().contains("nll"), stdout());
  }

  @ParameterizedTest
  @ValueSource(strings = {"sngan", "ebm", "nvae"})
  void benchTimesTheGanEbmAndNvaeSteps(String family) throws Exception {
    Path json = tmp.resolve(family + "-bench.json");
    boolean torch = hasTorch();
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("bench", "--family", family,
        "--preset", "tiny", "--batch", "2", "--warmup", "1", "--iters", "1", "--json", json.toString()));
    if (!torch) {
      args.add("--no-torch");
    }
    assertEquals(0, genzoo(args.toArray(String[]::new)), stderr());
    assertTrue(json.toFile().length() > 0);
  }

  @Test
  void evalOfTheEbmMeasuresModeCoverageAndDrawsItsEnergy() throws Exception {
    Path png = tmp.resolve("energy.png");
    assertEquals(0, genzoo("eval", "ebm-8gaussians", "--data", "toy:8gaussians", "--limit", "2000", "--heatmap",
        png.toString()), stderr());
    assertTrue(stdout().contains("modes_covered") && stdout().contains("high_quality"), stdout());
    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() >= 300, "heat map width " + img.getWidth());
    // a model without a likelihood on data that is not a Gaussian-mixture toy: a clear refusal
    assertEquals(1, genzoo("eval", "sngan-8gaussians", "--data", "toy:moons"));
    assertTrue(stderr().contains("no likelihood"), stderr());
  }

  private static boolean hasTorch() {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").start();
      return p.waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void badInputGetsAOneLineReason() {
    assertEquals(1, genzoo("train", "flow", "--preset", "toy2d", "--data", "toy:8gaussians", "--out",
        tmp.resolve("x").toString(), "--set", "model.widht=3"));
    assertTrue(stderr().contains("widht") && stderr().contains("width"), stderr());
    assertEquals(1, genzoo("train", "flow", "--preset", "nope", "--data", "toy:8gaussians", "--out",
        tmp.resolve("y").toString()));
    assertTrue(stderr().contains("unknown flow preset 'nope'"), stderr());
    assertEquals(1, genzoo("sample", "no-such-model", "--out", tmp.resolve("z.png").toString()));
    assertTrue(stderr().contains("no-such-model"), stderr());
    assertEquals(1, genzoo("train", "flow", "--preset", "toy2d", "--data", "toy:circles", "--out",
        tmp.resolve("w").toString()));
    assertTrue(stderr().contains("circles") && stderr().contains("8gaussians"), stderr());
  }
}
