package dev.genzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.data.ToyDistribution;
import dev.genzoo.data.MixtureToy;
import dev.genzoo.data.ModeCoverage;
import dev.genzoo.data.Toys;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Loading the embedded models in one line, offline, into a fresh cache. */
class ZooTest {
  @TempDir
  Path home;

  @BeforeEach
  void isolate() {
    System.setProperty("genzoo.home", home.toString());
  }

  @AfterEach
  void restore() {
    System.clearProperty("genzoo.home");
    System.clearProperty("genzoo.registry");
  }

  @Test
  void theRegistryListsTheEmbeddedModels() {
    List<String> names = Zoo.list().stream().map(RegistryEntry::name).toList();
    assertTrue(names.containsAll(List.of("flow-8gaussians", "flow-rings", "flow-mnist")), names.toString());
    for (RegistryEntry e : Zoo.list()) {
      if (e.isEmbedded()) {
        assertEquals("toy", e.status(), e.name());
        assertEquals(64, e.bundle().sha256().length(), e.name());
      }
    }
  }

  /** Every family has a CIFAR-10 entry whose status says how its weights come about, and its converter exists. */
  @Test
  void theRegistryHasAnHonestCifar10EntryForEveryFamily() {
    java.util.Set<String> families = new java.util.TreeSet<>();
    for (RegistryEntry e : Zoo.list()) {
      assertTrue(List.of("official", "converted", "reproduced", "toy", "not-yet-available").contains(e.status()),
          e.name() + ": " + e.status());
      if (e.needsConversion()) {
        assertEquals(e.family(), dev.genzoo.checkpoints.convert.Converters.get(e.source().converter()).family(),
            e.name());
      }
      if ("not-yet-available".equals(e.status())) {
        assertTrue(e.files().isEmpty(), e.name());
      } else if (!e.isEmbedded()) {
        assertTrue(e.source().upstream() != null && e.source().licence() != null, e.name());
      }
      if ("cifar10".equals(e.data())) {
        families.add(e.family());
        assertTrue(!e.published().isEmpty(), e.name() + " lists no published figure");
        dev.genzoo.graphs.Families.get(e.family()).preset(e.preset());
      }
    }
    assertEquals(new java.util.TreeSet<>(List.of("ddpm", "ebm", "flow", "ncsn", "nvae", "sngan")), families);
  }

  @Test
  void everyEmbeddedModelLoadsOfflineAndSamples() {
    for (RegistryEntry e : Zoo.list().stream().filter(RegistryEntry::isEmbedded).toList()) {
      try (GenerativeModel m = Zoo.load(e.name())) {
        Samples s = m.sample(16, SampleOptions.seed(3));
        assertEquals(16, s.count());
        for (float v : s.data()) {
          assertTrue(Float.isFinite(v), e.name() + " sampled a non-finite value");
        }
        if (s.isImages()) {
          for (float v : s.data()) {
            assertTrue(v >= 0 && v <= 1, e.name() + ": pixel " + v);
          }
        }
        // The same seed gives the same samples.
        assertArrayEquals(s.data(), m.sample(16, SampleOptions.seed(3)).data(), e.name());
      }
      assertTrue(Files.isDirectory(home.resolve("models")), "unpacked into $GENZOO_HOME/models");
    }
  }

  /** KL(data || model) = E_p[log p - log q] by Monte Carlo with the analytic mixture density: below 0.15 nats. */
  @Test
  void theEmbeddedEightGaussiansFlowFitsItsData() {
    ToyDistribution p = Toys.byName("8gaussians");
    int n = 100_000;
    float[] x = p.sample(new SplittableRandom(2024), n);
    try (GenerativeModel m = Zoo.load("flow-8gaussians")) {
      double[] logQ = m.logProb(new Batch(x, new long[] {n, 2}, null));
      double kl = 0;
      for (int i = 0; i < n; i++) {
        kl += p.logDensity(new double[] {x[2 * i], x[2 * i + 1]}) - logQ[i];
      }
      kl /= n;
      assertTrue(kl < 0.15 && kl > -0.02, "KL(data || model) = " + kl + " nats");
    }
  }

  @Test
  void aSecondLoadUsesTheCache() throws IOException {
    try (GenerativeModel m = Zoo.load("flow-rings")) {
      m.sample(2, SampleOptions.seed(0));
    }
    Path cached;
    try (Stream<Path> s = Files.list(home.resolve("models"))) {
      cached = s.filter(p -> p.getFileName().toString().startsWith("flow-rings-")).findFirst().orElseThrow();
    }
    long stamp = Files.getLastModifiedTime(cached.resolve("model.json")).toMillis();
    try (GenerativeModel m = Zoo.load("flow-rings")) {
      m.sample(2, SampleOptions.seed(0));
    }
    assertEquals(stamp, Files.getLastModifiedTime(cached.resolve("model.json")).toMillis());
  }

