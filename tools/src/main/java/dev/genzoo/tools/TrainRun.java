package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.Bundles;
import dev.genzoo.data.BatchSource;
import dev.genzoo.data.LoadedData;
import dev.genzoo.graphs.Cluster;
import dev.genzoo.graphs.ClusterServer;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.train.TrainingConfig;
import dev.genzoo.graphs.train.Trainer;
import dev.genzoo.zoo.Datasets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What {@code train} and {@code fine-tune} share: run the {@link Trainer}, then write the final model (EMA weights) as
 * a bundle in {@code OUT/bundle} and {@code OUT/NAME.tar.gz}, with the command line, data, seed, parent and metrics
 * in its model.json.
 */
final class TrainRun {
  @Option(names = "--data", required = true, paramLabel = "SPEC", description = "training data")
  String data;

  @Option(names = "--steps", description = "total optimiser steps (default: the preset's)")
  Long steps;

  @Option(names = "--out", required = true, description = "output folder (checkpoints, logs, samples, bundle)")
  Path out;

  @Option(names = "--resume", description = "continue the run in --out from its newest checkpoint")
  boolean resume;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "config overrides, e.g. training.batchSize=32")
  List<String> overrides = new java.util.ArrayList<>();

  @Option(names = "--seed", defaultValue = "0", description = "data order, noise and initialisation seed")
  long seed;

  @Option(names = "--name", description = "the bundle's name (default: the --out folder's name)")
  String name;

  @Option(names = "--checkpoint-every", defaultValue = "1000")
  int checkpointEvery;

  @Option(names = "--sample-every", defaultValue = "1000", description = "steps between sample grids (0: at the end)")
  int sampleEvery;

  @Option(names = "--until-step", defaultValue = "0", description = "stop after this step (continue later with --resume)")
  long untilStep;

  @Option(names = "--eval-data", paramLabel = "SPEC", description = "evaluate the final model on this data and record "
      + "the result in the bundle")
  String evalData;

  @Option(names = "--eval-split", defaultValue = "test")
  String evalSplit;

  @Option(names = "--eval-limit", defaultValue = "0")
  int evalLimit;

  @Option(names = "--no-progress", description = "plain log lines instead of a progress bar")
  boolean noProgress;

  @Option(names = "--cluster", paramLabel = "ps=HOST:PORT,...;worker=HOST:PORT,...", description = "train on "
      + "TensorFlow's gRPC runtime: run the same command on every task with its --job and --task; variables live on "
      + "the ps tasks, worker 0 (the chief) runs the loop and writes checkpoints, samples and the bundle")
  String cluster;

  @Option(names = "--job", defaultValue = "worker", description = "this task's job in --cluster: ps or worker")
  String job;

  @Option(names = "--task", defaultValue = "0", description = "this task's index in its job")
  int task;

  @Option(names = "--op-timeout", defaultValue = "600", paramLabel = "SECONDS", description = "in a cluster, how "
      + "long one step may wait for a task before the chief reconnects")
  long opTimeoutSeconds;

  @Mixin
  FolderOptions folder;

  /**
   * Trains and bundles.
   *
   * @param config the family config before --set and --steps
   * @param parent the bundle fine-tuning starts from, or null
   */
  int run(ModelFamily family, JsonNode config, Bundle parent, String[] argv, RuntimeMixin runtime) throws Exception {
    RuntimeOptions rt = runtime.options();
    ClusterServer server = null;
    if (cluster != null) {
      Cluster c = Cluster.parse(cluster, job, task);
      server = ClusterServer.start(c);
      if (!c.isChief()) {
        System.err.println(job + " task " + task + " serving at " + c.address() + "; waiting for the chief (worker 0 "
            + "at " + c.jobs().get("worker").get(0) + ") to finish");
        server.awaitRelease();
        System.err.println(job + " task " + task + ": the chief finished; exiting");
        return 0;
      }
      rt = rt.withCluster(c, opTimeoutSeconds * 1000);
      System.err.println("chief of " + c.spec() + ": variables on " + c.psTasks() + " ps task(s), "
          + rt.towerDevices().size() + " tower(s) on " + c.workers() + " worker(s)");
    }
    int status = train(family, config, parent, argv, rt);
    if (server != null && finished) {
      // Only a finished run releases the other tasks: after a failure or --until-step the parameter servers keep
      // serving, and the chief continues with --resume.
      server.releaseOthers(10_000, System.err::println);
    }
    return status;
  }

  private boolean finished;

  private int train(ModelFamily family, JsonNode config, Bundle parent, String[] argv, RuntimeOptions rt)
      throws Exception {
    Path configFile = out.resolve("config.json");
    if (resume && Files.exists(configFile) && Trainer.latestCheckpoint(out) != null) {
      JsonNode saved = Configs.JSON.readTree(configFile.toFile()).path("config");
      if (!overrides.isEmpty()) {
        throw new IllegalArgumentException("--set cannot change the config of a run being resumed (" + configFile
            + "); only --steps can extend it");
      }
      config = saved;
    } else {
      config = Configs.override(config, overrides);
    }
    if (steps != null) {
      config = Configs.override(config, List.of("training.steps=" + steps));
    }
    config = family.validate(config);
    TrainingConfig training = Configs.fromJson(config.path("training"), TrainingConfig.class);
    LoadedData loaded = Datasets.open(data, folder.apply(Datasets.optionsFor(family.dataShape(config), "train")));
    BatchSource source = loaded.batches(seed, training.dequantize(), training.randomFlip());
    Trainer.Options opt = new Trainer.Options(out, seed, checkpointEvery, sampleEvery, 64, 10, 3, resume,
        !noProgress, parent == null ? null : parent.checkpointPrefix(), untilStep);
    String bundleName = name != null ? name : out.toAbsolutePath().normalize().getFileName().toString();
    try (GenerativeModel model = family.create(config, new ModelOptions(true, seed, rt,
        org.tensorflow.types.TFloat32.class))) {
      System.err.printf("%s: %s parameters, data %s%n", family.name(), Format.count(model.parameterCount()),
          source.describe());
      Trainer.Result r = new Trainer(model, source, training, opt).run();
      System.err.printf("trained to step %d, last loss %.4f, %.2f steps/s%n", r.step(), r.lastLoss(),
          r.stepsPerSecond());
      if (r.step() < training.steps()) {
        System.err.println("stopped at step " + r.step() + " of " + training.steps() + "; continue with --resume");
        return 0;
      }
      finished = true;
      // Evaluate the weights the bundle ships: the EMA averages (saveWeights writes them under the weights' names).
      var ema = model.trainGraph().ema();
      if (ema != null) {
        model.session().runner().addTarget(ema.swapIn()).run().close();
      }
      Map<String, BundleManifest.Metric> metrics = new LinkedHashMap<>();
      if (evalData != null) {
        metrics.putAll(Evaluation.run(model, evalData, evalSplit, evalLimit, 0, !noProgress, folder));
        metrics.forEach((k, v) -> System.err.printf("%s = %.4f %s (%s)%n", k, v.value(), v.unit(), v.protocol()));
      }
      BundleManifest.Provenance provenance = new BundleManifest.Provenance(
          "genzoo " + String.join(" ", argv), data, seed,
          parent == null ? null : new BundleManifest.Parent(parent.manifest().name(), parent.manifestSha256()),
          Instant.now(), Main.version(), Map.of("loss", String.valueOf(r.lastLoss())));
      BundleManifest manifest = BundleManifest.of(bundleName, family.name(), config, r.step(), provenance, metrics);
      Path bundleDir = out.resolve("bundle");
      Bundles.write(bundleDir, manifest, true, tmp -> model.saveWeights(tmp.resolve("variables")));
      Path archive = out.resolve(bundleName + ".tar.gz");
      Bundles.pack(bundleDir, archive);
      System.out.println("wrote " + bundleDir + " and " + archive + " (" + Format.bytes(Files.size(archive)) + ")");
    }
    return 0;
  }
}
