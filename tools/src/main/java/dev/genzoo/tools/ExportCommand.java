package dev.genzoo.tools;

import dev.genzoo.graphs.Exportable.ExportedSignature;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", description = {"Export a model as a TensorFlow SavedModel (tag serve) with a sample "
    + "signature and, where the family has one in a single graph, log_prob (or energy).",
    "sample: inputs seed (int64 scalar, as genzoo sample --seed) and n (int32 scalar; absent with --batch), output x "
        + "(float32: images NHWC in [0, 1], or points); the same samples as genzoo sample for n up to the model's "
        + "sampling batch. Iterative samplers (ddpm, ncsn, ebm, rbm) run all their steps inside the graph.",
    "log_prob: input x (8-bit images or points), output log_prob (float32 [N], nats per example)."})
final class ExportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", description = "registry name or bundle path")
  String name;

  @Option(names = "--saved-model", paramLabel = "DIR", required = true, description = "the SavedModel folder to write")
  Path dir;

  @Option(names = "--batch", defaultValue = "0", paramLabel = "N", description = "fix sample's batch to N (no n input)")
  int batch;

  @Option(names = "--force", description = "replace DIR when it exists and is not empty")
  boolean force;

  @Option(names = "--temperature", defaultValue = "1.0", description = "sampling temperature (default "
      + "${DEFAULT-VALUE})")
  double temperature;

  @Option(names = "--sampler", description = "the family's sampler (default: the model's), as for genzoo sample")
  String sampler;

  @Option(names = "--steps", defaultValue = "0", description = "sampler steps, as for genzoo sample (0: the model's)")
  int steps;

  @Option(names = "--guidance", description = "class-conditional models: classifier-free guidance weight w")
  Double guidance;

  @Option(names = "--label", defaultValue = "-1", description = "class-conditional models: the class to draw "
      + "(default: cycle through the classes)")
  int label;

  @Option(names = "--seed", defaultValue = "0", description = "NVAE: the seed of the BatchNorm readjustment done at "
      + "export (default ${DEFAULT-VALUE})")
  long seed;

  @Mixin
  RuntimeMixin runtime;

  @Override
  public Integer call() throws Exception {
    if (batch < 0) {
      throw new IllegalArgumentException("--batch must be positive, got " + batch);
    }
    SavedModels.checkTarget(dir, force);
    SampleOptions sampling = new SampleOptions(seed, temperature, sampler, steps, 0,
        guidance == null ? Double.NaN : guidance, label);
    try (GenerativeModel model = Zoo.load(name, ModelOptions.inference().withRuntime(runtime.options()))) {
      List<ExportedSignature> signatures = SavedModels.export(model, dir, batch, sampling, force);
      System.out.println("wrote " + dir + " (SavedModel, tag " + SavedModels.TAG + ", " + model.family() + ")");
      System.out.print(SavedModels.describe(signatures));
    }
    return 0;
  }
}
