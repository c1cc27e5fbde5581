package dev.genzoo.tools;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.data.DataSpec;
import dev.genzoo.data.ImageDataset;
import dev.genzoo.data.LoadedData;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.Progress;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.tools.metrics.BenchmarkCache;
import dev.genzoo.tools.metrics.BenchmarkReference;
import dev.genzoo.tools.metrics.BenchmarkReport;
import dev.genzoo.tools.metrics.FeatureStats;
import dev.genzoo.tools.metrics.Frechet;
import dev.genzoo.tools.metrics.InceptionNetwork;
import dev.genzoo.tools.metrics.InceptionScore;
import dev.genzoo.tools.metrics.Kid;
import dev.genzoo.tools.metrics.PrecisionRecall;
import dev.genzoo.tools.metrics.ReferenceStats;
import dev.genzoo.viz.ImageGrid;
import dev.genzoo.zoo.Datasets;
import dev.genzoo.zoo.Registry;
import dev.genzoo.zoo.RegistryEntry;
import dev.genzoo.zoo.Zoo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code genzoo benchmark NAME --metrics fid,is,kid,bpd --samples 50000 --ref cifar10-train}: samples a model,
 * embeds the samples with the reference Inception graph (caching the features chunk by chunk, so that an interrupted
 * run resumes), computes the metrics against a reference and writes {@code report.md}, {@code report.json} and
 * {@code samples.png}, each number beside the published one and its protocol.
 */
@Command(name = "benchmark", description = {
    "Measure an image model's FID, Inception Score, KID, precision/recall (on the reference TF Inception graph) "
        + "and bits/dim, beside the published numbers, each with its protocol.",
    "Writes report.md, report.json and samples.png into --out; the samples' Inception features are cached there "
        + "chunk by chunk, so running the same command again resumes an interrupted run.",
    "The last line is 'METRIC VALUE' of the first metric."})
final class BenchmarkCommand implements Callable<Integer> {
  static final List<String> METRICS = List.of("fid", "is", "kid", "pr", "bpd");

  @Parameters(index = "0", paramLabel = "NAME", description = "registry name or bundle path")
  String name;

  @Option(names = "--metrics", defaultValue = "fid,is", split = ",", paramLabel = "LIST",
      description = "comma-separated: fid, is, kid, pr (precision and recall), bpd (default ${DEFAULT-VALUE})")
  List<String> metrics;

  @Option(names = "--samples", defaultValue = "50000", description = "generated images (default ${DEFAULT-VALUE})")
  int samples;

  @Option(names = "--ref", defaultValue = "cifar10-train", paramLabel = "REF", description = {
      "what the samples are compared with (default ${DEFAULT-VALUE}): cifar10-train, stats:FILE.npz (mu, sigma; "
          + "FID only), features:FILE.npy (N x D pool_3 features), data:SPEC (data:cifar10:DIR, data:mnist:DIR, "
          + "data:folder:DIR, data:npy:FILE)"})
  String ref;

  @Option(names = "--ref-split", defaultValue = "train", description = "data:SPEC with splits: train or test "
      + "(default ${DEFAULT-VALUE})")
  String refSplit;

  @Option(names = "--ref-limit", defaultValue = "0", paramLabel = "N",
      description = "use the first N reference images (0: all), e.g. 10000 for SN-GAN's 10k/5k protocol")
  int refLimit;

  @Option(names = "--out", paramLabel = "DIR", description = "report and cache folder (default: benchmark-NAME)")
  Path out;

  @Option(names = "--fresh", description = "discard the sample features cached in --out and start over")
  boolean fresh;

  @Option(names = "--seed", defaultValue = "0", description = "sampling seed; chunk i uses Seeds.mix(seed, i)")
  long seed;

  @Option(names = "--sampler", description = {"the family's sampler (default: the model's)",
      "ddpm: ancestral, ancestral:fixedlarge, ancestral:fixedsmall, ddim, ddim:ETA; ncsn: annealed-langevin"})
  String sampler;

  @Option(names = "--steps", defaultValue = "0", description = "sampler steps: DDIM's S, NCSN's T per noise level")
  int steps;

  @Option(names = "--temperature", defaultValue = "1.0", description = "prior temperature (default ${DEFAULT-VALUE})")
  double temperature;

  @Option(names = "--chunk", defaultValue = "1000", paramLabel = "N",
      description = "images per sampler call and per cached chunk (default ${DEFAULT-VALUE})")
  int chunk;

