package dev.genzoo.tools;

import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code genzoo bench --all}: every family's training step and sampling step, in fp32 and in bf16, beside its PyTorch
 * peer in the same run, as one Markdown table (family, preset, params, step, precision, genzoo s, PyTorch s, ratio,
 * images/s) under a machine line (CPU model, cores and threads, TensorFlow and PyTorch versions, date, the exact
 * command). The table is printed and, with {@code --write FILE}, written to FILE atomically (nothing is written when a
 * family fails).
 *
 * <p>bf16 is genzoo's oneDNN auto mixed precision beside the peer under {@code torch.autocast("cpu", bfloat16)} where
 * the peer has that mode (DDPM, NCSN, SN-GAN); elsewhere the PyTorch column says "-", as it does for a family without
 * a peer (RBM) and with {@code --no-torch}. The ratio is PyTorch's seconds over genzoo's: genzoo's throughput relative
 * to PyTorch's, above 1 when genzoo is faster. images/s is genzoo's: the images one step consumes (training; an
 * SN-GAN iteration's n_dis batches) or advances (sampling) over its median seconds.
 */
final class BenchSummary {
  /** The table's header row; {@link #parse} finds the table by it. */
  static final String HEADER = "| family | preset | params | step | precision | genzoo s | PyTorch s | ratio | images/s |";

  private static final String NONE = "-";

  private final BenchCommand c;

  BenchSummary(BenchCommand c) {
    this.c = c;
  }

  /**
   * One row of the table: one family's step at one precision.
   *
   * @param family the family
   * @param preset the preset timed
   * @param params genzoo's trainable parameters
   * @param torchParams the peer's, or -1 where it did not run
   * @param step "train" or "sample"
   * @param precision "fp32" or "bf16"
   * @param genzooSeconds genzoo's median seconds per step
   * @param torchSeconds the peer's median seconds per step, NaN where it did not run
   * @param images images per step
   */
  record Row(String family, String preset, long params, long torchParams, String step, String precision,
      double genzooSeconds, double torchSeconds, double images) {
    /** PyTorch's seconds over genzoo's (above 1: genzoo is faster); NaN without a peer. */
    double ratio() {
      return torchSeconds / genzooSeconds;
    }

    /** genzoo's images per second. */
    double imagesPerSecond() {
      return images / genzooSeconds;
    }
  }

  /** The rows of one family at one precision: its training step, then its sampling step. */
  static List<Row> rows(String family, String precision, BenchCommand.Measurement m) {
    BenchCommand.Timing o = m.ours();
    BenchCommand.Timing t = m.torch();
    long torchParams = t == null ? -1 : t.params();
    return List.of(
        new Row(family, m.preset(), m.params(), torchParams, "train", precision, o.train(),
            t == null ? Double.NaN : t.train(), m.trainImages()),
        new Row(family, m.preset(), m.params(), torchParams, "sample", precision, o.sample(),
            t == null ? Double.NaN : t.sample(), m.sampleImages()));
  }

  /**
   * Where and how the table was measured.
   *
   * @param cpu the CPU model
   * @param cores physical cores
   * @param threads hardware threads
   * @param bf16Hardware the CPU's bf16 instruction sets (avx512_bf16, amx_bf16), "none" or "unknown"
   * @param os operating system, version and architecture
   * @param java the Java version
   * @param tensorflow the TensorFlow runtime's version
   * @param torch the peer's PyTorch version, or why none ran
   * @param date when the run finished (UTC)
   * @param command the exact command line
   * @param settings batch, warm-up and timed iterations, intra-op threads
   */
  record Machine(String cpu, int cores, int threads, String bf16Hardware, String os, String java, String tensorflow,
      String torch, String date, String command, String settings) {
    String line() {
      return String.format(Locale.ROOT, "Machine: %s, %d cores / %d threads (bf16 instructions: %s), %s, Java %s; "
          + "TensorFlow %s (TF Java 1.0.0); PyTorch %s; %s; %s; command: `%s`", cpu, cores, threads, bf16Hardware, os,
          java, tensorflow, torch, date, settings, command);
    }
  }

  int run() throws Exception {
    if (c.preset != null || !c.overrides.isEmpty()) {
      throw new IllegalArgumentException("--preset and --set apply to one family (--family NAME); --all times each "
          + "family's CIFAR-10 preset, or its tiny one with --tiny");
    }
    if (c.json != null) {
      throw new IllegalArgumentException("--json applies to one family (--family NAME); --all writes Markdown with "
          + "--write FILE");
    }
    if (c.batch <= 0 || c.iters <= 0 || c.warmup < 0) {
      throw new IllegalArgumentException("--batch and --iters must be positive and --warmup not negative");
    }
    List<BenchCommand.FamilyBench> benches = benches(c.families == null ? BenchCommand.FAMILIES : c.families);
    List<String> precisions = precisions(c.precisions == null ? List.of("fp32", "bf16") : c.precisions);
    if (c.write != null && Files.isDirectory(c.write)) {
      throw new IllegalArgumentException("--write " + c.write + " is a directory; name the Markdown file");
    }
    // NVAE runs first: at cifar10 each side needs 12-19 GB and TensorFlow keeps this process's memory after a model
    // is closed (see NvaeBench); the table keeps the registry's order.
    List<BenchCommand.FamilyBench> order = new ArrayList<>(benches);
    order.sort((a, b) -> Boolean.compare(!a.family().equals("nvae"), !b.family().equals("nvae")));
    Map<String, List<Row>> byKey = new LinkedHashMap<>();
    String torchVersion = null;
    int total = order.size() * precisions.size();
    int done = 0;
    for (BenchCommand.FamilyBench b : order) {
      String preset = c.tiny ? b.tinyPreset() : b.defaultPreset();
      for (String precision : precisions) {
        boolean bf16 = precision.equals("bf16");
        boolean torch = !c.noTorch && b.hasPeer() && (!bf16 || b.peerBf16());
        System.out.printf("%n[%d/%d] %s %s %s%s%n", ++done, total, b.family(), preset, precision,
            torch ? " (genzoo and PyTorch)" : b.hasPeer() && !c.noTorch ? " (genzoo; the peer has no bf16 mode)"
                : " (genzoo)");
        BenchCommand.Measurement m = b.measure(preset, bf16, torch);
        if (m.torch() != null) {
          torchVersion = m.torch().version();
          if (m.torch().params() != m.params()) {
            System.out.println("warning: parameter counts differ: genzoo " + m.params() + ", PyTorch "
                + m.torch().params());
          }
        }
        List<Row> rows = rows(b.family(), precision, m);
        byKey.put(b.family() + "/" + precision, rows);
        for (Row r : rows) {
          System.out.println(tableRow(r));
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    for (BenchCommand.FamilyBench b : benches) {
      for (String precision : precisions) {
        rows.addAll(byKey.get(b.family() + "/" + precision));
      }
    }
    Map<String, String> steps = new LinkedHashMap<>();
    for (BenchCommand.FamilyBench b : benches) {
      steps.put(b.family(), b.steps());
    }
    String torch = torchVersion != null ? torchVersion : c.noTorch ? "not run (--no-torch)" : "not run (no peer)";
    String md = render(rows, machine(torch), steps);
    System.out.println();
    System.out.print(md);
    if (c.write != null) {
      AtomicFiles.writeString(c.write, md);
      System.out.println("wrote " + c.write);
    }
    return 0;
  }

  private List<BenchCommand.FamilyBench> benches(List<String> names) {
    Set<String> wanted = new LinkedHashSet<>();
    for (String n : names) {
      String name = n.trim().toLowerCase(Locale.ROOT);
      if (!BenchCommand.FAMILIES.contains(name)) {
        throw new IllegalArgumentException("--families: unknown family '" + n + "'; valid: "
            + String.join(", ", BenchCommand.FAMILIES));
      }
      wanted.add(name);
    }
    if (wanted.isEmpty()) {
      throw new IllegalArgumentException("--families names no family; valid: "
          + String.join(", ", BenchCommand.FAMILIES));
    }
    List<BenchCommand.FamilyBench> out = new ArrayList<>();
    for (String f : BenchCommand.FAMILIES) {
      if (wanted.contains(f)) {
        out.add(c.bench(f));
      }
    }
    return out;
  }

  private static List<String> precisions(List<String> given) {
    Set<String> seen = new HashSet<>();
    List<String> out = new ArrayList<>();
    for (String p : given) {
      String q = p.trim().toLowerCase(Locale.ROOT);
      if (!q.equals("fp32") && !q.equals("bf16")) {
        throw new IllegalArgumentException("--precisions: unknown precision '" + p + "'; valid: fp32, bf16");
      }
      if (seen.add(q)) {
        out.add(q);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("--precisions names no precision; valid: fp32, bf16");
    }
    return out;
  }

  private Machine machine(String torch) {
    Cpu cpu = Cpu.read();
    String settings = String.format(Locale.ROOT, "batch %d, %d warm-up and %d timed iterations (median), %d intra-op "
        + "threads%s", c.batch, c.warmup, c.iters, c.threads(), c.runtime.xla ? ", XLA on" : "");
    String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
    return new Machine(cpu.model(), cpu.cores(), cpu.threads(), cpu.bf16(), System.getProperty("os.name") + " "
        + System.getProperty("os.version") + " " + System.getProperty("os.arch"), System.getProperty("java.version"),
        org.tensorflow.TensorFlow.version(), torch, date, command(), settings);
  }

  /** The command line as given, each argument quoted where the shell would need it. */
  private String command() {
    List<String> args = c.spec == null ? List.of() : c.spec.commandLine().getParseResult().originalArgs();
    StringBuilder sb = new StringBuilder("genzoo");
    if (args.isEmpty() || !args.get(0).equals("bench")) {
      sb.append(" bench");
    }
    for (String a : args) {
      sb.append(' ').append(a.matches("[A-Za-z0-9_./:=,+@%-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    return sb.toString();
  }

  /** The CPU as /proc/cpuinfo describes it; the JVM's processor count where that file is missing. */
  record Cpu(String model, int cores, int threads, String bf16) {
    static Cpu read() {
      int jvm = Runtime.getRuntime().availableProcessors();
      Path info = Path.of("/proc/cpuinfo");
      if (!Files.isReadable(info)) {
        return new Cpu(System.getProperty("os.arch"), jvm, jvm, "unknown");
      }
      try {
        return parse(Files.readString(info), jvm);
      } catch (IOException e) {
        return new Cpu(System.getProperty("os.arch"), jvm, jvm, "unknown");
      }
    }

    /** Parses /proc/cpuinfo's text: the first model name, the processors, distinct (physical id, core id) pairs. */
    static Cpu parse(String text, int fallback) {
      String model = null;
      int threads = 0;
      Set<String> cores = new HashSet<>();
      String physical = "0";
      Set<String> bf16 = new LinkedHashSet<>();
      for (String line : text.split("\n")) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String key = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        switch (key) {
          case "processor" -> threads++;
          case "model name" -> model = model == null ? value : model;
          case "physical id" -> physical = value;
          case "core id" -> cores.add(physical + "/" + value);
          case "flags" -> {
            for (String f : value.split("\\s+")) {
              if (f.equals("avx512_bf16") || f.equals("amx_bf16")) {
                bf16.add(f);
              }
            }
          }
          default -> { }
        }
      }
      threads = threads > 0 ? threads : fallback;
      return new Cpu(model == null ? System.getProperty("os.arch") : model, cores.isEmpty() ? threads : cores.size(),
          threads, bf16.isEmpty() ? "none" : String.join(", ", bf16));
    }
  }

  /** The Markdown document: title, machine line, the table and the notes on what each family's steps are. */
  static String render(List<Row> rows, Machine machine, Map<String, String> steps) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Benchmarks\n\n");
    sb.append("Written by `genzoo bench --all`; rerun the command below to refresh it (on a quiet machine: runs vary "
        + "by about 10%, so compare the ratios measured in one run).\n\n");
    sb.append(machine.line()).append("\n\n");
    sb.append(HEADER).append('\n');
    sb.append("| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: |\n");
    for (Row r : rows) {
      sb.append(tableRow(r)).append('\n');
    }
    sb.append('\n');
    sb.append("Seconds are medians per step; genzoo and PyTorch were timed in the same run. ratio = PyTorch s / "
        + "genzoo s: genzoo's throughput relative to PyTorch's, above 1 when genzoo is faster. images/s is genzoo's: "
        + "the images one step consumes (train) or advances one step (sample) per second. bf16 is genzoo's oneDNN "
        + "auto mixed precision (`--bf16`) beside `torch.autocast(\"cpu\", torch.bfloat16)`; \"-\" where the peer has "
        + "no bf16 mode, where a family has no peer, or with `--no-torch`. params is genzoo's count; the PyTorch "
        + "peer's follows where it differs.\n\n");
    sb.append("Steps:\n\n");
    steps.forEach((f, s) -> sb.append("- ").append(f).append(": ").append(s).append('\n'));
    return sb.toString();
  }

  /** One table row, numbers to 4 significant digits (the ratio to 3). */
  static String tableRow(Row r) {
    String params = String.format(Locale.ROOT, "%,d", r.params());
    if (r.torchParams() >= 0 && r.torchParams() != r.params()) {
      params += String.format(Locale.ROOT, " (PyTorch %,d)", r.torchParams());
    }
    boolean peer = !Double.isNaN(r.torchSeconds());
    return "| " + String.join(" | ", r.family(), r.preset(), params, r.step(), r.precision(),
        significant(r.genzooSeconds(), 4), peer ? significant(r.torchSeconds(), 4) : NONE,
        peer ? significant(r.ratio(), 3) : NONE, significant(r.imagesPerSecond(), 4)) + " |";
  }

  /** {@code v} rounded to {@code digits} significant digits, in plain notation. */
  static String significant(double v, int digits) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    return new BigDecimal(v).round(new MathContext(digits)).stripTrailingZeros().toPlainString();
  }

  /**
   * A row as the table states it.
   *
   * @param ratio the ratio column, NaN for "-"
   * @param torchSeconds the PyTorch column, NaN for "-"
   * @param torchParams the peer's parameter count where the params cell gives one, else -1
   */
  record Written(String family, String preset, long params, long torchParams, String step, String precision,
      double genzooSeconds, double torchSeconds, double ratio, double imagesPerSecond) {}

  /** The rows of a table {@link #render} wrote, found by its {@link #HEADER}; a malformed row is an error. */
  static List<Written> parse(String markdown) {
    String[] lines = markdown.split("\n");
    int i = 0;
    while (i < lines.length && !lines[i].trim().equals(HEADER)) {
      i++;
    }
    if (i == lines.length) {
      throw new IllegalArgumentException("no benchmark table (header " + HEADER + ")");
    }
    List<Written> rows = new ArrayList<>();
    for (i += 2; i < lines.length && lines[i].startsWith("|"); i++) {
      String line = lines[i].trim();
      String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
      if (cells.length != 9 || !line.endsWith("|")) {
        throw new IllegalArgumentException("table row with " + cells.length + " cells, expected 9: " + line);
      }
      for (int k = 0; k < cells.length; k++) {
        cells[k] = cells[k].trim();
      }
      String[] params = cells[2].split(" \\(PyTorch ");
      long ours = Long.parseLong(params[0].replace(",", ""));
      long theirs = params.length > 1 ? Long.parseLong(params[1].replace(",", "").replace(")", "")) : -1;
      rows.add(new Written(cells[0], cells[1], ours, theirs, cells[3], cells[4], Double.parseDouble(cells[5]),
          number(cells[6]), number(cells[7]), Double.parseDouble(cells[8])));
    }
    return rows;
  }

  private static double number(String cell) {
    return cell.equals(NONE) ? Double.NaN : Double.parseDouble(cell);
  }
}
