package dev.genzoo.tools;

import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.data.Batch;
import dev.genzoo.data.LoadedData;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.LatentVariableModel;
import dev.genzoo.graphs.Progress;
import dev.genzoo.zoo.Datasets;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Likelihood evaluation shared by {@code eval}, {@code train --eval-data} and {@code fine-tune --eval-data}. */
final class Evaluation {
  private Evaluation() {}

  /**
   * Images: mean bits/dim over the split with uniform dequantisation. Points: mean negative log-likelihood in nats and,
   * for toy distributions with an analytic density, KL(data || model) = E_p[log p - log q] by Monte Carlo.
   */
  static Map<String, BundleManifest.Metric> run(GenerativeModel model, String spec, String split, int limit,
      long seed, boolean progress, FolderOptions folder) throws IOException {
    return run(model, spec, split, limit, seed, progress, folder, 0);
  }

  /**
   * As above; a {@link LatentVariableModel} reports its ELBO and, beside it, its importance-weighted bound with
   * {@code importanceSamples} draws (0: the model's default k).
   */
  static Map<String, BundleManifest.Metric> run(GenerativeModel model, String spec, String split, int limit,
      long seed, boolean progress, FolderOptions folder, int importanceSamples) throws IOException {
    LoadedData data = Datasets.open(spec, folder.apply(Datasets.optionsFor(model.dataShape(), split)));
    if (!model.hasLikelihood()) {
      if (data instanceof LoadedData.Toy t && t.distribution() instanceof dev.genzoo.data.MixtureToy mixture) {
        return modeCoverage(model, mixture, limit > 0 ? limit : 10_000, seed);
      }
      throw new IllegalArgumentException(model.family() + " models have no likelihood to evaluate; on a Gaussian-"
          + "mixture toy (toy:8gaussians) eval measures mode coverage from samples instead");
    }
    boolean images = model.dataShape().length == 3;
    int batch = images ? 100 : 2000;
    Iterable<Batch> batches = Datasets.evalBatches(data, batch, limit, seed, images);
    long dims = 1;
    for (long d : model.dataShape()) {
      dims *= d;
    }
    double sumNll = 0;
    double sumIwNll = 0;
    LatentVariableModel latent = model instanceof LatentVariableModel l ? l : null;
    int k = latent == null ? 0 : importanceSamples > 0 ? importanceSamples : latent.defaultImportanceSamples();
    double sumLogP = 0;
    long n = 0;
    int total = (Datasets.evalCount(data, limit) + batch - 1) / batch;
    LoadedData.Toy toy = data instanceof LoadedData.Toy t && t.distribution().hasDensity() ? t : null;
    try (Progress p = Progress.start("eval", 0, total, "batches", progress)) {
      int done = 0;
      for (Batch b : batches) {
        double[] lp;
        if (latent != null) {
          LatentVariableModel.Bounds bounds = latent.bounds(b, k, dev.genzoo.data.Seeds.mix(seed, done));
          lp = bounds.elbo();
          for (double v : bounds.importanceWeighted()) {
            sumIwNll -= v;
          }
        } else {
          lp = model.logProb(b);
        }
        for (int i = 0; i < lp.length; i++) {
          sumNll -= lp[i];
          if (toy != null) {
            double[] point = new double[(int) dims];
            for (int d = 0; d < dims; d++) {
              point[d] = b.x()[(int) (i * dims + d)];
            }
            sumLogP += toy.distribution().logDensity(point);
          }
        }
        n += lp.length;
        p.stepTo(++done);
      }
    }
    Map<String, BundleManifest.Metric> out = new LinkedHashMap<>();
    boolean exact = model.likelihoodKind().equals("exact");
    String kind = exact ? "" : "; " + model.likelihoodKind() + ", so an upper bound on the exact value";
    // Image datasets describe their size themselves; toy samples and point sets are counted here.
    String what = images ? data.describe() + (limit > 0 ? ", the first " + n + " images" : "")
        : data.describe() + ", " + n + " points";
    if (images) {
      String scheme = dev.genzoo.data.DataSpec.parse(spec).scheme();
      boolean hasSplits = scheme.equals("mnist") || scheme.equals("cifar10");
      out.put(hasSplits ? split + "_bpd" : "bpd", new BundleManifest.Metric(sumNll / n / (dims * Math.log(2)),
          "bits/dim", what + (hasSplits ? ", " + split + " split" : "") + (exact ? ", uniform dequantisation "
          + "(noise seed " + seed + "), 8-bit accounting" : ", -log2 P of the discrete 8-bit image per dimension")
          + kind));
      if (latent != null) {
        String key = hasSplits ? split + "_bpd" : "bpd";
        String iwKind = "importance-weighted bound (Burda et al. 2016) with k = " + k + " posterior draws per image, so"
            + " an upper bound on the exact value";
        out.put(key + "_iw" + k, new BundleManifest.Metric(sumIwNll / n / (dims * Math.log(2)), "bits/dim", what
            + (hasSplits ? ", " + split + " split" : "") + ", -log2 P per dimension; " + iwKind));
        out.put(key.replace("bpd", "nats"), new BundleManifest.Metric(sumNll / n, "nats", "the ELBO above in nats "
            + "per image"));
        out.put(key.replace("bpd", "nats") + "_iw" + k, new BundleManifest.Metric(sumIwNll / n, "nats",
            "the importance-weighted bound above in nats per image"));
      }
    } else {
      out.put("nll", new BundleManifest.Metric(sumNll / n, "nats", what + " (seed " + seed + ")" + kind));
      if (latent != null) {
        out.put("nll_iw" + k, new BundleManifest.Metric(sumIwNll / n, "nats", what + " (seed " + seed + "); "
            + "importance-weighted bound (Burda et al. 2016) with k = " + k + " posterior draws, so an upper bound on"
            + " the exact value"));
      }
      if (toy != null) {
        // sumNll = -sum log q, so E_p[log p] - E_p[log q] = (sumLogP + sumNll) / n.
        out.put("kl_data_model", new BundleManifest.Metric((sumLogP + sumNll) / n, "nats",
            "KL(data || model) = E_p[log p - log q], Monte Carlo over " + what
            + " (seed " + seed + "), analytic log p" + kind));
        out.put("data_entropy", new BundleManifest.Metric(-sumLogP / n, "nats", "H(p) of the data, Monte Carlo"));
      }
    }
    return out;
  }