  @Option(names = "--feature-batch", defaultValue = "100", paramLabel = "N",
      description = "images per Inception run (default ${DEFAULT-VALUE})")
  int featureBatch;

  @Option(names = "--no-quantize", negatable = false, description = "feed samples to Inception as drawn, not "
      + "rounded to 8 bits as saved PNG files are")
  boolean noQuantize;

  @Option(names = "--inception-graph", paramLabel = "FILE.pb", description = "use this Inception GraphDef "
      + "(default: the reference graph inception-2015-12-05, downloaded once)")
  Path inceptionGraph;

  @Option(names = "--is-splits", defaultValue = "10", description = "Inception Score splits (default ${DEFAULT-VALUE})")
  int isSplits;

  @Option(names = "--kid-subsets", defaultValue = "100", description = "KID subsets (default ${DEFAULT-VALUE})")
  int kidSubsets;

  @Option(names = "--kid-subset-size", defaultValue = "1000",
      description = "KID subset size, capped at the sample and reference counts (default ${DEFAULT-VALUE})")
  int kidSubsetSize;

  @Option(names = "--pr-k", defaultValue = "3", description = "precision/recall: k of the k-NN radii "
      + "(default ${DEFAULT-VALUE})")
  int prK;

  @Option(names = "--data", paramLabel = "SPEC", description = "bpd: the test data (default for CIFAR-10 models: the "
      + "downloaded CIFAR-10 test split)")
  String data;

  @Option(names = "--data-limit", defaultValue = "0", paramLabel = "N", description = "bpd: the first N test images "
      + "(0: all)")
  int dataLimit;

  @Option(names = "--importance-samples", defaultValue = "0", paramLabel = "K",
      description = "bpd of latent-variable models (nvae): k of the importance-weighted bound (0: the model's default)")
  int importanceSamples;

  @Option(names = "--published", paramLabel = "ENTRY", description = "the registry entry whose published numbers to "
      + "show (default: NAME, or the bundle's name, when the registry has it)")
  String published;

  @Option(names = "--quiet", description = "no progress bars")
  boolean quiet;

  @Mixin
  RuntimeMixin runtime;

