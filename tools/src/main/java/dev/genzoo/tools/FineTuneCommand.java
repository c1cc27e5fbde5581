package dev.genzoo.tools;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.graphs.Families;
import dev.genzoo.zoo.Zoo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "fine-tune", description = {"Continue training a model's weights on new data, with a fresh optimiser.",
    "The new bundle records the parent model (name and model.json sha256) in its provenance.",
    "Example: genzoo fine-tune flow-mnist --data folder:my-digits --steps 500 --out runs/my-digits"})
final class FineTuneCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", description = "registry name or bundle path")
  String name;

  @Mixin
  TrainRun run;

  @Mixin
  RuntimeMixin runtime;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (Bundle parent = Zoo.open(name)) {
      var family = Families.get(parent.manifest().family());
      return run.run(family, parent.manifest().config(), parent,
          spec.commandLine().getParseResult().originalArgs().toArray(String[]::new), runtime);
    }
  }
}
