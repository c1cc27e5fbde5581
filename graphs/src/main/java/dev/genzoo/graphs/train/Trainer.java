package dev.genzoo.graphs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.data.Batch;
import dev.genzoo.data.BatchSource;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.Progress;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.io.AtomicFiles;
import dev.genzoo.viz.ImageGrid;
import dev.genzoo.viz.Plots;
import dev.genzoo.viz.ScatterOptions;
import dev.genzoo.viz.Series;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The training loop every family shares. Each step is one {@code Session.run} of the family's {@link TrainGraph}
 * (gradients, update, moving statistics, EMA, step counter) fed with the batch of that step, so a run is a pure
 * function of (config, data, seed): {@code --resume} continues at the exact step, with the optimiser state, the EMA
 * and the data order of an uninterrupted run.
 *
 * <p>What it writes in the output folder:
 * <pre>
 * config.json                      the model config and the run options
 * checkpoints/step-00001000/       full training state (weights, optimiser slots, EMA, step) + trainer.json,
 *                                  each written to a temporary folder and renamed into place
 * checkpoints/latest               the name of the newest complete checkpoint (replaced atomically)
 * loss.csv, loss.png               the loss log and its curve
 * samples/step-00001000.png        sample grids (scatter plots for 2-D models), drawn with the EMA weights
 * </pre>
 * A non-finite loss stops training with {@link TrainingDivergedException}; nothing is written for the bad step, so
 * the last checkpoint stays the last good one.
 */
public final class Trainer {
  /**
   * How to run.
   *
   * @param outDir the output folder
   * @param seed the data and noise seed (initialisation uses the model's own seed)
   * @param checkpointEvery steps between checkpoints (the last step always gets one)
   * @param sampleEvery steps between sample grids (0: only at the end; -1: never)
   * @param sampleCount samples per grid
   * @param logEvery steps between loss-log rows
   * @param keepCheckpoints newest checkpoints kept (older ones are deleted)
   * @param resume continue from the newest checkpoint in {@code outDir} if there is one
   * @param progress show a progress bar
   * @param initWeights start from these weights (a bundle's checkpoint prefix) instead of a fresh initialisation
   * @param untilStep stop after this step with a checkpoint, as if interrupted, to be continued with {@code resume}
   *     (0: run to {@code training.steps}); the learning-rate schedule still spans {@code training.steps}
   */
  public record Options(Path outDir, long seed, int checkpointEvery, int sampleEvery, int sampleCount, int logEvery,
      int keepCheckpoints, boolean resume, boolean progress, Path initWeights, long untilStep) {
    public static Options defaults(Path outDir) {
      return new Options(outDir, 0, 1000, 1000, 64, 10, 3, false, true, null, 0);
    }

    public Options withUntilStep(long step) {
      return new Options(outDir, seed, checkpointEvery, sampleEvery, sampleCount, logEvery, keepCheckpoints, resume,
          progress, initWeights, step);
    }

    public Options withSeed(long s) {
      return new Options(outDir, s, checkpointEvery, sampleEvery, sampleCount, logEvery, keepCheckpoints, resume,
          progress, initWeights, untilStep);
    }

    public Options withResume(boolean r) {
      return new Options(outDir, seed, checkpointEvery, sampleEvery, sampleCount, logEvery, keepCheckpoints, r,
          progress, initWeights, untilStep);
    }

    public Options withProgress(boolean p) {
      return new Options(outDir, seed, checkpointEvery, sampleEvery, sampleCount, logEvery, keepCheckpoints, resume,
          p, initWeights, untilStep);
    }

    public Options withCheckpointEvery(int every) {
      return new Options(outDir, seed, every, sampleEvery, sampleCount, logEvery, keepCheckpoints, resume, progress,
          initWeights, untilStep);
    }

    public Options withSampleEvery(int every) {
      return new Options(outDir, seed, checkpointEvery, every, sampleCount, logEvery, keepCheckpoints, resume,
          progress, initWeights, untilStep);
    }

    public Options withInitWeights(Path prefix) {
      return new Options(outDir, seed, checkpointEvery, sampleEvery, sampleCount, logEvery, keepCheckpoints, resume,
          progress, prefix, untilStep);
    }
  }

  /** What a run did. */
  public record Result(long step, double lastLoss, Path checkpoint, double seconds, double stepsPerSecond,
      long startStep) {}

  private static final String LATEST = "latest";

