package dev.genzoo.examples;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.Bundles;
import dev.genzoo.data.BatchSource;
import dev.genzoo.data.ImageBatches;
import dev.genzoo.data.LoadedData;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.train.TrainingConfig;
import dev.genzoo.graphs.train.Trainer;
import dev.genzoo.zoo.Datasets;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Fine-tune a pretrained model on your own folder of images: the model starts from the bundle's weights, trains with
 * a fresh optimiser on the folder (resized to the model's size), and is saved as a new bundle that names its parent.
 * Prints the bits/dim on the folder before and after.
 *
 * <pre>
 * java -cp ... dev.genzoo.examples.FineTuneOnFolder my-digits/ runs/my-digits 200
 * </pre>
 * With no folder of your own, {@link DemoDigits} writes one: {@code DemoDigits my-digits 256}.
 */
public final class FineTuneOnFolder {
  private FineTuneOnFolder() {}

  /** Bits/dim on the folder before and after, and the new bundle. */
  public record Outcome(double bpdBefore, double bpdAfter, Path bundle) {}

  public static void main(String[] args) throws Exception {
    Path folder = Path.of(args.length > 0 ? args[0] : "my-digits");
    Path out = Path.of(args.length > 1 ? args[1] : "runs/my-digits");
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    Outcome o = run("flow-mnist", folder, out, steps);
    System.out.printf("bits/dim on %s: %.4f before, %.4f after fine-tuning; bundle %s%n", folder, o.bpdBefore(),
        o.bpdAfter(), o.bundle());
  }

  public static Outcome run(String parentName, Path folder, Path out, int steps) throws Exception {
    try (Bundle parent = Zoo.open(parentName)) {
      ModelFamily family = Families.get(parent.manifest().family());
      // The parent's config with a short schedule. Keep a warm-up: Adamax's first updates move every weight by about
      // the learning rate, and a trained flow hit that way at 1e-3 diverges within two steps. Average the weights
      // over the last ~10 steps (the parent's 0.999 would keep mostly the parent's weights).
      var config = family.validate(Configs.override(parent.manifest().config(), List.of(
          "training.steps=" + steps, "training.batchSize=32", "training.warmupSteps=" + Math.max(1, steps / 4),
          "training.optimizer.learningRate=5e-4", "training.finalLearningRate=1e-5", "training.emaDecay=0.9")));
      TrainingConfig training = Configs.fromJson(config.path("training"), TrainingConfig.class);

      // The folder, read at the model's size (grayscale 28 x 28 for flow-mnist), centre-cropped.
      LoadedData.Images images = (LoadedData.Images) Datasets.open("folder:" + folder,
          Datasets.optionsFor(family.dataShape(config), "train").withFit(dev.genzoo.data.ImageFolder.Fit.RESIZE));
      BatchSource batches = images.batches(0, training.dequantize(), training.randomFlip());

      try (GenerativeModel model = family.create(config, ModelOptions.training(0))) {
        model.restoreWeights(parent.checkpointPrefix());
        double before = model.bitsPerDim(ImageBatches.evalBatches(images.dataset(), 100, 0, true));

        Trainer.Options options = Trainer.Options.defaults(out).withInitWeights(parent.checkpointPrefix())
            .withCheckpointEvery(steps).withSampleEvery(0);
        new Trainer(model, batches, training, options).run();

        // Evaluate and save the averaged (EMA) weights, the ones a bundle ships.
        model.session().runner().addTarget(model.trainGraph().ema().swapIn()).run().close();
        double after = model.bitsPerDim(ImageBatches.evalBatches(images.dataset(), 100, 0, true));

        var provenance = new BundleManifest.Provenance("FineTuneOnFolder " + folder, "folder:" + folder, 0L,
            new BundleManifest.Parent(parent.manifest().name(), parent.manifestSha256()), Instant.now(),
            dev.genzoo.graphs.Version.current(), Map.of());
        var metrics = Map.of("folder_bpd", new BundleManifest.Metric(after, "bits/dim",
            "the fine-tuning folder itself, uniform dequantisation"));
        Path bundle = out.resolve("bundle");
        Bundles.write(bundle, BundleManifest.of(out.getFileName() + "", family.name(), config, steps, provenance,
            metrics), true, tmp -> model.saveWeights(tmp.resolve("variables")));
        return new Outcome(before, after, bundle);
      }
    }
  }
}
