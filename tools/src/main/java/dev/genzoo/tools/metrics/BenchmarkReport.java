package dev.genzoo.tools.metrics;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of {@code genzoo benchmark}: for each metric the measured value with its protocol beside the published
 * value(s) with theirs, the run's protocol (samples, sampler, reference, Inception graph), timing and throughput,
 * written as {@code report.json} ({@link #toJson()}, snake_case keys) and {@code report.md} ({@link #toMarkdown()}).
 *
 * @param format always {@value #FORMAT}
 * @param version the report format version
 * @param genzoo the genzoo version that wrote it
 * @param created when it was written (ISO-8601, UTC)
 * @param model the model measured
 * @param protocol how it was measured
 * @param metrics the measured metrics, in the order asked for
 * @param skipped metrics asked for but not measured, each with the reason
 * @param timing wall time and throughput
 * @param resume how much of the run came from the cache
 * @param samplesPng the sample grid's file name (beside the report), or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchmarkReport(String format, int version, String genzoo, String created, Model model,
    Protocol protocol, List<Metric> metrics, List<Skipped> skipped, Timing timing, Resume resume,
    String samplesPng) {
  /** The {@code format} field of a report. */
  public static final String FORMAT = "genzoo-benchmark-report";

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT);

  public BenchmarkReport {
    metrics = List.copyOf(metrics);
    skipped = List.copyOf(skipped);
  }

  /**
   * The model.
   *
   * @param name the name given on the command line (registry entry or bundle path)
   * @param bundleName the bundle's own name
   * @param family the family
   * @param manifestSha256 SHA-256 of the bundle's model.json, which pins every file of the bundle
   * @param parameters the number of trainable parameters
   * @param imageShape [H, W, C]
   * @param publishedFrom the registry entry whose published numbers are shown, or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Model(String name, String bundleName, String family, String manifestSha256, long parameters,
      long[] imageShape, String publishedFrom) {}

  /**
   * How the samples were drawn and measured.
   *
   * @param samples the number of generated images
   * @param seed the seed (chunk {@code i} is drawn with {@code Seeds.mix(seed, i)})
   * @param sampler the sampler ("default": the model's)
   * @param steps the sampler's steps (0: its default)
   * @param temperature the prior temperature
   * @param quantized whether samples were rounded to 8 bits (as saved PNG files) before the Inception network
   * @param chunk images per cached chunk (and per call of the sampler)
   * @param nonFiniteSamples samples with values that were not finite (NaN fed as 0, infinities clamped)
   * @param inception the Inception graph
   * @param reference the reference images or statistics, or null when no sample metric was asked for
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Protocol(int samples, long seed, String sampler, int steps, double temperature, boolean quantized,
      int chunk, int nonFiniteSamples, Inception inception, Reference reference) {}

  /**
   * The Inception graph.
   *
   * @param graph the GraphDef file (or the reference download)
   * @param sha256 its SHA-256
   * @param description how images are fed and resized ({@link InceptionNetwork#protocol()})
   * @param featureDim the pool_3 feature size
   * @param classes the softmax size
   */
  public record Inception(String graph, String sha256, String description, int featureDim, int classes) {}

  /**
   * What the samples are compared with.
   *
   * @param spec the {@code --ref} argument
   * @param split the data split, or null
   * @param count the number of reference images (0 when only precomputed statistics are known)
   * @param description what it is, in words
   * @param hasFeatures whether per-image features were available (needed by KID and precision/recall)
   * @param inceptionScore the reference images' own Inception Score (a sanity check), or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Reference(String spec, String split, int count, String description, boolean hasFeatures,
      Double inceptionScore) {}

  /**
   * A published figure.
   *
   * @param value the number
   * @param unit its unit
   * @param model the model it was published for
   * @param reference where it was published
   * @param protocol how it was measured there
   */
  public record Published(double value, String unit, String model, String reference, String protocol) {}

  /**
   * A measured metric.
   *
   * @param name the registry's metric name ({@code fid}, {@code inception_score}, {@code kid}, {@code precision},
   *     {@code recall}, {@code test_bpd}, ...)
   * @param value the measured value
   * @param uncertainty its spread, or null ({@link #uncertaintyKind()} says which)
   * @param uncertaintyKind e.g. "std over 10 splits", "standard error over 100 subsets"
   * @param unit the unit
   * @param protocol how it was measured: sample count, reference, Inception graph, sampler, seed
   * @param seconds the time spent computing it from the features (or evaluating the likelihood)
   * @param published the published values for this metric, with their protocols
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Metric(String name, double value, Double uncertainty, String uncertaintyKind, String unit,
      String protocol, double seconds, List<Published> published) {
    public Metric {
      published = published == null ? List.of() : List.copyOf(published);
    }
  }

  /** A metric that was asked for but not measured, and why. */
  public record Skipped(String name, String reason) {}

  /**
   * Time and throughput. Sampling and feature figures add up every chunk of the run, including chunks computed by
   * earlier, interrupted invocations.
   *
   * @param wallSeconds this invocation, start to end
   * @param samplingSeconds time in the model's sampler
   * @param samplingImagesPerSecond generated images per second
   * @param featureSeconds time in the Inception network for the samples
   * @param featureImagesPerSecond images per second through the Inception network
   * @param referenceSeconds time spent reading and embedding the reference images (all chunks), 0 if none
   * @param metricSeconds time in the metrics' math
   * @param bpdSeconds time in the likelihood evaluation, 0 if none
   */
  public record Timing(double wallSeconds, double samplingSeconds, double samplingImagesPerSecond,
      double featureSeconds, double featureImagesPerSecond, double referenceSeconds, double metricSeconds,
      double bpdSeconds) {}

  /**
   * What came from the cache.
   *
   * @param runs invocations that worked on this run's cache, this one included
   * @param cachedChunks sample chunks found in the cache
   * @param cachedImages their images
   * @param sampledChunks sample chunks drawn by this invocation
   * @param sampledImages images drawn by this invocation (0 for a complete resume)
   * @param cacheDir the cache folder
   */
  public record Resume(int runs, int cachedChunks, int cachedImages, int sampledChunks, int sampledImages,
      String cacheDir) {}

  /** The report as JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the benchmark report as JSON: " + e.getMessage(), e);
    }
  }

  /** Writes {@code report.json} and {@code report.md} into {@code dir}, each atomically. */
  public void write(Path dir) throws IOException {
    AtomicFiles.writeString(dir.resolve("report.json"), toJson());
    AtomicFiles.writeString(dir.resolve("report.md"), toMarkdown());
  }

  /** The report as Markdown: a summary table, the protocol, each metric in full, timing. */
  public String toMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append("# Benchmark: ").append(model.name()).append("\n\n");
    b.append("Model: ").append(model.bundleName()).append(" (").append(model.family()).append(", ")
        .append(String.format(Locale.ROOT, "%,d", model.parameters())).append(" parameters, images ")
        .append(shape(model.imageShape())).append("), model.json SHA-256 `").append(model.manifestSha256())
        .append("`. Written by genzoo ").append(genzoo).append(" on ").append(created).append(".\n\n");
    b.append("| metric | measured | published |\n| --- | --- | --- |\n");
    for (Metric m : metrics) {
      b.append("| ").append(m.name()).append(" | ").append(value(m)).append(" | ");
      if (m.published().isEmpty()) {
        b.append("–");
      } else {
        List<String> ps = new ArrayList<>();
        for (Published p : m.published()) {
          ps.add(num(p.value()) + " (" + cell(p.model()) + ")");
        }
        b.append(String.join("; ", ps));
      }
      b.append(" |\n");
    }
    for (Skipped s : skipped) {
      b.append("| ").append(s.name()).append(" | skipped | |\n");
    }
    b.append("\nEvery number carries its protocol: published numbers were measured under the protocols listed "
        + "below, which may differ from this run's.\n\n");
    b.append("## Protocol\n\n");
    b.append("- samples: ").append(String.format(Locale.ROOT, "%,d", protocol.samples())).append(", seed ")
        .append(protocol.seed()).append(" (chunk i drawn with Seeds.mix(seed, i), ")
        .append(protocol.chunk()).append(" images per chunk)\n");
    b.append("- sampler: ").append(protocol.sampler()).append(", steps ")
        .append(protocol.steps() == 0 ? "default" : String.valueOf(protocol.steps())).append(", temperature ")
        .append(java.math.BigDecimal.valueOf(protocol.temperature()).stripTrailingZeros().toPlainString())
        .append("\n");
    b.append("- images fed to Inception: ").append(protocol.quantized() ? "rounded to 8 bits (as saved PNG files)"
        : "as sampled (not rounded)").append("\n");
    if (protocol.nonFiniteSamples() > 0) {
      b.append("- samples with values that were not finite: ").append(protocol.nonFiniteSamples())
          .append(" (fed with NaN as 0 and infinities clamped to [0, 1])\n");
    }
    if (protocol.inception() != null) {
      Inception i = protocol.inception();
      b.append("- Inception graph: ").append(i.graph()).append(", SHA-256 `").append(i.sha256()).append("`; ")
          .append(i.description()).append(" (").append(i.featureDim()).append("-d features, ").append(i.classes())
          .append(" classes)\n");
    }
    if (protocol.reference() != null) {
      Reference r = protocol.reference();
      b.append("- reference: `").append(r.spec()).append("`: ").append(r.description());
      if (r.split() != null) {
        b.append(", ").append(r.split()).append(" split");
      }
      if (r.count() > 0) {
        b.append(", ").append(String.format(Locale.ROOT, "%,d", r.count())).append(" images");
      }
      if (r.inceptionScore() != null) {
        b.append(", its own Inception Score ").append(num(r.inceptionScore()));
      }
      b.append("\n");
    }
    b.append("\n## Metrics\n\n");
    for (Metric m : metrics) {
      b.append("### ").append(m.name()).append("\n\n");
      b.append("- measured: ").append(value(m)).append(" ").append(m.unit()).append(" — ").append(m.protocol())
          .append("\n");
      for (Published p : m.published()) {
        b.append("- published: ").append(num(p.value())).append(" ").append(p.unit()).append(" — ")
            .append(p.model()).append(", ").append(p.reference()).append("; protocol: ").append(p.protocol())
            .append("\n");
      }
      b.append("\n");
    }
    if (!skipped.isEmpty()) {
      b.append("## Skipped\n\n");
      for (Skipped s : skipped) {
        b.append("- ").append(s.name()).append(": ").append(s.reason()).append("\n");
      }
      b.append("\n");
    }
    b.append("## Time\n\n");
    b.append("| stage | seconds | images/s |\n| --- | --- | --- |\n");
    b.append(String.format(Locale.ROOT, "| sampling | %.1f | %.2f |%n", timing.samplingSeconds(),
        timing.samplingImagesPerSecond()));
    b.append(String.format(Locale.ROOT, "| Inception features of the samples | %.1f | %.2f |%n",
        timing.featureSeconds(), timing.featureImagesPerSecond()));
    if (timing.referenceSeconds() > 0) {
      b.append(String.format(Locale.ROOT, "| reference images and features | %.1f | |%n",
          timing.referenceSeconds()));
    }
    b.append(String.format(Locale.ROOT, "| metrics from features | %.2f | |%n", timing.metricSeconds()));
    if (timing.bpdSeconds() > 0) {
      b.append(String.format(Locale.ROOT, "| likelihood (bits/dim) | %.1f | |%n", timing.bpdSeconds()));
    }
    b.append(String.format(Locale.ROOT, "| this invocation, wall | %.1f | |%n", timing.wallSeconds()));
    b.append("\nSampling and feature times add up all chunks of the run; ").append(resume.cachedChunks())
        .append(" chunk(s) (").append(resume.cachedImages()).append(" images) came from the cache in ")
        .append(resume.cacheDir()).append(", ").append(resume.sampledChunks()).append(" (")
        .append(resume.sampledImages()).append(" images) were drawn by this invocation (invocation ")
        .append(resume.runs()).append(" of this run).\n");
    if (samplesPng != null) {
      b.append("\n## Samples\n\n![the first samples](").append(samplesPng).append(")\n");
    }
    return b.toString();
  }

  private static String value(Metric m) {
    return m.uncertainty() == null ? num(m.value()) : num(m.value()) + " ± " + num(m.uncertainty());
  }

  private static String num(double v) {
    if (v != 0 && Math.abs(v) < 0.01) {
      return String.format(Locale.ROOT, "%.3g", v);
    }
    return String.format(Locale.ROOT, "%.4g", v);
  }

  private static String cell(String s) {
    return s == null ? "" : s.replace("|", "\\|");
  }

  private static String shape(long[] s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length; i++) {
      b.append(i == 0 ? "" : "x").append(s[i]);
    }
    return b.toString();
  }
}
