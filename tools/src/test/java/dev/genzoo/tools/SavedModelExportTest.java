package dev.genzoo.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.graphs.Exportable.ExportedSignature;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.rbm.RbmModel;
import dev.genzoo.zoo.Zoo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import picocli.CommandLine;

/**
 * {@code genzoo export --saved-model}: the embedded models exported, loaded back with TensorFlow's own SavedModel
 * loader (a fresh graph and session, no genzoo code), and called through their signatures. {@code sample} must give
 * the samples of the model's own {@code sample(n, seed)}, {@code log_prob} its {@code logProb}, for the one-pass
 * families (flow, SN-GAN, NVAE) and the iterative ones whose loops run in the graph (DDPM, NCSN, EBM, RBM).
 */
class SavedModelExportTest {
  private static final double TOL = 1e-5;

  @TempDir
  static Path tmp;

  @BeforeAll
  static void home() {
    System.setProperty("genzoo.home", tmp.resolve("home").toString());
  }

  @AfterAll
  static void clear() {
    System.clearProperty("genzoo.home");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // One-pass families

  @Test
  void flowSamplesAndLogProbMatchTheModel() throws Exception {
    Path dir = tmp.resolve("flow-8gaussians");
    try (GenerativeModel model = Zoo.load("flow-8gaussians")) {
      List<ExportedSignature> sigs = SavedModels.export(model, dir, 0, SampleOptions.defaults(), false);
      assertEquals(List.of("sample", "log_prob"), sigs.stream().map(s -> s.signature().key()).toList());
      Samples own = model.sample(40, SampleOptions.seed(11));
      float[] grid = grid(-6, 6, 120);
      double[] ownLp = model.logProb(new Batch(grid, new long[] {grid.length / 2, 2}, null));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertClose(own.data(), sample(b, 11, 40), "flow sample");
        float[] other = sample(b, 12, 40);
        assertFalse(Arrays.equals(own.data(), other), "another seed gives other samples");
        float[] lp = perExample(b, "log_prob", "x", grid, new long[] {grid.length / 2, 2});
        assertClose(toFloats(ownLp), lp, "flow log_prob");
        // An exact density integrates to 1: the grid's Riemann sum over [-6, 6]^2 (the eight modes sit at radius 4).
        double h = 12.0 / 120;
        double mass = 0;
        for (float v : lp) {
          mass += Math.exp(v) * h * h;
        }
        assertEquals(1, mass, 0.02, "integral of exp(log_prob)");
      }
    }
  }

