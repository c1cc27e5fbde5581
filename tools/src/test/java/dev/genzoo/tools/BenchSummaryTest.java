package dev.genzoo.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code genzoo bench --all}: the summary table, its machine line and its Markdown file. */
class BenchSummaryTest {
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

  private int genzoo(List<String> args) {
    last = CliRun.run(args.toArray(String[]::new));
    return last.status();
  }

  private String stdout() {
    return last.out();
  }

  private String stderr() {
    return last.err();
  }

  private static final String BATCH = "2";

  /**
   * Every family's tiny preset, both steps, fp32 and bf16, with the PyTorch peers where /usr/bin/python3 has torch:
   * one parsable row per family x step x precision, the PyTorch column filled exactly where a peer exists at that
   * precision, each ratio equal to the PyTorch column over the genzoo column and each images/s to the step's images
   * over the genzoo column (within the written digits), equal parameter counts on both sides, and the machine line.
   */
  @Test
  void allFamiliesTinyWritesOneParsableRowPerFamilyStepAndPrecision() throws Exception {
    Path md = tmp.resolve("docs").resolve("benchmarks.md");
    boolean torch = hasTorch();
    List<String> args = new ArrayList<>(List.of("bench", "--all", "--tiny", "--iters", "1", "--warmup", "0",
        "--batch", BATCH, "--write", md.toString()));
    if (!torch) {
      args.add("--no-torch");
    }
    LocalDate before = LocalDate.now(ZoneOffset.UTC);
    assertEquals(0, genzoo(args), stderr());
    LocalDate after = LocalDate.now(ZoneOffset.UTC);
    String text = Files.readString(md);
    assertTrue(stdout().contains(BenchSummary.HEADER), "the table is printed too");

    List<BenchSummary.Written> rows = BenchSummary.parse(text);
    List<String> families = List.of("flow", "ddpm", "ncsn", "ebm", "rbm", "sngan", "nvae");
    assertEquals(families.size() * 2 * 2, rows.size(), text);
    Set<String> keys = new HashSet<>();
    // peers with a bf16 mode (torch.autocast): DDPM, NCSN, SN-GAN; RBM has no peer
    Set<String> bf16Peers = Set.of("ddpm", "ncsn", "sngan");
    int nDis = dev.genzoo.graphs.sngan.SnganConfig.tiny().gan().nDis();
    Map<String, Long> params = new LinkedHashMap<>();
    for (BenchSummary.Written r : rows) {
      assertTrue(keys.add(r.family() + "/" + r.step() + "/" + r.precision()), "one row each: " + r);
      assertTrue(families.contains(r.family()), r.toString());
      assertEquals("tiny", r.preset(), r.toString());
      assertTrue(r.genzooSeconds() > 0, r.toString());
      assertTrue(r.params() > 0, r.toString());
      Long first = params.putIfAbsent(r.family(), r.params());
      assertTrue(first == null || first == r.params(), "one parameter count per family: " + r);
      assertEquals(-1, r.torchParams(), "the PyTorch peer counts the same parameters: " + r);
      boolean peer = torch && !r.family().equals("rbm") && (r.precision().equals("fp32")
          || bf16Peers.contains(r.family()));
      assertEquals(peer, !Double.isNaN(r.torchSeconds()), "the PyTorch column of " + r);
      assertEquals(peer, !Double.isNaN(r.ratio()), "the ratio column of " + r);
      if (peer) {
        assertTrue(r.torchSeconds() > 0, r.toString());
        double expected = r.torchSeconds() / r.genzooSeconds();
        // 4 significant digits in each seconds column, 3 in the ratio
        assertEquals(expected, r.ratio(), 6e-3 * expected, "ratio = PyTorch s / genzoo s: " + r);
      }
      double images = r.family().equals("sngan") && r.step().equals("train") ? nDis * Double.parseDouble(BATCH)
          : Double.parseDouble(BATCH);
      assertEquals(images / r.genzooSeconds(), r.imagesPerSecond(), 1.5e-3 * images / r.genzooSeconds(),
          "images/s = images per step / genzoo s: " + r);
    }
    for (String f : families) {
      for (String step : List.of("train", "sample")) {
        for (String p : List.of("fp32", "bf16")) {
          assertTrue(keys.contains(f + "/" + step + "/" + p), f + "/" + step + "/" + p);
        }
      }
    }

    String machine = text.lines().filter(l -> l.startsWith("Machine: ")).findFirst().orElseThrow();
    String cpuinfo = Files.isReadable(Path.of("/proc/cpuinfo")) ? Files.readString(Path.of("/proc/cpuinfo")) : "";
    String model = cpuinfo.lines().filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1)
        .trim()).findFirst().orElse(System.getProperty("os.arch"));
    long processors = cpuinfo.lines().filter(l -> l.startsWith("processor")).count();
    assertTrue(machine.contains(model), machine);
    if (processors > 0) {
      assertTrue(machine.contains(" / " + processors + " threads"), machine);
    }
    assertTrue(machine.contains("TensorFlow " + org.tensorflow.TensorFlow.version()), machine);
    assertTrue(machine.contains(torch ? "PyTorch " + torchVersion() : "PyTorch not run"), machine);
    assertTrue(machine.contains(before.toString()) || machine.contains(after.toString()), machine);
    assertTrue(machine.contains("command: `genzoo " + String.join(" ", args) + "`"), machine);
  }

  /** The written values are the arithmetic of the timings: ratio PyTorch s / genzoo s, images/s images / genzoo s. */
  @Test
  void rowsStateTheRatioAndThroughputOfTheirTimings() {
    BenchCommand.Timing ours = new BenchCommand.Timing(0.5, 0.04, 1234567, "TF Java 1.0.0", new double[] {0.5},
        new double[] {0.04});
    BenchCommand.Timing peer = new BenchCommand.Timing(1.25, 0.01, 1234567, "1.13.0a0", new double[] {1.25},
        new double[] {0.01});
    List<BenchSummary.Row> rows = new ArrayList<>(BenchSummary.rows("sngan", "fp32",
        new BenchCommand.Measurement("cifar10", 1234567, 40, 8, ours, peer)));
    BenchCommand.Timing differs = new BenchCommand.Timing(3, 0.3, 999, "1.13.0a0", new double[] {3},
        new double[] {0.3});
    rows.addAll(BenchSummary.rows("ddpm", "bf16", new BenchCommand.Measurement("cifar10", 1000, 8, 8,
        new BenchCommand.Timing(2, 0.2, 1000, "TF Java 1.0.0", new double[] {2}, new double[] {0.2}), differs)));
    rows.addAll(BenchSummary.rows("rbm", "bf16", new BenchCommand.Measurement("mnist", 157_984, 8, 8,
        new BenchCommand.Timing(0.00123456, 0.000321, 157_984, "TF Java 1.0.0", new double[] {0.00123456},
            new double[] {0.000321}), null)));
    BenchSummary.Machine machine = new BenchSummary.Machine("Test CPU", 2, 4, "none", "Linux", "17", "2.16.2",
        "1.13.0a0", "2026-01-02 03:04 UTC", "genzoo bench --all", "batch 8");
    String md = BenchSummary.render(rows, machine, Map.of("sngan", "G iteration"));
    List<BenchSummary.Written> w = BenchSummary.parse(md);
    assertEquals(6, w.size(), md);
    // sngan train: 40 real images in 0.5 s, PyTorch 1.25 s
    assertEquals(0.5, w.get(0).genzooSeconds());
    assertEquals(1.25, w.get(0).torchSeconds());
    assertEquals(2.5, w.get(0).ratio());
    assertEquals(80.0, w.get(0).imagesPerSecond());
    assertEquals(1234567, w.get(0).params());
    assertTrue(md.contains("| sngan | cifar10 | 1,234,567 | train | fp32 | 0.5 | 1.25 | 2.5 | 80 |"), md);
    // sngan sample: 8 images in 0.04 s, PyTorch 0.01 s
    assertEquals(0.25, w.get(1).ratio());
    assertEquals(200.0, w.get(1).imagesPerSecond());
    // a peer with another parameter count is shown beside genzoo's
    assertEquals(1000, w.get(2).params());
    assertEquals(999, w.get(2).torchParams());
    assertEquals(1.5, w.get(2).ratio());
    // no peer: "-" in both PyTorch columns; 4 significant digits
    assertTrue(Double.isNaN(w.get(4).torchSeconds()) && Double.isNaN(w.get(4).ratio()), md);
    assertEquals(0.001235, w.get(4).genzooSeconds());
    assertEquals(6480.0, w.get(4).imagesPerSecond());
    assertEquals(0.000321, w.get(5).genzooSeconds());
    assertTrue(md.contains("| rbm | mnist | 157,984 | sample | bf16 | 0.000321 | - | - | 24920 |"), md);
    assertTrue(md.contains("Machine: Test CPU, 2 cores / 4 threads"), md);
    assertTrue(md.contains("command: `genzoo bench --all`"), md);
  }

  @Test
  void significantDigits() {
    assertEquals("0.0001235", BenchSummary.significant(0.000123456, 4));
    assertEquals("12350", BenchSummary.significant(12345.6, 4));
    assertEquals("1", BenchSummary.significant(1.0, 4));
    assertEquals("2.5", BenchSummary.significant(2.5, 3));
    assertEquals("0.333", BenchSummary.significant(1.0 / 3, 3));
  }

  /** Two sockets of two cores with two threads each: 4 cores, 8 threads; the bf16 flags are listed. */
  @Test
  void cpuinfoGivesModelCoresThreadsAndBf16Flags() {
    StringBuilder sb = new StringBuilder();
    int p = 0;
    for (int socket = 0; socket < 2; socket++) {
      for (int core = 0; core < 2; core++) {
        for (int t = 0; t < 2; t++) {
          sb.append("processor\t: ").append(p++).append('\n').append("model name\t: Example CPU 9000\n")
              .append("physical id\t: ").append(socket).append('\n').append("core id\t\t: ").append(core).append('\n')
              .append("flags\t\t: fpu sse avx512f avx512_bf16 amx_bf16\n\n");
        }
      }
    }
    BenchSummary.Cpu cpu = BenchSummary.Cpu.parse(sb.toString(), 1);
    assertEquals("Example CPU 9000", cpu.model());
    assertEquals(4, cpu.cores());
    assertEquals(8, cpu.threads());
    assertEquals("avx512_bf16, amx_bf16", cpu.bf16());
    assertEquals(3, BenchSummary.Cpu.parse("", 3).threads());
  }

  @Test
  void badOptionsAreNamedAndNothingIsWritten() throws Exception {
    Path md = tmp.resolve("b.md");
    assertEquals(1, genzoo(List.of("bench", "--all", "--families", "flow,gan", "--write", md.toString())));
    assertTrue(stderr().contains("'gan'") && stderr().contains("valid: flow"), stderr());
    assertEquals(1, genzoo(List.of("bench", "--all", "--precisions", "fp16", "--write", md.toString())));
    assertTrue(stderr().contains("'fp16'"), stderr());
    assertEquals(1, genzoo(List.of("bench", "--all", "--preset", "tiny", "--write", md.toString())));
    assertTrue(stderr().contains("--preset"), stderr());
    assertEquals(1, genzoo(List.of("bench", "--write", md.toString())));
    assertTrue(stderr().contains("--all"), stderr());
    assertEquals(1, genzoo(List.of("bench", "--all", "--write", tmp.toString())));
    assertTrue(stderr().contains("directory"), stderr());
    assertFalse(Files.exists(md));
    // a family that fails part-way (its peer cannot start) stops the run before anything is written
    assertEquals(1, genzoo(List.of("bench", "--all", "--tiny", "--families", "flow", "--precisions", "fp32",
        "--batch", "1", "--iters", "1", "--warmup", "0", "--python", tmp.resolve("no-such-python").toString(),
        "--write", md.toString())));
    assertTrue(stderr().contains("PyTorch peer"), stderr());
    assertFalse(Files.exists(md));
    try (var s = Files.list(tmp)) {
      assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith("b.md")), "no temporary file is left");
    }
  }

  @Test
  void parseRejectsATableWithoutItsHeaderOrWithMissingCells() {
    assertThrows(IllegalArgumentException.class, () -> BenchSummary.parse("# Benchmarks\n\nno table\n"));
    assertThrows(IllegalArgumentException.class, () -> BenchSummary.parse(BenchSummary.HEADER + "\n| --- |\n"
        + "| flow | tiny | 1 | train | fp32 | 0.5 |\n"));
  }

  private static boolean hasTorch() {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").start();
      return p.waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  private static String torchVersion() throws Exception {
    Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch; print(torch.__version__)").start();
    String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    p.waitFor();
    return v;
  }
}