  @Test
  void unknownNamesListTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Zoo.load("flow-nonexistent"));
    assertTrue(e.getMessage().contains("flow-8gaussians"), e.getMessage());
  }

  @Test
  void aChecksumMismatchIsRefusedAndLeavesNothingInTheCache() throws IOException {
    RegistryEntry real = Registry.load().get("flow-8gaussians");
    Path registry = home.resolve("override.json");
    Files.writeString(registry, """
        {"format": "genzoo-registry", "version": 1, "models": [
          {"name": "flow-8gaussians", "family": "flow", "preset": "realnvp-toy2d", "data": "toy:8gaussians",
           "status": "toy", "description": "tampered",
           "files": [{"uri": "embedded:flow-8gaussians.tar.gz",
                      "sha256": "%s", "size": %d}],
           "source": null, "published": []}]}
        """.formatted("ab".repeat(32), real.bundle().size()));
    System.setProperty("genzoo.registry", registry.toString());
    CauseChain e = CauseChain.of(assertThrows(RuntimeException.class, () -> Zoo.load("flow-8gaussians")));
    assertTrue(e.message().contains("sha256") && e.message().contains("flow-8gaussians"), e.message());
    try (Stream<Path> s = Files.list(home.resolve("models"))) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith("flow-8gaussians")), "cache left dirty");
    }
  }

  @Test
  void aCorruptBundleOnDiskGivesAClearError() throws IOException {
    Path bad = home.resolve("bad.tar.gz");
    Files.write(bad, new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0});
    RuntimeException e = assertThrows(RuntimeException.class, () -> Zoo.load(bad.toString()));
    assertTrue(e.getMessage().contains("bad.tar.gz"), e.getMessage());
  }

  /** The messages of an exception and all its causes, joined. */
  private record CauseChain(String message) {
    static CauseChain of(Throwable t) {
      StringBuilder sb = new StringBuilder();
      for (Throwable c = t; c != null; c = c.getCause()) {
        sb.append(c.getMessage()).append(" | ");
      }
      return new CauseChain(sb.toString());
    }
  }

  /**
   * The embedded diffusion and score models reproduce toy:8gaussians (eight Gaussians of standard deviation 0.2 at
   * radius 2, angles k pi / 4, equal weights) with their default samplers: every mode gets between 9% and 16% of
   * 10,000 samples (12.5% expected), and the spread around each mode's centre is within 25% of 0.2.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ddpm-8gaussians", "ncsn-8gaussians"})
  void samplesMatchTheEightGaussians(String name) {
    ModeCoverage c = coverageOfEightGaussians(name);
    String report = name + ": " + c.describe();
    for (int k = 0; k < 8; k++) {
      assertTrue(c.shares()[k] >= 0.09 && c.shares()[k] <= 0.16, "mode " + k + " share; " + report);
      assertTrue(Math.abs(c.spreads()[k] - 0.2) <= 0.25 * 0.2, "mode " + k + " spread; " + report);
    }
  }

  /**
   * The embedded SN-GAN covers at least 7 of the 8 modes of toy:8gaussians (a mode is covered with at least 20 of
   * 10,000 samples within 3 standard deviations of it) and puts at least 80% of its samples within 3 standard
   * deviations of a mode.
   */
  @Test
  void snganCoversTheEightGaussians() {
    ModeCoverage c = coverageOfEightGaussians("sngan-8gaussians");
    assertTrue(c.modesCovered() >= 7, c.describe());
    assertTrue(c.highQuality() >= 0.8, c.describe());
  }

  /**
   * The embedded EBM's samples by long-run Langevin dynamics from noise (its default sampler) put between 8% and 17%
   * of the mass in each of the 8 modes (12.5% expected).
   */
  @Test
  void ebmLangevinSamplesShareTheModes() {
    ModeCoverage c = coverageOfEightGaussians("ebm-8gaussians");
    for (int k = 0; k < 8; k++) {
      assertTrue(c.shares()[k] >= 0.08 && c.shares()[k] <= 0.17, "mode " + k + ": " + c.describe());
    }
  }

  /**
   * The embedded NVAE on toy:8gaussians: its importance-weighted bound with k = 100 bounds KL(data || model) by
   * E_p[log p - IW_100] below 0.35 nats (Monte Carlo over 2,000 points, analytic log p), the ELBO is looser than that
   * bound, and ancestral samples put 8%-17% of the mass in every mode.
   */
  @Test
  void nvaeBoundsItsKlAndCoversTheEightGaussians() {
    ToyDistribution p = Toys.byName("8gaussians");
    int n = 2000;
    float[] x = p.sample(new SplittableRandom(7), n);
    try (GenerativeModel m = Zoo.load("nvae-8gaussians")) {
      var bounds = ((dev.genzoo.graphs.LatentVariableModel) m).bounds(new Batch(x, new long[] {n, 2}, null), 100, 3);
      double klIw = 0;
      double klElbo = 0;
      for (int i = 0; i < n; i++) {
        double logP = p.logDensity(new double[] {x[2 * i], x[2 * i + 1]});
        klIw += (logP - bounds.importanceWeighted()[i]) / n;
        klElbo += (logP - bounds.elbo()[i]) / n;
      }
      System.out.printf("nvae-8gaussians: KL(data || model) <= %.4f (IW_100), <= %.4f (ELBO)%n", klIw, klElbo);
      assertTrue(klIw < 0.35 && klIw > -0.05, "KL bound from IW_100: " + klIw);
      assertTrue(klElbo > klIw + 0.05, "ELBO " + klElbo + " vs IW " + klIw);
    }
    ModeCoverage c = coverageOfEightGaussians("nvae-8gaussians");
    System.out.println("nvae-8gaussians: " + c.describe());
    for (int k = 0; k < 8; k++) {
      assertTrue(c.shares()[k] >= 0.08 && c.shares()[k] <= 0.17, "mode " + k + ": " + c.describe());
    }
  }

  /**
   * The embedded MNIST NVAE on the first 200 test images: its ELBO is far better than the best model with independent
   * pixels, whose expected log-likelihood under dynamic binarisation is sum_i p_i log q_i + (1 - p_i) log(1 - q_i) with
   * q_i the training set's mean of p_i = x_i / 255 (computed here, about 200 nats); the k = 10 importance-weighted
   * bound is above the ELBO on average (Burda et al. 2016); and the ELBO is within 6 nats of the 88.68 nats its
   * model.json records for the first 2,000 (about 3 standard errors of a 200-image mean), so the bundle in the jar is
   * the one measured. Skipped without ../shared/data.
   */
  @Test
  void nvaeMnistReproducesItsRecordedTestElbo() throws IOException {
    String root = System.getProperty("genzoo.shared.data");
    org.junit.jupiter.api.Assumptions.assumeTrue(root != null && Files.isDirectory(Path.of(root, "mnist")),
        "shared data folder mnist not available; skipping");
    try (GenerativeModel m = Zoo.load("nvae-mnist")) {
      dev.genzoo.data.LoadedData d = Datasets.open("mnist:" + Path.of(root, "mnist"),
          Datasets.optionsFor(m.dataShape(), "test"));
      Batch b = Datasets.evalBatches(d, 200, 200, 0, false).iterator().next();
      var bounds = ((dev.genzoo.graphs.LatentVariableModel) m).bounds(b, 10, 0);
      double elbo = 0;
      double iw = 0;
      for (int i = 0; i < b.size(); i++) {
        elbo -= bounds.elbo()[i] / b.size();
        iw -= bounds.importanceWeighted()[i] / b.size();
      }
      dev.genzoo.data.ImageDataset train = ((dev.genzoo.data.LoadedData.Images) Datasets.open("mnist:"
          + Path.of(root, "mnist"), Datasets.optionsFor(m.dataShape(), "train"))).dataset();
      int dims = train.exampleSize();
      double[] q = new double[dims];
      for (int n = 0; n < train.size(); n++) {
        float[] x = train.example(n);
        for (int i = 0; i < dims; i++) {
          q[i] += x[i] / 255.0 / train.size();
        }
      }
      double independent = 0;
      for (int n = 0; n < b.size(); n++) {
        for (int i = 0; i < dims; i++) {
          double p = b.x()[n * dims + i] / 255.0;
          double qi = Math.min(1 - 1e-6, Math.max(1e-6, q[i]));
          independent -= (p * Math.log(qi) + (1 - p) * Math.log(1 - qi)) / b.size();
        }
      }
      System.out.printf("nvae-mnist, first 200 test images: -ELBO %.2f nats, -IW_10 %.2f nats, independent pixels "
          + "%.2f nats%n", elbo, iw, independent);
      assertTrue(elbo < 0.6 * independent, "-ELBO " + elbo + " vs independent pixels " + independent);
      assertEquals(88.68, elbo, 6.0, "-ELBO in nats");
      assertTrue(iw < elbo, "-IW_10 " + iw + " vs -ELBO " + elbo);
    }
  }

  /** 10,000 samples of an embedded model (seed 2026, default sampler) against toy:8gaussians' modes. */
  private static ModeCoverage coverageOfEightGaussians(String name) {
    Samples s;
    try (GenerativeModel m = Zoo.load(name)) {
      s = m.sample(10_000, SampleOptions.seed(2026));
    }
    return ModeCoverage.of((MixtureToy) Toys.byName("8gaussians"), s.data(), 20);
  }
}