  private final GenerativeModel model;
  private final BatchSource data;
  private final TrainingConfig cfg;
  private final Options opt;
  private final TrainGraph g;
  private final Consumer<String> log;

  public Trainer(GenerativeModel model, BatchSource data, TrainingConfig cfg, Options opt) {
    this(model, data, cfg, opt, System.err::println);
  }

  public Trainer(GenerativeModel model, BatchSource data, TrainingConfig cfg, Options opt, Consumer<String> log) {
    this.model = model;
    this.data = data;
    this.cfg = cfg;
    this.opt = opt;
    this.g = model.trainGraph();
    this.log = log;
    if (g == null) {
      throw new IllegalArgumentException("the model was built for inference; build it with ModelOptions.training");
    }
    if (!java.util.Arrays.equals(data.exampleShape(), model.dataShape())) {
      throw new IllegalArgumentException("data " + data.describe() + " has examples of shape "
          + java.util.Arrays.toString(data.exampleShape()) + " but the model expects "
          + java.util.Arrays.toString(model.dataShape()));
    }
  }

  public Path checkpointsDir() {
    return opt.outDir().resolve("checkpoints");
  }

  /** The newest complete checkpoint of an output folder, or null. */
  public static Path latestCheckpoint(Path outDir) throws IOException {
    Path dir = outDir.resolve("checkpoints");
    Path latest = dir.resolve(LATEST);
    if (!Files.exists(latest)) {
      return null;
    }
    String name = Files.readString(latest, StandardCharsets.UTF_8).trim();
    Path ckpt = dir.resolve(name);
    if (!name.matches("step-\\d+") || !Files.exists(ckpt.resolve("variables.index"))) {
      throw new IOException("checkpoints/latest in " + outDir + " names '" + name + "', which is not a complete "
          + "checkpoint");
    }
    return ckpt;
  }

