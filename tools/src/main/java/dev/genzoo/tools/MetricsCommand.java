package dev.genzoo.tools;

import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.tools.metrics.FeatureStats;
import dev.genzoo.tools.metrics.Frechet;
import dev.genzoo.tools.metrics.InceptionScore;
import dev.genzoo.tools.metrics.Kid;
import dev.genzoo.tools.metrics.PrecisionRecall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genzoo metrics fid|kid|is|pr|stats}: sample-quality metrics from features, logits or statistics saved
 * elsewhere (for instance pool_3 features of the reference Inception graph). Each subcommand prints context lines and
 * ends with one line {@code NAME VALUE} ({@code pr} ends with {@code precision VALUE} and then {@code recall VALUE}).
 */
@Command(name = "metrics", description = {"Sample-quality metrics from saved features (.npy, (N, D) float), "
    + "statistics (.npz with mu, sigma) or Inception logits/probabilities: fid, kid, is, pr, stats.",
    "The last line is 'NAME VALUE'."},
    subcommands = {MetricsCommand.Fid.class, MetricsCommand.KidCommand.class, MetricsCommand.Is.class,
        MetricsCommand.Pr.class, MetricsCommand.Stats.class})
public final class MetricsCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.out);
    return 0;
  }

  /** A 2-D float array read from an .npy file: {@code n} rows of {@code d}. */
  record Matrix(Path file, float[] values, int n, int d) {
    String describe() {
      return file + ": " + n + " x " + d;
    }
  }

  /**
   * Reads an {@code (N, D)} float array; {@code (N, 1, 1, D)} (pool_3 as the graph returns it) is accepted too. The
   * errors name the file: not an .npy, not 2-D, not floats, too few rows, NaN or infinite values.
   */
  static Matrix readMatrix(Path file, String what, int minRows) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": no such file (" + what + ")");
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".npz")) {
      throw new IllegalArgumentException(file + " is an .npz archive, but " + what + " must be an .npy array "
          + "(N, D); statistics files (mu, sigma) go to --stats");
    }
    NpyArray a;
    try {
      a = Npy.read(file);
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + ": not a readable .npy file (" + e.getMessage() + ")", e);
    }
    long[] shape = a.shape();
    boolean squeezable = shape.length >= 2;
    for (int i = 1; i < shape.length - 1; i++) {
      squeezable &= shape[i] == 1;
    }
    if (!squeezable) {
      throw new IllegalArgumentException(file + ": " + what + " must be a 2-D array (N, D), got shape "
          + NpyArray.shapeString(shape));
    }
    String descr = a.descr();
    if (descr.length() < 2 || descr.charAt(1) != 'f') {
      throw new IllegalArgumentException(file + ": " + what + " must be floats (float16/32/64), got dtype " + descr);
    }
    long n = shape[0];
    long d = shape[shape.length - 1];
    if (d < 1) {
      throw new IllegalArgumentException(file + ": " + what + " have dimension 0 (shape " + NpyArray.shapeString(shape)
          + ")");
    }
    if (n * d > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(file + ": " + n + " x " + d + " values are more than one Java array holds");
    }
    if (n < minRows) {
      throw new IllegalArgumentException(file + ": " + what + " need at least " + minRows + " rows, got " + n);
    }
    float[] v = a.asFloats();
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new IllegalArgumentException(file + ": " + what + " row " + (i / d) + ", column " + (i % d) + " is "
            + v[i]);
      }
    }
    return new Matrix(file, v, (int) n, (int) d);
  }

  static void sameDim(Matrix a, Matrix b) {
    if (a.d() != b.d()) {
      throw new IllegalArgumentException("feature sizes differ: " + a.file() + " has " + a.d() + "-d features but "
          + b.file() + " has " + b.d() + "-d");
    }
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static String seconds(long nanos) {
    return f("%.2f s", nanos / 1e9);
  }

  @Command(name = "fid", description = {"Fréchet Inception Distance between two feature sets, a feature set and "
      + "statistics, or two statistics files: ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)), in double "
      + "precision with an eigendecomposition-based square root.",
      "Examples: --features A.npy B.npy | --features A.npy --stats S.npz | --stats S1.npz S2.npz"})
  static final class Fid implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--features", arity = "1..2", paramLabel = "FILE.npy",
        description = "feature arrays (N, D), float")
    List<Path> features = new ArrayList<>();

    @Option(names = "--stats", arity = "1..2", paramLabel = "FILE.npz",
        description = "statistics: mu (D,), sigma (D, D), as written by 'genzoo metrics stats' or the reference "
            + "FID code")
    List<Path> stats = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      if (features.size() + stats.size() != 2) {
        throw new CommandLine.ParameterException(spec.commandLine(), "fid compares two Gaussians: give two "
            + "files in all with --features and --stats (got " + features.size() + " feature file(s) and "
            + stats.size() + " statistics file(s))");
      }
      long t0 = System.nanoTime();
      List<FeatureStats> s = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Path p : features) {
        Matrix m = readMatrix(p, "features", 2);
        System.out.println("features " + m.describe());
        s.add(FeatureStats.of(m.values(), m.n(), m.d()));
        names.add(p.toString());
      }
      for (Path p : stats) {
        FeatureStats st = FeatureStats.readNpz(p);
        System.out.println("statistics " + p + ": " + st.dim() + "-d"
            + (st.count() > 0 ? ", from " + st.count() + " samples" : ""));
        s.add(st);
        names.add(p.toString());
      }
      if (s.get(0).dim() != s.get(1).dim()) {
        throw new IllegalArgumentException("feature sizes differ: " + names.get(0) + " is " + s.get(0).dim()
            + "-d but " + names.get(1) + " is " + s.get(1).dim() + "-d");
      }
      long t1 = System.nanoTime();
      Frechet.Terms terms = Frechet.terms(s.get(0), s.get(1));
      long t2 = System.nanoTime();
      System.out.println(f("||mu1 - mu2||^2 %.6f, Tr(S1) %.6f, Tr(S2) %.6f, Tr((S1 S2)^(1/2)) %.6f",
          terms.meanTerm(), terms.trace1(), terms.trace2(), terms.traceSqrt()));
      System.out.println("time: statistics " + seconds(t1 - t0) + ", distance " + seconds(t2 - t1));
      System.out.println(f("fid %.6f", terms.distance()));
      return 0;
    }
  }

  @Command(name = "kid", description = {"Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 with "
      + "the kernel (x.y/d + 1)^3, averaged over random subsets, with its standard error.",
      "Example: --features A.npy B.npy --subsets 100 --subset-size 1000 --seed 0"})
  static final class KidCommand implements Callable<Integer> {
    @Option(names = "--features", arity = "2", required = true, paramLabel = "FILE.npy",
        description = "two feature arrays (N, D), float")
    List<Path> features = new ArrayList<>();

    @Option(names = "--subsets", defaultValue = "" + Kid.DEFAULT_SUBSETS,
        description = "number of subsets (default ${DEFAULT-VALUE})")
    int subsets;

    @Option(names = "--subset-size", defaultValue = "" + Kid.DEFAULT_SUBSET_SIZE,
        description = "vectors per subset, capped at the smaller set (default ${DEFAULT-VALUE})")
    int subsetSize;

    @Option(names = "--seed", defaultValue = "0", description = "subset sampling seed (default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
      Matrix a = readMatrix(features.get(0), "features", 2);
      Matrix b = readMatrix(features.get(1), "features", 2);
      sameDim(a, b);
      System.out.println("features " + a.describe());
      System.out.println("features " + b.describe());
      long t0 = System.nanoTime();
      Kid.Result r = Kid.compute(a.values(), a.n(), b.values(), b.n(), a.d(), subsets, subsetSize, seed);
      long t1 = System.nanoTime();
      System.out.println(f("%d subsets of %d (seed %d), kernel (x.y/%d + 1)^3, %s", subsets, r.subsetSize(), seed,
          a.d(), seconds(t1 - t0)));
      System.out.println(f("kid_std %.6f", r.std()));
      System.out.println(Double.isNaN(r.stderr()) ? "kid_stderr n/a (one subset)" : f("kid_stderr %.6f", r.stderr()));
      System.out.println(f("kid %.6f", r.mean()));
      return 0;
    }
  }

  @Command(name = "is", description = {"Inception Score (Salimans et al. 2016) from logits (softmax applied) or "
      + "class probabilities, split in order into --splits parts as the reference code does.",
      "Example: --logits L.npy --splits 10"})
  static final class Is implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
      @Option(names = "--logits", paramLabel = "FILE.npy", description = "logits (N, classes); softmax is applied")
      Path logits;

      @Option(names = "--probs", paramLabel = "FILE.npy", description = "probabilities (N, classes), rows summing to 1")
      Path probs;
    }

    @Option(names = "--splits", defaultValue = "" + InceptionScore.DEFAULT_SPLITS,
        description = "number of splits (default ${DEFAULT-VALUE})")
    int splits;

    @Override
    public Integer call() throws Exception {
      boolean logits = input.logits != null;
      Path file = logits ? input.logits : input.probs;
      Matrix m = readMatrix(file, logits ? "logits" : "probabilities", 1);
      if (m.n() < splits) {
        throw new IllegalArgumentException(file + ": " + m.n() + " samples cannot be cut into " + splits
            + " splits");
      }
      System.out.println((logits ? "logits " : "probabilities ") + m.describe() + " (" + m.d() + " classes)");
      InceptionScore.Result r;
      try {
        r = logits ? InceptionScore.computeFromLogits(m.values(), m.n(), m.d(), splits)
            : InceptionScore.compute(m.values(), m.n(), m.d(), splits);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
      }
      System.out.println(f("%d splits of about %d samples", splits, m.n() / splits));
      System.out.println(f("is_std %.4f", r.std()));
      System.out.println(f("is %.4f", r.mean()));
      return 0;
    }
  }

  @Command(name = "pr", description = {"Improved precision and recall (Kynkaanniemi et al. 2019) with k-nearest-"
      + "neighbour manifolds: the first file holds the real features, the second the generated ones.",
      "The last two lines are 'precision VALUE' and 'recall VALUE'."})
  static final class Pr implements Callable<Integer> {
    @Option(names = "--features", arity = "2", required = true, paramLabel = "FILE.npy",
        description = "real features, then generated features, (N, D) float")
    List<Path> features = new ArrayList<>();

    @Option(names = "--k", defaultValue = "" + PrecisionRecall.DEFAULT_K,
        description = "neighbourhood size (default ${DEFAULT-VALUE})")
    int k;

    @Override
    public Integer call() throws Exception {
      if (k < 1) {
        throw new IllegalArgumentException("--k must be at least 1, got " + k);
      }
      Matrix real = readMatrix(features.get(0), "features", k + 1);
      Matrix fake = readMatrix(features.get(1), "features", k + 1);
      sameDim(real, fake);
      System.out.println("real features " + real.describe());
      System.out.println("generated features " + fake.describe());
      long t0 = System.nanoTime();
      PrecisionRecall.Result r = PrecisionRecall.compute(real.values(), real.n(), fake.values(), fake.n(), real.d(),
          k);
      long t1 = System.nanoTime();
      System.out.println(f("k = %d, %s", k, seconds(t1 - t0)));
      System.out.println(f("precision %.6f", r.precision()));
      System.out.println(f("recall %.6f", r.recall()));
      return 0;
    }
  }

  @Command(name = "stats", description = {"Writes the mean and covariance of a feature array as an .npz (mu, sigma "
      + "float64, count), the layout of the reference FID code's statistics files.",
      "Example: --features A.npy --out A_stats.npz"})
  static final class Stats implements Callable<Integer> {
    @Option(names = "--features", required = true, paramLabel = "FILE.npy", description = "features (N, D), float")
    Path features;

    @Option(names = "--out", required = true, paramLabel = "FILE.npz", description = "statistics file to write")
    Path out;

    @Override
    public Integer call() throws Exception {
      Matrix m = readMatrix(features, "features", 2);
      System.out.println("features " + m.describe());
      long t0 = System.nanoTime();
      FeatureStats s = FeatureStats.of(m.values(), m.n(), m.d());
      long t1 = System.nanoTime();
      s.writeNpz(out);
      System.out.println(f("wrote %s: mu (%d,), sigma (%d, %d), Tr(sigma) %.6f, %s", out, s.dim(), s.dim(), s.dim(),
          s.trace(), seconds(t1 - t0)));
      System.out.println("stats " + out);
      return 0;
    }
  }
}