  /** Sample-based metrics for a model without a likelihood on a Gaussian-mixture toy ({@link ModeCoverage}). */
  static Map<String, BundleManifest.Metric> modeCoverage(GenerativeModel model, dev.genzoo.data.MixtureToy toy,
      int n, long seed) {
    dev.genzoo.graphs.Samples s = model.sample(n, dev.genzoo.graphs.SampleOptions.seed(seed));
    int minPerMode = Math.max(1, n / 500);
    dev.genzoo.data.ModeCoverage c = dev.genzoo.data.ModeCoverage.of(toy, s.data(), minPerMode);
    String protocol = n + " samples (seed " + seed + ", default sampler), nearest of the " + c.shares().length
        + " modes of toy:" + toy.name();
    Map<String, BundleManifest.Metric> out = new LinkedHashMap<>();
    out.put("modes_covered", new BundleManifest.Metric(c.modesCovered(), "modes", protocol + "; a mode is covered "
        + "with at least " + minPerMode + " samples within 3 sd of it"));
    out.put("high_quality", new BundleManifest.Metric(c.highQuality(), "fraction", protocol
        + "; samples within 3 sd of their nearest mode"));
    out.put("min_mode_share", new BundleManifest.Metric(c.minShare(), "fraction", protocol + "; expected "
        + String.format(java.util.Locale.ROOT, "%.3f", 1.0 / c.shares().length)));
    out.put("max_mode_share", new BundleManifest.Metric(c.maxShare(), "fraction", protocol));
    return out;
  }
}