  public Result run() throws IOException {
    Files.createDirectories(opt.outDir());
    AtomicFiles.sweepTemporaries(checkpointsDir());
    Session s = model.session();
    Path resumeFrom = latestCheckpoint(opt.outDir());
    long startStep;
    if (resumeFrom != null && !opt.resume()) {
      throw new IllegalArgumentException(opt.outDir() + " already holds checkpoints (newest " + resumeFrom.getFileName()
          + "); pass --resume to continue that run, or choose another --out");
    }
    if (resumeFrom != null) {
      stateSaver().restore(s, resumeFrom.resolve("variables"));
      startStep = readStep();
      log.accept("resuming " + opt.outDir() + " at step " + startStep + " from " + resumeFrom.getFileName());
      truncateLog(startStep);
    } else {
      if (opt.resume()) {
        log.accept("no checkpoint in " + opt.outDir() + " to resume; starting at step 0");
      }
      startStep = 0;
      initialise(s);
      writeConfig();
      Files.deleteIfExists(opt.outDir().resolve("loss.csv"));
    }
    long end = cfg.steps();
    long total = opt.untilStep() > 0 ? Math.min(end, opt.untilStep()) : end;
    if (startStep >= total) {
      log.accept("already at step " + startStep + " of " + total + "; nothing to do");
      return new Result(startStep, Double.NaN, resumeFrom, 0, 0, startStep);
    }
    List<String> metricNames = new ArrayList<>(g.metrics().keySet());
    LossLog lossLog = new LossLog(opt.outDir().resolve("loss.csv"), metricNames);
    long t0 = System.nanoTime();
    double lastLoss = Double.NaN;
    double lastGoodLoss = Double.NaN;
    long lastGoodStep = startStep;
    Path lastCheckpoint = resumeFrom;
    long checkpointedStep = resumeFrom == null ? -1 : startStep;
    long failingSince = 0;
    try (Progress progress = Progress.start("train", startStep, end, "steps", opt.progress())) {
      for (long step = startStep; step < total; step++) {
        long done = step + 1;
        try {
          Batch batch = data.batch(step, cfg.batchSize() * g.batchesPerStep());
          double[] values = runStep(s, batch, step, metricNames);
          lastLoss = values[0];
          if (!allFinite(values)) {
            String which = Double.isFinite(values[0]) ? "a metric (" + describe(metricNames, values) + ")"
                : "the loss";
            throw new TrainingDivergedException(which + " became " + values[0] + " at step " + done + " (the last "
                + "finite loss was " + lastGoodLoss + " at step " + lastGoodStep + "); training stopped. "
                + (lastCheckpoint == null ? "No checkpoint was written yet."
                    : "The last good checkpoint is " + lastCheckpoint + "; resume from it with --resume, perhaps "
                        + "with a lower learning rate (--set training.optimizer.learningRate=...)."), done);
          }
          lastGoodLoss = lastLoss;
          lastGoodStep = done;
          lossLog.add(done, values, (System.nanoTime() - t0) / 1e9);
          if (done % Math.max(1, opt.logEvery()) == 0 || done == total) {
            lossLog.flush();
          }
          progress.message(String.format("loss %.4f", lastLoss));
          progress.stepTo(done);
          boolean last = done == total;
          if (last || (opt.checkpointEvery() > 0 && done % opt.checkpointEvery() == 0)) {
            lastCheckpoint = checkpoint(s, done, lastLoss);
            checkpointedStep = done;
            lossLog.flush();
            drawLossCurve();
          }
          if (opt.sampleEvery() >= 0 && (last || (opt.sampleEvery() > 0 && done % opt.sampleEvery() == 0))) {
            drawSamples(done);
          }
          failingSince = 0;
        } catch (TensorFlowException e) {
          long now = System.nanoTime();
          failingSince = failingSince == 0 ? now : failingSince;
          if (!(model instanceof ModelBase mb) || !mb.isClustered() || !recoverable(e)
              || (now - failingSince) / 1_000_000L > reconnectTimeoutMs()) {
            throw e;
          }
          sleepQuietly(1000);
          lossLog.flush();
          long at = recover(mb, e, done);
          s = model.session();
          if (at < done - 1) {
            lossLog.close();
            truncateLog(at);
            lossLog = new LossLog(opt.outDir().resolve("loss.csv"), metricNames);
          }
          progress.stepTo(at);
          step = at - 1;
        }
      }
      if (checkpointedStep != total && readStep() == total) {
        // the final step ran but its checkpoint was interrupted by a task failure: write it now
        lastCheckpoint = checkpoint(s, total, lastLoss);
      }
    } finally {
      lossLog.close();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Result(total, lastLoss, lastCheckpoint, seconds, (total - startStep) / seconds, startStep);
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How long the chief waits for a failed cluster task to come back (ms); {@code genzoo.cluster.reconnectTimeoutMs}. */
  private static long reconnectTimeoutMs() {
    return Long.getLong("genzoo.cluster.reconnectTimeoutMs", 600_000L);
  }

  /** Errors of a cluster task going away, as opposed to errors of the graph or the data. */
  private static boolean recoverable(TensorFlowException e) {
    // (invalid arguments and unimplemented ops come as IllegalArgumentException and UnsupportedOperationException)
    return !(e instanceof org.tensorflow.exceptions.TFResourceExhaustedException);
  }

  /**
   * After a cluster task failed mid-step: waits for the cluster to answer again and returns the step to continue
   * from. The variables live on the parameter servers, so a restarted worker costs only the step it interrupted
   * (which did not apply: the update needs every tower's gradient); a restarted parameter server lost them, and the
   * newest checkpoint is restored (or training starts over when there is none).
   */
  private long recover(ModelBase mb, TensorFlowException e, long failedStep) throws IOException {
    String why = String.valueOf(e.getMessage());
    log.accept("step " + failedStep + " failed (" + why.lines().filter(l -> !l.isBlank()).findFirst().orElse(why)
        + "); waiting for the cluster to answer");
    boolean initialised = mb.reconnect(reconnectTimeoutMs());
    Session s = mb.session();
    if (!initialised) {
      mb.reinitialize();
      Path ckpt = latestCheckpoint(opt.outDir());
      if (ckpt != null) {
        stateSaver().restore(s, ckpt.resolve("variables"));
        log.accept("a parameter server restarted without the variables; restored " + ckpt.getFileName());
      } else {
        initialise(s);
        log.accept("a parameter server restarted without the variables and there is no checkpoint yet; starting "
            + "again from step 0");
      }
    }
    long at = readStep();
    log.accept("the cluster answers again; continuing at step " + at);
    return at;
  }

  private Saver stateSaver() {
    if (!(model instanceof ModelBase mb) || mb.stateSaver() == null) {
      throw new IllegalStateException("the model has no training-state saver");
    }
    return mb.stateSaver();
  }

  /** Fresh start: the parent's weights for fine-tuning, else data-dependent initialisation; then EMA := weights. */
  private void initialise(Session s) {
    if (opt.initWeights() != null) {
      model.restoreWeights(opt.initWeights());
      return;
    }
    if (g.dataInit() != null) {
      Batch b = data.batch(0, Math.max(cfg.initBatchSize(), 1));
      try (TFloat32 x = HostTensors.float32(b.x(), b.shape())) {
        Session.Runner r = s.runner().feed(g.x(), x).addTarget(g.dataInit());
        r.run().close();
      }
    }
    if (g.ema() != null) {
      s.runner().addTarget(g.ema().reset()).run().close();
    }
  }

  private double[] runStep(Session s, Batch batch, long step, List<String> metricNames) {
    try (TFloat32 x = HostTensors.float32(batch.x(), batch.shape());
         TInt64 seed = TInt64.vectorOf(Seeds.mix(opt.seed(), step), step);
         TInt32 labels = batch.labels() != null && g.labels() != null ? TInt32.vectorOf(batch.labels()) : null) {
      Session.Runner r = s.runner().feed(g.x(), x).addTarget(g.step()).fetch(g.loss());
      if (g.seed() != null) {
        r.feed(g.seed(), seed);
      }
      if (g.labels() != null) {
        if (labels == null) {
          throw new IllegalArgumentException("this model is class-conditional but " + data.describe()
              + " has no labels");
        }
        r.feed(g.labels(), labels);
      }
      for (String name : metricNames) {
        r.fetch(g.metrics().get(name));
      }
      try (org.tensorflow.Result res = r.run()) {
        double[] out = new double[1 + metricNames.size()];
        for (int i = 0; i < out.length; i++) {
          out[i] = ((TFloat32) res.get(i)).getFloat();
        }
        return out;
      }
    }
  }

  private static boolean allFinite(double[] v) {
    for (double d : v) {
      if (!Double.isFinite(d)) {
        return false;
      }
    }
    return true;
  }

  private static String describe(List<String> names, double[] values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < names.size(); i++) {
      if (!Double.isFinite(values[i + 1])) {
        sb.append(sb.length() > 0 ? ", " : "").append(names.get(i)).append(" = ").append(values[i + 1]);
      }
    }
    return sb.toString();
  }

  private long readStep() {
    try (org.tensorflow.Result r = model.session().runner().fetch(g.globalStep()).run()) {
      return ((TInt64) r.get(0)).getLong();
    }
  }

  private void writeConfig() throws IOException {
    ObjectNode root = Configs.JSON.createObjectNode();
    root.put("family", model.family());
    root.set("config", model.config());
    ObjectNode run = root.putObject("run");
    run.put("data", data.describe());
    run.put("seed", opt.seed());
    run.put("initWeights", opt.initWeights() == null ? null : opt.initWeights().toString());
    if (model instanceof ModelBase mb) {
      root.set("runtime", mb.runtimeOptions().toJson());
      if (mb.runtimeOptions().cluster() != null) {
        run.put("cluster", mb.runtimeOptions().cluster().spec());
      }
    }
    AtomicFiles.writeString(opt.outDir().resolve("config.json"), Configs.JSON.writeValueAsString(root));
  }

  /** Writes the complete training state to checkpoints/step-N (atomically), points latest at it, prunes old ones. */
  private Path checkpoint(Session s, long step, double loss) throws IOException {
    Path dir = checkpointsDir();
    String name = String.format("step-%08d", step);
    Path target = dir.resolve(name);
    JsonNode config = model.config();
    AtomicFiles.writeFolder(target, true, tmp -> {
      stateSaver().save(s, tmp.resolve("variables"));
      ObjectNode info = Configs.JSON.createObjectNode();
      info.put("family", model.family());
      info.put("step", step);
      info.put("loss", loss);
      info.put("seed", opt.seed());
      info.put("data", data.describe());
      info.set("config", config);
      AtomicFiles.writeString(tmp.resolve("trainer.json"), Configs.JSON.writeValueAsString(info));
    });
    AtomicFiles.writeString(dir.resolve(LATEST), name + "\n");
    prune(dir, name);
    return target;
  }

  private void prune(Path dir, String keepNewest) throws IOException {
    List<Path> all = new ArrayList<>();
    try (Stream<Path> list = Files.list(dir)) {
      list.filter(p -> p.getFileName().toString().matches("step-\\d+")).forEach(all::add);
    }
    all.sort(Comparator.comparing(p -> p.getFileName().toString()));
    int keep = Math.max(1, opt.keepCheckpoints());
    for (int i = 0; i < all.size() - keep; i++) {
      if (!all.get(i).getFileName().toString().equals(keepNewest)) {
        AtomicFiles.deleteRecursively(all.get(i));
      }
    }
  }

  private void truncateLog(long step) throws IOException {
    Path csv = opt.outDir().resolve("loss.csv");
    if (!Files.exists(csv)) {
      return;
    }
    List<String> keep = new ArrayList<>();
    for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
      if (keep.isEmpty()) {
        keep.add(line);
        continue;
      }
      int comma = line.indexOf(',');
      try {
        if (Long.parseLong(line.substring(0, comma)) <= step) {
          keep.add(line);
        }
      } catch (RuntimeException e) {
        // a torn last line of an interrupted run: dropped
      }
    }
    AtomicFiles.writeString(csv, String.join("\n", keep) + "\n");
  }

