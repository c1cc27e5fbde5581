package dev.genzoo.tools;

import dev.genzoo.data.LoadedData;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.Progress;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.viz.Plots;
import dev.genzoo.viz.ScatterOptions;
import dev.genzoo.zoo.Datasets;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sample", description = "Draw samples: images as a grid PNG, 2-D points as a scatter plot.")
final class SampleCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", description = "registry name or bundle path")
  String name;

  @Option(names = "--n", defaultValue = "64", description = "number of samples (default ${DEFAULT-VALUE})")
  int n;

  @Option(names = "--out", description = "the PNG to write (grid or scatter plot)")
  Path out;

  @Option(names = "--npy", description = "also write the samples as .npy (images NHWC in [0, 1])")
  Path npy;

  @Option(names = "--seed", defaultValue = "0")
  long seed;

  @Option(names = "--temperature", defaultValue = "1.0", description = "prior temperature (default ${DEFAULT-VALUE})")
  double temperature;

  @Option(names = "--sampler", description = {"the family's sampler (default: the model's)",
      "ddpm: ancestral, ancestral:fixedlarge, ancestral:fixedsmall, ddim, ddim:ETA; ncsn: annealed-langevin"})
  String sampler;

  @Option(names = "--steps", defaultValue = "0", description = "sampler steps: DDIM's S, NCSN's T per noise level")
  int steps;

  @Option(names = "--guidance", description = "class-conditional models: classifier-free guidance weight w")
  Double guidance;

  @Option(names = "--label", defaultValue = "-1", description = "class-conditional models: the class to draw "
      + "(default: cycle through the classes)")
  int label;

  @Option(names = "--data", description = "2-D models: draw this data (a SPEC) under the samples")
  String data;

  @Mixin
  RuntimeMixin runtime;

  @Override
  public Integer call() throws Exception {
    if (out == null && npy == null) {
      throw new IllegalArgumentException("give --out grid.png and/or --npy samples.npy");
    }
    try (GenerativeModel model = Zoo.load(name, ModelOptions.inference().withRuntime(runtime.options()))) {
      Samples s;
      try (Progress p = Progress.start("sample", 0, 1, "runs", n >= 1000)) {
        s = model.sample(n, new SampleOptions(seed, temperature, sampler, steps, 0,
            guidance == null ? Double.NaN : guidance, label));
        p.stepTo(1);
      }
      if (out != null) {
        if (!s.isImages() && data != null && s.shape()[1] == 2) {
          LoadedData d = Datasets.open(data, Datasets.optionsFor(model.dataShape(), "train"));
          float[] real = dataPoints(d, n);
          Plots.scatter(real, s.data(), out, ScatterOptions.defaults().withTitle(name + ": data and samples"));
        } else {
          dev.genzoo.graphs.train.Trainer.writeSamples(s, out, name + " samples (T = " + temperature + ")");
        }
        System.out.println("wrote " + out);
      }
      if (npy != null) {
        Npy.write(npy, NpyArray.ofFloats(s.data(), s.shape()));
        System.out.println("wrote " + npy);
      }
    }
    return 0;
  }

  private static float[] dataPoints(LoadedData d, int n) {
    if (d instanceof LoadedData.Toy t) {
      return t.distribution().sample(new SplittableRandom(1), n);
    }
    if (d instanceof LoadedData.Points p) {
      return java.util.Arrays.copyOf(p.values(), Math.min(n, p.size()) * p.dim());
    }
    throw new IllegalArgumentException("--data must be 2-D points (toy: or npy:) to overlay on a scatter plot");
  }
}