  @Test
  void snganSamplesMatchTheModelAndBatchCanBeFixed() throws Exception {
    Path dir = tmp.resolve("sngan-8gaussians");
    try (GenerativeModel model = Zoo.load("sngan-8gaussians")) {
      List<ExportedSignature> sigs = SavedModels.export(model, dir, 25, SampleOptions.defaults(), false);
      assertEquals(List.of("sample"), sigs.stream().map(s -> s.signature().key()).toList());
      Samples own = model.sample(25, SampleOptions.seed(3));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG);
           TInt64 seed = TInt64.scalarOf(3);
           Result r = b.function("sample").call(Map.of("seed", seed))) {
        assertEquals(List.of("seed"), List.copyOf(b.function("sample").signature().inputNames()));
        TFloat32 x = (TFloat32) r.get("x").orElseThrow();
        assertArrayEquals(new long[] {25, 2}, x.shape().asArray());
        assertClose(own.data(), HostTensors.toFloats(x), "sngan sample");
      }
    }
  }

  @Test
  void nvaeSamplesAndElboMatchTheModel() throws Exception {
    Path dir = tmp.resolve("nvae-8gaussians");
    try (GenerativeModel model = Zoo.load("nvae-8gaussians")) {
      SavedModels.export(model, dir, 0, SampleOptions.defaults(), false);
      Samples own = model.sample(30, SampleOptions.seed(5));
      float[] points = own.data();
      double[] elbo = model.logProb(new Batch(points, new long[] {30, 2}, null));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertClose(own.data(), sample(b, 5, 30), "nvae sample");
        assertClose(toFloats(elbo), perExample(b, "log_prob", "x", points, new long[] {30, 2}), "nvae elbo");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Iterative families: the whole chain in one While loop

  @Test
  void ddpmAncestralChainRunsInTheGraph() throws Exception {
    Path dir = tmp.resolve("ddpm-8gaussians");
    try (GenerativeModel model = Zoo.load("ddpm-8gaussians")) {
      List<ExportedSignature> sigs = SavedModels.export(model, dir, 0, SampleOptions.defaults(), false);
      assertEquals(List.of("sample"), sigs.stream().map(s -> s.signature().key()).toList());
      Samples own = model.sample(20, SampleOptions.seed(9));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertClose(own.data(), sample(b, 9, 20), "ddpm ancestral sample");
      }
    }
  }

  @Test
  void ncsnAnnealedLangevinRunsInTheGraph() throws Exception {
    Path dir = tmp.resolve("ncsn-8gaussians");
    SampleOptions few = SampleOptions.seed(0).withSampler(null, 4);
    try (GenerativeModel model = Zoo.load("ncsn-8gaussians")) {
      SavedModels.export(model, dir, 0, few, false);
      Samples own = model.sample(16, SampleOptions.seed(21).withSampler(null, 4));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertClose(own.data(), sample(b, 21, 16), "ncsn sample");
      }
    }
  }

  @Test
  void ebmLangevinChainAndEnergyMatchTheModel() throws Exception {
    Path dir = tmp.resolve("ebm-8gaussians");
    try (GenerativeModel model = Zoo.load("ebm-8gaussians")) {
      SavedModels.export(model, dir, 0, SampleOptions.seed(0).withSampler(null, 60), false);
      Samples own = model.sample(24, SampleOptions.seed(4).withSampler(null, 60));
      float[] points = grid(-4, 4, 5);
      double[] u = model.energy(new Batch(points, new long[] {points.length / 2, 2}, null));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertClose(own.data(), sample(b, 4, 24), "ebm sample");
        assertClose(toFloats(u), perExample(b, "energy", "x", points, new long[] {points.length / 2, 2}),
            "ebm energy");
      }
    }
  }

  @Test
  void rbmGibbsChainRunsInTheGraph() throws Exception {
    Path dir = tmp.resolve("rbm-mnist");
    SampleOptions opts = SampleOptions.seed(2).withSampler(null, 23);
    try (GenerativeModel model = Zoo.load("rbm-mnist")) {
      List<ExportedSignature> sigs = SavedModels.export(model, dir, 0, opts, false);
      assertEquals(List.of("sample", "free_energy"), sigs.stream().map(s -> s.signature().key()).toList());
      Samples own = model.sample(3, opts);
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertClose(own.data(), sample(b, 2, 3), "rbm sample");
      }
    }
  }

  /**
   * A 10-spin RBM has an exact likelihood: the exported log_prob must agree with logProb and, summed over all 2^10
   * spin states, exp(log_prob) must be 1.
   */
  @Test
  void enumerableRbmLogProbIsNormalised() throws Exception {
    Path dir = tmp.resolve("rbm-exact10");
    var family = Families.get("rbm");
    try (RbmModel model = (RbmModel) family.create(family.preset("exact10"), ModelOptions.inference())) {
      SplittableRandom rng = new SplittableRandom(17);
      double[] w = new double[10 * 4];
      double[] h = new double[10];
      for (int i = 0; i < w.length; i++) {
        w[i] = 0.6 * rng.nextGaussian();
      }
      for (int i = 0; i < h.length; i++) {
        h[i] = 0.5 * rng.nextGaussian();
      }
      model.setParameters(new RbmModel.Parameters(w, h));
      SavedModels.export(model, dir, 0, SampleOptions.defaults(), false);
      double[] states = RbmModel.enumerate(0, 1024, 10);
      float[] x = toFloats(states);
      double[] own = model.logProb(new Batch(x, new long[] {1024, 10}, null));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        float[] lp = perExample(b, "log_prob", "x", x, new long[] {1024, 10});
        assertClose(toFloats(own), lp, "rbm log_prob");
        double total = 0;
        for (float v : lp) {
          total += Math.exp(v);
        }
        assertEquals(1, total, 1e-4, "sum of p(s) over every spin state");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The folder and the command

  @Test
  void aSecondExportToTheSameFolderIsRefusedUnlessForced() throws Exception {
    Path dir = tmp.resolve("twice");
    try (GenerativeModel model = Zoo.load("flow-8gaussians")) {
      SavedModels.export(model, dir, 0, SampleOptions.defaults(), false);
      byte[] before = Files.readAllBytes(dir.resolve("saved_model.pb"));
      FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
          () -> SavedModels.export(model, dir, 0, SampleOptions.defaults(), false));
      assertTrue(e.getMessage().contains("--force"), e.getMessage());
      assertArrayEquals(before, Files.readAllBytes(dir.resolve("saved_model.pb")));
      SavedModels.export(model, dir, 7, SampleOptions.defaults(), true);
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), SavedModels.TAG)) {
        assertEquals(List.of("seed"), List.copyOf(b.function("sample").signature().inputNames()));
      }
      Path empty = Files.createDirectories(tmp.resolve("empty"));
      SavedModels.export(model, empty, 0, SampleOptions.defaults(), false);
      assertTrue(Files.isRegularFile(empty.resolve("saved_model.pb")));
    }
    try (Stream<Path> list = Files.list(tmp)) {
      assertTrue(list.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")
          || p.getFileName().toString().startsWith(".old-")), "no temporary folders left");
    }
  }

  @Test
  void theCommandPrintsTheSignatures() throws Exception {
    Path dir = tmp.resolve("cli");
    String[] out = new String[1];
    assertEquals(0, run(out, "flow-8gaussians", "--saved-model", dir.toString()));
    assertTrue(out[0].contains("signature sample\n  input seed: int64 []\n  input n: int32 []\n"
        + "  output x: float32 [-1, 2]\n"), out[0]);
    assertTrue(out[0].contains("signature log_prob\n  input x: float32 [-1, 2]\n  output log_prob: float32 [-1]\n"),
        out[0]);
    assertTrue(Files.isRegularFile(dir.resolve("saved_model.pb")));
    assertTrue(Files.isDirectory(dir.resolve("variables")));
    assertEquals(1, run(out, "flow-8gaussians", "--saved-model", dir.toString()));
    assertEquals(0, run(out, "flow-8gaussians", "--saved-model", dir.toString(), "--force", "--batch", "4"));
    assertTrue(out[0].contains("signature sample\n  input seed: int64 []\n  output x: float32 [4, 2]\n"), out[0]);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private static int run(String[] out, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      CommandLine cl = new CommandLine(new ExportCommand());
      cl.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
      cl.setExecutionExceptionHandler((e, cmd, parsed) -> 1);
      return cl.execute(args);
    } finally {
      System.setOut(saved);
      out[0] = bytes.toString(StandardCharsets.UTF_8);
    }
  }

  /** Calls the bundle's {@code sample} with a seed and a count. */
  private static float[] sample(SavedModelBundle b, long seed, int n) {
    try (TInt64 s = TInt64.scalarOf(seed); TInt32 count = TInt32.scalarOf(n);
         Result r = b.function("sample").call(Map.of("seed", s, "n", count))) {
      TFloat32 x = (TFloat32) r.get("x").orElseThrow();
      assertEquals(n, x.shape().get(0));
      return HostTensors.toFloats(x);
    }
  }

  /** Calls a per-example signature on float32 examples. */
  private static float[] perExample(SavedModelBundle b, String key, String input, float[] x, long[] shape) {
    try (TFloat32 in = HostTensors.float32(x, shape)) {
      Map<String, Tensor> args = new HashMap<>();
      args.put(input, in);
      try (Result r = b.function(key).call(args)) {
        TFloat32 out = (TFloat32) r.get(key).orElseThrow();
        assertArrayEquals(new long[] {shape[0]}, out.shape().asArray());
        return HostTensors.toFloats(out);
      }
    }
  }

  /** Points of a k x k grid of cell centres over [lo, hi]^2, row-major (x, y) pairs. */
  private static float[] grid(double lo, double hi, int k) {
    float[] p = new float[2 * k * k];
    double h = (hi - lo) / k;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        p[2 * (i * k + j)] = (float) (lo + (j + 0.5) * h);
        p[2 * (i * k + j) + 1] = (float) (lo + (i + 0.5) * h);
      }
    }
    return p;
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  private static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      double tol = TOL * Math.max(1, Math.abs(expected[i]));
      if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
        throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
      }
    }
  }
}