  private void drawLossCurve() {
    Path csv = opt.outDir().resolve("loss.csv");
    try {
      List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
      if (lines.size() < 3) {
        return;
      }
      double[] x = new double[lines.size() - 1];
      double[] y = new double[lines.size() - 1];
      for (int i = 1; i < lines.size(); i++) {
        String[] f = lines.get(i).split(",");
        x[i - 1] = Double.parseDouble(f[0]);
        y[i - 1] = Double.parseDouble(f[1]);
      }
      List<Series> series = Plots.rawAndSmoothed("loss", x, y, Math.max(1, x.length / 50), null);
      Plots.lines(series, opt.outDir().resolve("loss.png"), model.family() + " training loss", "step", "loss", false);
    } catch (IOException | RuntimeException e) {
      log.accept("warning: could not draw the loss curve: " + e.getMessage());
    }
  }

  /** A sample grid (images) or scatter plot (points) with the EMA weights swapped in. */
  private void drawSamples(long step) {
    Path png = opt.outDir().resolve("samples").resolve(String.format("step-%08d.png", step));
    Session s = model.session();
    Ema ema = g.ema();
    try {
      if (ema != null) {
        s.runner().addTarget(ema.swapIn()).run().close();
      }
      Samples samples;
      try {
        int count = model.dataShape().length == 1 ? Math.max(opt.sampleCount(), 2000) : opt.sampleCount();
        samples = model.sample(count, SampleOptions.seed(opt.seed()));
      } finally {
        if (ema != null) {
          s.runner().addTarget(ema.swapOut()).run().close();
        }
      }
      writeSamples(samples, png, model.family() + " samples, step " + step);
    } catch (IOException | RuntimeException e) {
      log.accept("warning: could not draw samples at step " + step + ": " + e.getMessage());
    }
  }

