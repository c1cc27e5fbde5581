package dev.genzoo.tools;

import dev.genzoo.graphs.ebm.BimodalExperiment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code genzoo experiment bimodal}: the lecture notes' toy study of EBM training objectives on the two-mode mixture
 * U_theta(x) = -log(exp(-(x-a)^2/2) + exp(-theta) exp(-(x-b)^2/2)), a = -10, b = 10 ({@link BimodalExperiment}).
 */
@Command(name = "experiment", description = {"Reproduces an experiment of the lecture notes and writes its plot and table.",
    "bimodal: maximum likelihood, score matching, persistent CD and NCE on the two-mode mixture (notes 000).",
    "Example: genzoo experiment bimodal --out runs/bimodal"})
final class ExperimentCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", description = "the experiment: bimodal")
  String name;

  @Option(names = "--out", defaultValue = "runs/bimodal", description = "output folder (default ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--steps", defaultValue = "300", description = "SGD steps per method (default ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--seed", defaultValue = "0")
  long seed;

  @Option(names = "--batch", defaultValue = "512", description = "data samples per step (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--theta0", defaultValue = "0", description = "theta(0) for every method (default ${DEFAULT-VALUE})")
  double theta0;

  @Option(names = "--methods", split = ",", description = "which of ml, sm, pcd, nce (default: all)")
  List<String> methods;

  @Option(names = "--no-progress", description = "no progress bar")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (!name.equals("bimodal")) {
      throw new IllegalArgumentException("unknown experiment '" + name + "'; known: bimodal");
    }
    BimodalExperiment.Options o = BimodalExperiment.Options.defaults(out).withSteps(steps).withSeed(seed)
        .withBatchSize(batch).withTheta0(theta0).withProgress(!noProgress);
    if (methods != null && !methods.isEmpty()) {
      List<BimodalExperiment.Method> ms = new ArrayList<>();
      for (String m : methods) {
        ms.add(BimodalExperiment.Method.parse(m.trim()));
      }
      o = o.withMethods(ms);
    }
    BimodalExperiment.Result r = BimodalExperiment.run(o);
    System.out.print(r.markdown());
    System.out.printf(Locale.ROOT, "theta* = %.4f; NCE fixed point %.4f (the notes' formula gives %.4f)%n",
        r.thetaStar(), r.nceFixedPoint(), r.nceFixedPointAsInNotes());
    System.out.println("wrote " + r.plot() + ", " + r.table() + ", " + r.trace());
    boolean all = true;
    for (BimodalExperiment.MethodResult m : r.methods()) {
      all &= m.agrees();
    }
    return all ? 0 : 3;
  }
}
