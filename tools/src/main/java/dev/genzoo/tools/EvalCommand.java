package dev.genzoo.tools;

import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.data.Batch;
import dev.genzoo.viz.Plots;
import dev.genzoo.viz.Range;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "eval", description = {"Bits/dim (or the family's bound) on a dataset; for 2-D models the negative "
    + "log-likelihood, KL(data || model) when the data's density is known, and optionally the density as a heat map.",
    "The last line is 'METRIC VALUE'."})
final class EvalCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Option(names = "--data", required = true, paramLabel = "SPEC")
  String data;

  @Option(names = "--split", defaultValue = "test", description = "train or test (default ${DEFAULT-VALUE})")
  String split;

  @Option(names = "--limit", defaultValue = "0", description = "evaluate on the first N examples (0: all)")
  int limit;

  @Option(names = "--metric", defaultValue = "bpd", description = "bpd (images) / nll (points)")
  String metric;

  @Option(names = "--seed", defaultValue = "0", description = "dequantisation noise / toy sample seed")
  long seed;

  @Option(names = "--importance-samples", defaultValue = "0", paramLabel = "K",
      description = "latent-variable models (nvae): k of the importance-weighted bound reported beside the ELBO "
          + "(0: the model's default)")
  int importanceSamples;

  @Option(names = "--heatmap", description = "2-D models: draw the log-density over --range as a PNG")
  Path heatmap;

  @Option(names = "--range", defaultValue = "4", description = "heat map: the square [-R, R]^2 (default ${DEFAULT-VALUE})")
  double range;

  @Mixin
  RuntimeMixin runtime;

  @Mixin
  FolderOptions folder;

  @Override
  public Integer call() throws Exception {
    try (GenerativeModel model = Zoo.load(name, ModelOptions.inference().withRuntime(runtime.options()))) {
      if (heatmap != null) {
        drawDensity(model);
      }
      Map<String, BundleManifest.Metric> m = Evaluation.run(model, data, split, limit, seed, true, folder,
          importanceSamples);
      String last = null;
      for (Map.Entry<String, BundleManifest.Metric> e : m.entrySet()) {
        System.out.printf("%-14s %.4f %s  (%s)%n", e.getKey(), e.getValue().value(), e.getValue().unit(),
            e.getValue().protocol());
        if (last == null) {
          last = String.format("%s %.6f", metric.equals("bpd") || metric.equals("nll") ? shortName(e.getKey())
              : e.getKey(), e.getValue().value());
        }
      }
      System.out.println(last);
    }
    return 0;
  }

  private static double[] negate(double[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = -v[i];
    }
    return out;
  }

  private static String shortName(String key) {
    return key.endsWith("_bpd") ? "bpd" : key;
  }

  private void drawDensity(GenerativeModel model) throws Exception {
    boolean energyOnly = !model.hasLikelihood() && model.hasEnergy();
    if (model.dataShape().length != 1 || model.dataShape()[0] != 2 || !(model.hasLikelihood() || energyOnly)) {
      throw new IllegalArgumentException("--heatmap draws 2-D densities or energies; " + name + " is not a 2-D "
          + "model with a density or an energy");
    }
    int cells = 300;
    int rowsPerRun = 50;
    double step = 2 * range / cells;
    double[] values = new double[cells * cells];
    double max = Double.NEGATIVE_INFINITY;
    for (int i0 = 0; i0 < cells; i0 += rowsPerRun) {
      float[] block = new float[rowsPerRun * cells * 2];
      for (int i = 0; i < rowsPerRun; i++) {
        for (int j = 0; j < cells; j++) {
          block[2 * (i * cells + j)] = (float) (-range + (j + 0.5) * step);
          block[2 * (i * cells + j) + 1] = (float) (-range + (i0 + i + 0.5) * step);
        }
      }
      Batch b = new Batch(block, new long[] {rowsPerRun * cells, 2}, null);
      double[] lp = energyOnly ? negate(model.energy(b)) : model.logProb(b);
      System.arraycopy(lp, 0, values, i0 * cells, lp.length);
      for (double v : lp) {
        max = Math.max(max, v);
      }
    }
    // An energy-based model's -U(x) is log p(x) + log Z: shown shifted so that its maximum on the grid is 0.
    if (energyOnly) {
      for (int i = 0; i < values.length; i++) {
        values[i] -= max;
      }
      max = 0;
    }
    Plots.heatmap(values, cells, cells, new Range(-range, range), new Range(-range, range), heatmap,
        name + (energyOnly ? ": -energy (log-density up to log Z)" : ": log-density"),
        energyOnly ? "-U(x) - max (nats)" : "log p (nats)", new Range(max - 12, max));
    System.out.println("wrote " + heatmap);
  }
}
