package dev.genzoo.tools;

import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.ModelFamily;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "train", description = {"Train a model from a preset.",
    "Example: genzoo train flow --preset realnvp-toy2d --data toy:8gaussians --steps 3000 --out runs/eight"})
final class TrainCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FAMILY")
  String family;

  @Option(names = "--preset", description = "the family preset (default: the family's first, its CIFAR-10 preset)")
  String preset;

  @Mixin
  TrainRun run;

  @Mixin
  RuntimeMixin runtime;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    ModelFamily f = Families.get(family);
    String p = preset != null ? preset : f.presets().get(0);
    return run.run(f, f.preset(p), null, spec.commandLine().getParseResult().originalArgs().toArray(String[]::new),
        runtime);
  }
}