  /** Writes samples as a PNG: a grid for images, a scatter plot for 2-D points. */
  public static void writeSamples(Samples samples, Path png, String title) throws IOException {
    long[] sh = samples.shape();
    if (samples.isImages()) {
      ImageGrid.write(samples.data(), (int) sh[0], (int) sh[1], (int) sh[2], (int) sh[3], png);
    } else if (sh.length == 2 && sh[1] == 2) {
      ScatterOptions o = ScatterOptions.defaults().withTitle(title);
      Plots.scatter(samples.data(), png, o);
    } else {
      throw new IllegalArgumentException("cannot draw samples of shape " + java.util.Arrays.toString(sh)
          + " (images [N,H,W,C] or 2-D points [N,2])");
    }
  }

  /** The loss log: one CSV row per step (step, loss, metrics..., seconds), appended and flushed periodically. */
  private static final class LossLog implements AutoCloseable {
    private final BufferedWriter out;

    LossLog(Path csv, List<String> metrics) throws IOException {
      boolean fresh = !Files.exists(csv);
      this.out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      if (fresh) {
        out.write("step,loss," + String.join(",", metrics) + ",seconds\n");
      }
    }

    void add(long step, double[] values, double seconds) {
      try {
        StringBuilder sb = new StringBuilder().append(step);
        for (double v : values) {
          sb.append(',').append((float) v);
        }
        sb.append(',').append(String.format("%.3f", seconds)).append('\n');
        out.write(sb.toString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void flush() throws IOException {
      out.flush();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