  @Mixin
  FolderOptions folder;

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    Set<String> wanted = parseMetrics();
    validate(wanted);
    boolean imageMetrics = wanted.contains("fid") || wanted.contains("is") || wanted.contains("kid")
        || wanted.contains("pr");
    boolean needsReference = wanted.contains("fid") || wanted.contains("kid") || wanted.contains("pr");
    BenchmarkReference reference = needsReference ? BenchmarkReference.parse(ref) : null;
    if (reference != null) {
      checkReference(reference, wanted);
    }
    if (inceptionGraph != null && !Files.isRegularFile(inceptionGraph)) {
      throw new IllegalArgumentException("--inception-graph " + inceptionGraph + ": no such file");
    }
    String sha;
    String bundleName;
    GenerativeModel loaded;
    try (Bundle bundle = Zoo.open(name)) {
      sha = bundle.manifestSha256();
      bundleName = bundle.manifest().name();
      loaded = Zoo.load(bundle, ModelOptions.inference().withRuntime(runtime.options()));
    }
    try (GenerativeModel model = loaded) {
      long[] shape = model.dataShape();
      if (shape.length != 3) {
        throw new IllegalArgumentException("benchmark metrics are for image models; " + name + " (" + model.family()
            + ") draws points of shape " + java.util.Arrays.toString(shape) + " (use genzoo eval for those)");
      }
      int h = (int) shape[0];
      int w = (int) shape[1];
      int c = (int) shape[2];
      RegistryEntry entry = publishedEntry(bundleName);
      String bpdData = wanted.contains("bpd") && model.hasLikelihood() ? bpdData(entry, shape) : null;
      Path dir = out != null ? out : Path.of("benchmark-" + safeName(bundleName));
      Files.createDirectories(dir);

      List<BenchmarkReport.Metric> measured = new ArrayList<>();
      List<BenchmarkReport.Skipped> skipped = new ArrayList<>();
      BenchmarkReport.Inception inception = null;
      BenchmarkReport.Reference referenceInfo = null;
      BenchmarkReport.Resume resume = new BenchmarkReport.Resume(0, 0, 0, 0, 0, dir.resolve("cache").toString());
      double samplingSeconds = 0;
      double featureSeconds = 0;
      double referenceSeconds = 0;
      double metricSeconds = 0;
      int nonFinite = 0;
      float[] grid;
      int gridCount;
      if (imageMetrics) {
        try (InceptionNetwork net = InceptionNetwork.load(inceptionGraph != null ? inceptionGraph
            : InceptionNetwork.referenceGraph(), runtime.options())) {
          net.batchSize(featureBatch).quantize(!noQuantize).showProgress(false);
          int d = net.featureDim();
          int k = net.classes();
          inception = new BenchmarkReport.Inception(net.graphFile().toString(), net.graphSha256(), net.protocol(),
              d, k);
          Map<String, String> key = new LinkedHashMap<>();
          key.put("model_sha256", sha);
          key.put("image_shape", h + "x" + w + "x" + c);
          key.put("seed", Long.toString(seed));
          key.put("sampler", samplerName());
          key.put("steps", Integer.toString(steps));
          key.put("temperature", Double.toString(temperature));
          key.put("chunk", Integer.toString(chunk));
          key.put("quantized", Boolean.toString(!noQuantize));
          key.put("inception_sha256", net.graphSha256());
          Path cacheDir = dir.resolve("cache").resolve("samples");
          BenchmarkCache cache = BenchmarkCache.open(cacheDir, key, d, k, fresh, "--out " + dir);
          BenchmarkCache.ChunkListener gridKeeper = (i, s, count, x) -> cache.offerGrid(s, count, x, h, w, c);
          BenchmarkCache.FillResult fill = cache.fill(samples, chunk, (i, s, count) -> draw(model, i, count, h, w, c),
              net, h, w, c, featureBatch, "samples", !quiet, gridKeeper);
          int wantGrid = Math.min(BenchmarkCache.GRID_SIZE, samples);
          for (int i = cache.gridCount() / chunk; cache.gridCount() < wantGrid; i++) {
            int count = BenchmarkCache.expectedCount(i, chunk, samples);
            cache.offerGrid(i * chunk, count, draw(model, i, count, h, w, c), h, w, c);
          }
          gridCount = cache.gridCount();
          grid = cache.grid(h, w, c);
          resume = new BenchmarkReport.Resume(cache.runs(), fill.cachedChunks(), fill.cachedImages(),
              fill.computedChunks(), fill.computedImages(), cacheDir.toString());
          samplingSeconds = cache.imageSeconds(samples, chunk);
          featureSeconds = cache.featureSeconds(samples, chunk);
          nonFinite = cache.nonFinite(samples, chunk);
          float[] fake = cache.features(samples, chunk);
          float[] probs = wanted.contains("is") ? cache.probs(samples, chunk) : null;

          RefData r = null;
          if (reference != null) {
            long t0 = System.nanoTime();
            r = reference(reference, net, model, dir, wanted);
            referenceSeconds = r.seconds() >= 0 ? r.seconds() : (System.nanoTime() - t0) / 1e9;
            referenceInfo = r.info();
          }
          long t0 = System.nanoTime();
          String sampleProtocol = String.format(Locale.ROOT, "%,d samples (seed %d, sampler %s, steps %s, temperature"
              + " %s%s)", samples, seed, samplerName(), steps == 0 ? "default" : Integer.toString(steps),
              plain(temperature), noQuantize ? "" : ", rounded to 8 bits")
              + (nonFinite == 0 ? "" : String.format(Locale.ROOT, "; %,d of them had values that were not finite, "
              + "fed with NaN as 0 and infinities clamped", nonFinite));
          java.util.regex.Matcher resize = java.util.regex.Pattern.compile("resized [^;]*").matcher(net.protocol());
          String inceptionProtocol = "Inception graph " + net.graphFile().getFileName() + " (sha256 "
              + net.graphSha256() + (resize.find() ? "; " + resize.group() : "") + "; see protocol.inception)";
          String refProtocol = r == null ? "" : "reference " + reference.spec() + " (" + r.info().description()
              + (r.info().count() > 0 ? String.format(Locale.ROOT, ", %,d images", r.info().count()) : "") + ")";
          long count = wanted.stream().filter(m -> !m.equals("bpd")).count();
          try (Progress bar = Progress.start("metrics", 0, count, "metrics", !quiet)) {
            int finished = 0;
            for (String m : wanted) {
              if (m.equals("bpd")) {
                continue;
              }
              long m0 = System.nanoTime();
              bar.message(m);
              switch (m) {
                case "fid" -> {
                  FeatureStats a = FeatureStats.of(fake, samples, d);
                  double fid = Frechet.distance(a, r.stats());
                  measured.add(metric("fid", fid, null, null, "FID", sampleProtocol + " vs " + refProtocol
                      + "; Frechet distance of pool_3 statistics; " + inceptionProtocol, m0, entry));
                }
                case "is" -> {
                  InceptionScore.Result is = InceptionScore.compute(probs, samples, k, isSplits);
                  measured.add(metric("inception_score", is.mean(), is.std(), "std over " + isSplits + " splits",
                      "IS", sampleProtocol + ", " + isSplits + " splits; " + k + "-way softmax of "
                      + inceptionProtocol, m0, entry));
                }
                case "kid" -> {
                  int size = Math.min(kidSubsetSize, Math.min(samples, r.count()));
                  Kid.Result kid = Kid.compute(fake, samples, r.features(), r.count(), d, kidSubsets, size, seed);
                  measured.add(metric("kid", kid.mean(), kid.stderr(), "standard error over " + kidSubsets
                      + " subsets", "KID", sampleProtocol + " vs " + refProtocol + "; unbiased MMD^2 with the "
                      + "cubic polynomial kernel, " + kidSubsets + " subsets of " + size + " (seed " + seed
                      + "), mean with its standard error; std over the subsets " + fmt(kid.std())
                      + " (what Mimicry and torch-fidelity print after the mean); " + inceptionProtocol, m0, entry));
                }
                case "pr" -> {
                  PrecisionRecall.Result pr = PrecisionRecall.compute(r.features(), r.count(), fake, samples, d, prK);
                  String p = sampleProtocol + " vs " + refProtocol + "; k-NN manifolds with k = " + prK
                      + " (Kynkaanniemi et al. 2019); " + inceptionProtocol;
                  measured.add(metric("precision", pr.precision(), null, null, "fraction", p, m0, entry));
                  measured.add(metric("recall", pr.recall(), null, null, "fraction", p, m0, entry));
                }
                default -> { }
              }
              bar.stepTo(++finished);
            }
          }
          metricSeconds = (System.nanoTime() - t0) / 1e9;
        }
      } else {
        gridCount = Math.min(BenchmarkCache.GRID_SIZE, samples);
        grid = new float[0];
        for (int i = 0; i * chunk < gridCount; i++) {
          int count = Math.min(chunk, gridCount - i * chunk);
          float[] x = draw(model, i, count, h, w, c);
          float[] merged = java.util.Arrays.copyOf(grid, grid.length + x.length);
          System.arraycopy(x, 0, merged, grid.length, x.length);
          grid = merged;
        }
      }
      double bpdSeconds = 0;
      if (wanted.contains("bpd")) {
        if (!model.hasLikelihood()) {
          String reason = model.family() + " models have no likelihood or bound to evaluate";
          skipped.add(new BenchmarkReport.Skipped("bpd", reason));
          System.out.println("bpd skipped: " + reason);
        } else {
          long t0 = System.nanoTime();
          Map<String, BundleManifest.Metric> m = Evaluation.run(model, bpdData, "test", dataLimit, seed, !quiet,
              folder, importanceSamples);
          bpdSeconds = (System.nanoTime() - t0) / 1e9;
          for (Map.Entry<String, BundleManifest.Metric> e : m.entrySet()) {
            measured.add(new BenchmarkReport.Metric(e.getKey(), e.getValue().value(), null, null,
                e.getValue().unit(), "data " + bpdData + ": " + e.getValue().protocol(), bpdSeconds,
                publishedFor(entry, e.getKey())));
          }
        }
      }
      Path png = dir.resolve("samples.png");
      ImageGrid.write(grid, gridCount, h, w, c, png);
      double wall = (System.nanoTime() - start) / 1e9;
      BenchmarkReport report = new BenchmarkReport(BenchmarkReport.FORMAT, 1, Main.version(),
          Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
          new BenchmarkReport.Model(name, bundleName, model.family(), sha, model.parameterCount(), shape,
              entry == null ? null : entry.name()),
          new BenchmarkReport.Protocol(samples, seed, samplerName(), steps, temperature, !noQuantize, chunk,
              nonFinite, inception, referenceInfo),
          measured, skipped,
          new BenchmarkReport.Timing(wall, samplingSeconds, rate(samples, samplingSeconds), featureSeconds,
              rate(samples, featureSeconds), referenceSeconds, metricSeconds, bpdSeconds),
          resume, "samples.png");
      report.write(dir);
      for (BenchmarkReport.Metric m : measured) {
        System.out.printf(Locale.ROOT, "%-16s %s%s%n", m.name(), fmt(m.value()), m.uncertainty() == null ? ""
            : " ± " + fmt(m.uncertainty()));
      }
      System.out.println("wrote " + dir.resolve("report.md") + ", " + dir.resolve("report.json") + " and " + png);
      if (!measured.isEmpty()) {
        System.out.printf(Locale.ROOT, "%s %.6f%n", measured.get(0).name(), measured.get(0).value());
      }
    }
    return 0;
  }

  /** The reference's statistics and (where it has them) per-image features. */
  private record RefData(FeatureStats stats, float[] features, int count, BenchmarkReport.Reference info,
      double seconds) {}

  private Set<String> parseMetrics() {
    Set<String> out = new LinkedHashSet<>();
    for (String raw : metrics) {
      String m = raw.strip().toLowerCase(Locale.ROOT);
      m = switch (m) {
        case "inception_score", "inception-score" -> "is";
        case "precision", "recall", "precision_recall" -> "pr";
        case "test_bpd" -> "bpd";
        default -> m;
      };
      if (m.isEmpty()) {
        continue;
      }
      if (!METRICS.contains(m)) {
        throw new IllegalArgumentException("--metrics: unknown metric '" + raw.strip() + "'; valid: "
            + String.join(", ", METRICS));
      }
      out.add(m);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("--metrics is empty; valid: " + String.join(", ", METRICS));
    }
    return out;
  }

  private void validate(Set<String> wanted) {
    if (samples < 2) {
      throw new IllegalArgumentException("--samples must be at least 2, got " + samples);
    }
    if (chunk < 1) {
      throw new IllegalArgumentException("--chunk must be at least 1, got " + chunk);
    }
    if (featureBatch < 1) {
      throw new IllegalArgumentException("--feature-batch must be at least 1, got " + featureBatch);
    }
    if (wanted.contains("is") && (isSplits < 1 || isSplits > samples)) {
      throw new IllegalArgumentException("--is-splits must be between 1 and --samples (" + samples + "), got "
          + isSplits);
    }
    if (wanted.contains("kid") && (kidSubsets < 1 || kidSubsetSize < 2)) {
      throw new IllegalArgumentException("--kid-subsets must be >= 1 and --kid-subset-size >= 2, got " + kidSubsets
          + " and " + kidSubsetSize);
    }
    if (wanted.contains("pr") && prK < 1) {
      throw new IllegalArgumentException("--pr-k must be at least 1, got " + prK);
    }
    if (refLimit < 0 || dataLimit < 0) {
      throw new IllegalArgumentException("--ref-limit and --data-limit must be >= 0");
    }
    if (!refSplit.equals("train") && !refSplit.equals("test")) {
      throw new IllegalArgumentException("--ref-split must be train or test, not '" + refSplit + "'");
    }
    if (!(temperature >= 0)) {
      throw new IllegalArgumentException("--temperature must be >= 0, got " + temperature);
    }
    if (steps < 0) {
      throw new IllegalArgumentException("--steps must be >= 0, got " + steps);
    }
    if (data != null) {
      DataSpec.parse(data);
    }
  }

  private void checkReference(BenchmarkReference r, Set<String> wanted) {
    if (!r.hasFeatures() && (wanted.contains("kid") || wanted.contains("pr"))) {
      throw new IllegalArgumentException("--metrics " + (wanted.contains("kid") ? "kid" : "pr") + " needs the "
          + "reference's per-image features, and --ref " + r.spec() + " has only its statistics (mu, sigma): use "
          + "--ref data:SPEC, features:FILE.npy or cifar10-train, or leave it out of --metrics");
    }
    if ((r.kind() == BenchmarkReference.Kind.STATS || r.kind() == BenchmarkReference.Kind.FEATURES)
        && !Files.isRegularFile(r.file())) {
      throw new IllegalArgumentException("--ref " + r.spec() + ": no such file " + r.file());
    }
  }

  private RegistryEntry publishedEntry(String bundleName) {
    Registry registry = Registry.load();
    if (published != null) {
      try {
        return registry.get(published);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--published: " + e.getMessage(), e);
      }
    }
    if (registry.contains(name)) {
      return registry.get(name);
    }
    return registry.contains(bundleName) ? registry.get(bundleName) : null;
  }

  /** The test data for bits/dim: --data, or CIFAR-10 (downloaded once) for a CIFAR-10 model. */
  private String bpdData(RegistryEntry entry, long[] shape) {
    if (data != null) {
      return data;
    }
    boolean cifar = entry != null && "cifar10".equals(entry.data()) && shape[0] == 32 && shape[1] == 32
        && shape[2] == 3;
    if (cifar) {
      return "cifar10";
    }
    throw new IllegalArgumentException("--metrics bpd needs the test data: give --data SPEC (e.g. "
        + (entry != null && entry.data() != null && !entry.data().contains(":") ? entry.data() + ":DIR"
        : "cifar10:DIR") + "), or leave bpd out of --metrics");
  }

  /** Chunk {@code i} of the samples: {@code count} images drawn with seed {@code Seeds.mix(seed, i)}. */
  private float[] draw(GenerativeModel model, int i, int count, int h, int w, int c) {
    Samples s = model.sample(count, new SampleOptions(Seeds.mix(seed, i), temperature, sampler, steps, 0));
    long[] sh = s.shape();
    if (!s.isImages() || sh[0] != count || sh[1] != h || sh[2] != w || sh[3] != c) {
      throw new IllegalStateException(name + " returned samples of shape " + java.util.Arrays.toString(sh)
          + ", expected [" + count + ", " + h + ", " + w + ", " + c + "]");
    }
    return s.data();
  }

  private RefData reference(BenchmarkReference r, InceptionNetwork net, GenerativeModel model, Path dir,
      Set<String> wanted) throws IOException {
    int d = net.featureDim();
    switch (r.kind()) {
      case STATS -> {
        FeatureStats s = FeatureStats.readNpz(r.file());
        checkDim(s.dim(), d, r);
        return new RefData(s, null, s.count(), new BenchmarkReport.Reference(r.spec(), null, s.count(),
            "precomputed statistics " + r.file(), false, null), -1);
      }
      case FEATURES -> {
        NpyArray a = Npy.read(r.file());
        if (a.shape().length != 2) {
          throw new IllegalArgumentException("--ref " + r.spec() + ": " + a + " is not an (N, D) array of features");
        }
        checkDim((int) a.shape()[1], d, r);
        int n = (int) a.shape()[0];
        float[] f = a.asFloats();
        if (refLimit > 0 && refLimit < n) {
          f = java.util.Arrays.copyOf(f, refLimit * d);
          n = refLimit;
        }
        if (n < 2) {
          throw new IllegalArgumentException("--ref " + r.spec() + ": needs at least 2 feature rows, has " + n);
        }
        return new RefData(FeatureStats.of(f, n, d), f, n, new BenchmarkReport.Reference(r.spec(), null, n,
            "precomputed features " + r.file(), true, null), -1);
      }
      case DATA -> {
        LoadedData loaded = Datasets.open(r.location(), folder.apply(Datasets.optionsFor(model.dataShape(),
            refSplit)));
        if (!(loaded instanceof LoadedData.Images images)) {
          throw new IllegalArgumentException("--ref " + r.spec() + " is not image data (" + loaded.describe() + ")");
        }
        String scheme = DataSpec.parse(r.location()).scheme();
        boolean splits = scheme.equals("mnist") || scheme.equals("cifar10");
        return embed(images.dataset(), r.spec(), splits ? refSplit : null, net, dir, wanted);
      }
      case CIFAR10_TRAIN -> {
        return cifar10Train(r, net, dir, wanted);
      }
      default -> throw new IllegalStateException(r.kind().toString());
    }
  }

  private RefData cifar10Train(BenchmarkReference r, InceptionNetwork net, Path dir, Set<String> wanted)
      throws IOException {
    if (refLimit == 0 && !wanted.contains("kid") && !wanted.contains("pr")) {
      long t0 = System.nanoTime();
      FeatureStats s = ReferenceStats.cifar10Train(net);
      return new RefData(s, null, s.count(), new BenchmarkReport.Reference(r.spec(), "train", s.count(),
          "CIFAR-10 (statistics cached under " + Zoo.home().resolve("stats") + ")", false, null),
          (System.nanoTime() - t0) / 1e9);
    }
    LoadedData loaded = Datasets.open("cifar10", DataSpec.Options.defaults().withSplit("train"));
    return embed(((LoadedData.Images) loaded).dataset(), r.spec(), "train", net, dir, wanted);
  }

  /** Features of a dataset's first images, cached by chunks in {@code DIR/cache/reference-KEY}. */
  private RefData embed(ImageDataset ds, String spec, String split, InceptionNetwork net, Path dir,
      Set<String> wanted) throws IOException {
    int n = refLimit > 0 ? Math.min(refLimit, ds.size()) : ds.size();
    if (n < 2) {
      throw new IllegalArgumentException("--ref " + spec + " has " + n + " image(s); at least 2 are needed");
    }
    int d = net.featureDim();
    int k = net.classes();
    int rh = ds.height();
    int rw = ds.width();
    int rc = ds.channels();
    int per = ds.exampleSize();
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (int i = 0; i < n; i++) {
      md.update(ds.exampleBytes(i));
    }
    Map<String, String> key = new LinkedHashMap<>();
    key.put("images_sha256", java.util.HexFormat.of().formatHex(md.digest()));
    key.put("count", Integer.toString(n));
    key.put("image_shape", rh + "x" + rw + "x" + rc);
    key.put("chunk", Integer.toString(chunk));
    key.put("inception_sha256", net.graphSha256());
    String id = Sha256.hex(key.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 12);
    Path cacheDir = dir.resolve("cache").resolve("reference-" + id);
    BenchmarkCache cache = BenchmarkCache.open(cacheDir, key, d, k, false, cacheDir.toString());
    cache.fill(n, chunk, (i, s, count) -> {
      float[] x = new float[count * per];
      for (int j = 0; j < count; j++) {
        ds.copyTo(s + j, x, j * per, false);
      }
      for (int j = 0; j < x.length; j++) {
        x[j] /= 255f;
      }
      return x;
    }, net, rh, rw, rc, featureBatch, "reference", !quiet, null);
    float[] f = cache.features(n, chunk);
    InceptionScore.Result is = InceptionScore.compute(cache.probs(n, chunk), n, k, Math.min(isSplits, n));
    double seconds = cache.imageSeconds(n, chunk) + cache.featureSeconds(n, chunk);
    return new RefData(FeatureStats.of(f, n, d), f, n, new BenchmarkReport.Reference(spec, split, n,
        ds.description(), true, is.mean()), seconds);
  }

  private static void checkDim(int got, int d, BenchmarkReference r) {
    if (got != d) {
      throw new IllegalArgumentException("--ref " + r.spec() + " has " + got + "-d features, the Inception graph "
          + "gives " + d + "-d ones");
    }
  }

  private BenchmarkReport.Metric metric(String metricName, double value, Double uncertainty, String kind,
      String unit, String protocol, long startNanos, RegistryEntry entry) {
    boolean spread = uncertainty != null && Double.isFinite(uncertainty);
    return new BenchmarkReport.Metric(metricName, value, spread ? uncertainty : null, spread ? kind : null, unit,
        protocol, (System.nanoTime() - startNanos) / 1e9, publishedFor(entry, metricName));
  }

  /**
   * The entry's published figures for a metric; an importance-weighted bound ({@code test_bpd_iw1000}) is shown
   * beside the figures for the plain metric ({@code test_bpd}) too, whose protocols say which bound they are.
   */
  private static List<BenchmarkReport.Published> publishedFor(RegistryEntry entry, String metricName) {
    List<BenchmarkReport.Published> out = new ArrayList<>();
    String base = metricName.replaceFirst("_iw\\d+$", "");
    if (entry != null) {
      for (RegistryEntry.Published p : entry.published()) {
        if (p.metric().equals(metricName) || p.metric().equals(base)) {
          out.add(new BenchmarkReport.Published(p.value(), p.unit(), p.model(), p.reference(), p.protocol()));
        }
      }
    }
    return out;
  }

  private String samplerName() {
    return sampler == null ? "default" : sampler;
  }

  private static double rate(int n, double seconds) {
    return seconds > 0 ? n / seconds : 0;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, v != 0 && Math.abs(v) < 0.01 ? "%.4g" : "%.4f", v);
  }

  private static String plain(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  private static String safeName(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }
}
