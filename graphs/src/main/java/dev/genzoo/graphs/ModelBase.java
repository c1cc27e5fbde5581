package dev.genzoo.graphs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Kind;
import dev.genzoo.graphs.nn.VarStore.Var;
import dev.genzoo.graphs.train.Ema;
import dev.genzoo.graphs.train.Optimizers;
import dev.genzoo.graphs.train.Saver;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.graphs.train.TrainingConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * What every family's model shares: the graph, the variable store, the session, the savers and the assembly of the
 * training step. A family builds its network and ops in its constructor, calls {@link #buildTraining} when training,
 * and finally {@link #open()}, which creates the session and initialises the variables.
 */
public abstract class ModelBase implements GenerativeModel {
  protected final Graph graph;
  protected final VarStore store;
  /**
   * The model's ops builder. While {@link #buildTraining(TrainingConfig, Placeholder, Placeholder, Placeholder,
   * java.util.function.Function, Op)} builds a tower, it is that tower's builder (the tower's device and name scope),
   * so everything a family's loss builds with it lands on the tower's device.
   */
  protected Ops tf;
  private final Ops rootOps;
  protected final Class<TFloating> dt;
  protected final ModelOptions options;
  private Session session;
  private TrainGraph trainGraph;
  private Saver weightsSaver;
  private Saver weightsRestorer;
  private Saver stateSaver;
  private Operand<org.tensorflow.types.TBool> allInitialized;
  private Op initOp;

  private final String family;
  private final Object configRecord;
  private final long[] dataShape;

  /**
   * @param family the family's name ("flow", "ddpm", ...)
   * @param config the family's config record, saved as JSON in model.json
   * @param dataShape the shape of one example
   */
  protected ModelBase(String family, Object config, long[] dataShape, ModelOptions options) {
    this.family = family;
    this.configRecord = config;
    this.dataShape = dataShape.clone();
    this.options = options;
    this.graph = new Graph();
    try {
      this.store = new VarStore(graph, options.dtype(), options.seed());
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
    this.tf = store.tf();
    this.rootOps = tf;
    this.dt = store.dtype();
    placeVariables(options.runtime());
  }

  /**
   * Replicas need one shared copy of each variable: on the first CPU for towers in one process (as in TensorFlow's
   * multi-GPU CIFAR-10 example), on the parameter-server tasks in a cluster, each variable on the task holding the
   * fewest bytes so far (TensorFlow's greedy load balancing).
   */
  private void placeVariables(RuntimeOptions rt) {
    if (rt.cluster() != null) {
      long[] load = new long[rt.cluster().psTasks()];
      store.placeVariables((name, bytes) -> {
        int best = 0;
        for (int i = 1; i < load.length; i++) {
          if (load[i] < load[best]) {
            best = i;
          }
        }
        load[best] += bytes;
        return "/job:ps/task:" + best;
      });
    } else if (!rt.towerDevices().isEmpty()) {
      store.placeVariables((name, bytes) -> "/device:CPU:0");
    }
  }

  @Override
  public String family() {
    return family;
  }

  @Override
  public JsonNode config() {
    return Configs.toJson(configRecord);
  }

  @Override
  public long[] dataShape() {
    return dataShape.clone();
  }

  /** The pieces of a family's training objective that {@link #buildTraining} turns into one optimiser step. */
  public record Objective(Placeholder<TFloat32> x, Placeholder<TInt32> labels, Placeholder<TInt64> seed,
      Operand<TFloating> loss, Map<String, Operand<TFloating>> metrics, Pass pass, Op dataInit) {}

  /**
   * One replica's share of a training step: its slice of the batch, and the whole batch for drawing per-example
   * randomness the same way however the batch is split (data parallelism as in Krizhevsky 2014, "One weird trick for
   * parallelizing convolutional neural networks", and Goyal et al. 2017).
   *
   * @param index the tower's number, 0 for the only one
   * @param count how many towers share the batch
   * @param x this tower's rows of the batch
   * @param labels this tower's labels, or null
   * @param seed the step's seed (the same for every tower)
   * @param globalX the whole batch
   */
  public record Tower(int index, int count, Operand<TFloat32> x, Operand<TInt32> labels, Operand<TInt64> seed,
      Operand<TFloat32> globalX) {
    /**
     * This tower's rows of a tensor drawn for the whole batch (leading dimension = batch): draw random numbers for
     * {@link #globalShape} or {@link #globalCount}, then take the slice, and every split of the batch sees the numbers
     * a single device would.
     */
    public <T extends org.tensorflow.types.family.TType> Operand<T> slice(Ops ops, Operand<T> whole) {
      if (count == 1) {
        return whole;
      }
      return ops.split(ops.constant(0), whole, (long) count).output().get(index);
    }

    /** The shape of the whole batch (int32 vector). */
    public Operand<TInt32> globalShape(Ops ops) {
      return ops.shape(globalX);
    }

    /** The size of the whole batch as an int32 vector of one element (a shape for per-example draws). */
    public Operand<TInt32> globalCount(Ops ops) {
      return ops.stridedSlice(ops.shape(globalX), org.tensorflow.ndarray.index.Indices.slice(0, 1));
    }
  }

  /** A tower's loss (a mean over its rows), the metrics logged with it (means too), and its pass. */
  public record TowerLoss(Operand<TFloating> loss, Map<String, Operand<TFloating>> metrics, Pass pass) {}

  /**
   * Builds the optimiser step over every trainable variable: gradients, clipping, the learning-rate schedule, the
   * update, the pass's state updates (BatchNorm), the EMA, and the step counter, as one op.
   */
  protected TrainGraph buildTraining(TrainingConfig cfg, Objective o) {
    if (!options.runtime().towerDevices().isEmpty()) {
      throw new IllegalArgumentException(family + " trains on one device: its training step (samplers with state "
          + "across steps, several updates per step) is not split into towers; leave out --towers and --cluster");
    }
    Output<TInt64> globalStep = globalStep();
    List<Var> trainable = store.ofKind(Kind.TRAINABLE);
    Operand<TFloating> loss = o.loss();
    Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
    for (Map.Entry<String, Operand<TFloating>> m : o.metrics().entrySet()) {
      metrics.put(m.getKey(), Tensors.toFloat32(tf, m.getValue()));
    }
    if (cfg.weightDecay() > 0) {
      Operand<TFloating> l2 = Optimizers.l2Penalty(store, trainable, cfg.weightDecay());
      metrics.put("l2", Tensors.toFloat32(tf, l2));
      loss = tf.math.add(loss, l2);
    }
    Optimizers.Step opt = Optimizers.minimize(store, "optimizer", cfg, loss, trainable, globalStep);
    return finishTraining(cfg, o, opt, metrics);
  }

  /**
   * {@link #buildTraining(TrainingConfig, Objective)} for a loss that is a mean over the batch, built by
   * {@code towerLoss} once per tower: with {@link RuntimeOptions#towerDevices} empty, once over the whole batch; else
   * once per device on that tower's rows, with its gradient taken on its device, and one update that applies the
   * average of the towers' gradients to the shared variables. Equal slices make that average the gradient of the
   * whole batch's mean loss, so N towers train as one device with the same global batch does (BatchNorm statistics,
   * the only thing that differs, are per tower, as in TensorFlow's and PyTorch's data parallelism without sync BN;
   * moving averages follow tower 0).
   *
   * @param dataInit the data-dependent initialisation over the whole batch (built with the root builder), or null
   */
  protected TrainGraph buildTraining(TrainingConfig cfg, Placeholder<TFloat32> x, Placeholder<TInt32> labels,
      Placeholder<TInt64> seed, java.util.function.Function<Tower, TowerLoss> towerLoss, Op dataInit) {
    List<String> devices = options.runtime().towerDevices();
    if (devices.isEmpty()) {
      TowerLoss l = towerLoss.apply(new Tower(0, 1, x, labels, seed, x));
      return buildTraining(cfg, new Objective(x, labels, seed, l.loss(), l.metrics(), l.pass(), dataInit));
    }
    int n = devices.size();
    if (cfg.batchSize() % n != 0) {
      throw new IllegalArgumentException("training.batchSize " + cfg.batchSize() + " must be a multiple of the " + n
          + " towers (" + String.join(", ", devices) + ")");
    }
    Output<TInt64> globalStep = globalStep();
    List<Var> trainable = store.ofKind(Kind.TRAINABLE);
    List<Output<TFloat32>> xs = rootOps.split(rootOps.constant(0), x, (long) n).output();
    List<Output<TInt32>> ls = labels == null ? null : rootOps.split(rootOps.constant(0), labels, (long) n).output();
    List<List<Operand<TFloating>>> grads = new ArrayList<>();
    List<Operand<TFloating>> losses = new ArrayList<>();
    List<Map<String, Operand<TFloating>>> towerMetrics = new ArrayList<>();
    Pass first = null;
    try {
      for (int i = 0; i < n; i++) {
        String scope = "tower_" + i;
        tf = rootOps.withDevice(dev.genzoo.graphs.nn.DeviceSpecs.parse(devices.get(i))).withSubScope(scope);
        TowerLoss l = towerLoss.apply(new Tower(i, n, xs.get(i), ls == null ? null : ls.get(i), seed, x));
        Operand<TFloating> loss = l.loss();
        Map<String, Operand<TFloating>> ms = new LinkedHashMap<>(l.metrics());
        if (cfg.weightDecay() > 0) {
          Operand<TFloating> l2 = Optimizers.l2Penalty(store, trainable, cfg.weightDecay());
          ms.put("l2", l2);
          loss = tf.math.add(loss, l2);
        }
        grads.add(Optimizers.gradients(tf, loss, trainable));
        // TF_AddGradients takes no device from the scope: put this tower's backward pass on its device.
        String prefix = scope + "/";
        for (java.util.Iterator<org.tensorflow.GraphOperation> it = graph.operations(); it.hasNext();) {
          org.tensorflow.GraphOperation op = it.next();
          if (op.name().startsWith(prefix) && op.device().isEmpty()) {
            org.tensorflow.GenzooBridge.setDevice(op, devices.get(i));
          }
        }
        losses.add(l.loss());
        towerMetrics.add(ms);
        if (first == null) {
          first = l.pass();
        }
      }
    } finally {
      tf = rootOps;
    }
    List<Operand<TFloating>> average = new ArrayList<>();
    for (int j = 0; j < trainable.size(); j++) {
      Ops at = rootOps.withDevice(dev.genzoo.graphs.nn.DeviceSpecs.parse(store.deviceOf(trainable.get(j).name())));
      List<Operand<TFloating>> parts = new ArrayList<>();
      for (List<Operand<TFloating>> g : grads) {
        parts.add(g.get(j));
      }
      average.add(at.math.mul(at.math.addN(parts), Tensors.constant(at, dt, 1.0 / n)));
    }
    Optimizers.Step opt = Optimizers.applyGradients(store, "optimizer", cfg, trainable, average, globalStep);
    Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
    for (String name : towerMetrics.get(0).keySet()) {
      List<Operand<TFloating>> parts = new ArrayList<>();
      for (Map<String, Operand<TFloating>> m : towerMetrics) {
        parts.add(m.get(name));
      }
      metrics.put(name, Tensors.toFloat32(tf, meanOf(parts)));
    }
    Objective o = new Objective(x, labels, seed, meanOf(losses), Map.of(), first, dataInit);
    return finishTraining(cfg, o, opt, metrics);
  }

  private Operand<TFloating> meanOf(List<Operand<TFloating>> parts) {
    return tf.math.mul(tf.math.addN(parts), Tensors.constant(tf, dt, 1.0 / parts.size()));
  }

  /** The update, the pass's state updates, the EMA and the step counter as one op, and the {@link TrainGraph}. */
  private TrainGraph finishTraining(TrainingConfig cfg, Objective o, Optimizers.Step opt,
      Map<String, Operand<TFloat32>> metrics) {
    Output<TInt64> globalStep = globalStep();
    List<Var> trainable = store.ofKind(Kind.TRAINABLE);
    metrics.put("grad_norm", Tensors.toFloat32(tf, opt.gradNorm()));
    metrics.put("lr", Tensors.toFloat32(tf, opt.learningRate()));
    List<Op> updates = new ArrayList<>();
    updates.add(opt.apply());
    updates.addAll(o.pass().updates());
    Ema ema = null;
    if (cfg.emaDecay() > 0) {
      ema = new Ema(store, trainable, cfg.emaDecay(), List.of(opt.apply()));
      updates.add(ema.update());
    }
    Op increment = tf.withControlDependencies(updates).assignAdd(globalStep, tf.constant(1L));
    Op step = tf.withControlDependencies(List.of(increment)).noOp();
    this.trainGraph = new TrainGraph(o.x(), o.labels(), o.seed(), Tensors.toFloat32(tf, o.loss()), metrics, step,
        o.dataInit(), ema, globalStep);
    return trainGraph;
  }

  /**
   * The int64 step counter {@code global_step}, created on first use, for objectives that depend on the step (a KL
   * warm-up) and built before {@link #buildTraining}, which uses the same variable.
   */
  protected Output<TInt64> globalStep() {
    if (store.contains("global_step")) {
      return store.get("global_step").as();
    }
    return store.create("global_step", Shape.scalar(), TInt64.class, Kind.STEP, tf.constant(0L));
  }

  /**
   * Installs a training step built by the family itself, for models whose step is not one optimiser over every
   * trainable variable (a GAN's critic and generator updates); {@link #open()} then creates the training-state saver.
   */
  protected void useTrainGraph(TrainGraph g) {
    if (!options.runtime().towerDevices().isEmpty()) {
      throw new IllegalArgumentException(family + " trains on one device: its training step (several updates of "
          + "several networks) is not split into towers; leave out --towers and --cluster");
    }
    this.trainGraph = g;
  }

  /** Creates the savers and the session and initialises every variable. Call once, at the end of the constructor. */
  protected void open() {
    List<Var> weights = store.ofKind(Kind.TRAINABLE, Kind.STATE);
    List<Saver.Entry> export = new ArrayList<>();
    Ema ema = trainGraph == null ? null : trainGraph.ema();
    for (Var v : weights) {
      Operand<?> value = v.ref();
      if (ema != null && ema.shadowOf(v.name()) != null) {
        value = ema.shadowOf(v.name());
      }
      export.add(new Saver.Entry(v.name(), value, v));
    }
    this.weightsSaver = new Saver(store, export);
    this.weightsRestorer = new Saver(store, Saver.identity(weights));
    if (trainGraph != null) {
      List<Var> state = new ArrayList<>();
      for (Var v : store.all()) {
        if (v.kind() != Kind.SCRATCH) {
          state.add(v);
        }
      }
      stateSaver = new Saver(store, Saver.identity(state));
    }
    Op init = store.initializer();
    this.initOp = init;
    if (isClustered()) {
      // every variable, so that a parameter server restarted without its share of them is noticed
      List<Operand<org.tensorflow.types.TBool>> flags = new ArrayList<>();
      for (Var v : store.all()) {
        flags.add(tf.isVariableInitialized(v.ref()));
      }
      this.allInitialized = tf.all(tf.stack(flags), tf.constant(0));
    }
    this.session = openSession();
    session.runner().addTarget(init).run().close();
    if (ema != null) {
      session.runner().addTarget(ema.reset()).run().close();
    }
  }

  /**
   * A session with the runtime options: in-process, or on this task's gRPC server in a cluster. A GPU asked for with
   * {@code --device gpu:N} must be there: TensorFlow itself would fall back to the CPU with one log line.
   */
  private Session openSession() {
    RuntimeOptions rt = options.runtime();
    org.tensorflow.proto.ConfigProto config = sessionConfig();
    if (rt.cluster() == null) {
      Session s = new Session(graph, false, config);
      if (rt.usesGpu()) {
        try {
          requireGpus(rt, org.tensorflow.GenzooBridge.devices(s));
        } catch (RuntimeException e) {
          s.close();
          throw e;
        }
      }
      return s;
    }
    return org.tensorflow.GenzooBridge.openSession(graph, rt.target(), config);
  }

  private static void requireGpus(RuntimeOptions rt, List<String> devices) {
    long gpus = devices.stream().filter(d -> d.contains("/device:GPU:")).count();
    int needed = Math.max(1, rt.towers());
    if (gpus >= needed) {
      return;
    }
    boolean gpuBuild = System.getProperty("java.class.path", "").contains("linux-x86_64-gpu");
    throw new IllegalStateException("--device " + rt.device() + " asks for " + needed + " GPU(s) but TensorFlow can "
        + "use " + gpus + " (devices: " + String.join(", ", devices) + "). " + (gpuBuild
            ? "The GPU build is on the class path, so CUDA 12.3 and cuDNN 8.9 are probably missing or not on "
                + "LD_LIBRARY_PATH (TensorFlow logs 'Cannot dlopen some GPU libraries'), or the GPU indices are "
                + "wrong (nvidia-smi lists them)."
            : "This build uses TensorFlow's CPU-only natives: rebuild with 'mvn -Pgpu install' (TensorFlow 2.16 needs "
                + "CUDA 12.3 and cuDNN 8.9 on the machine), or use --device cpu."));
  }

  /** How this model's sessions run and where its ops go. */
  public RuntimeOptions runtimeOptions() {
    return options.runtime();
  }

  /** True when this model's variables live on a cluster's parameter servers. */
  public boolean isClustered() {
    return options.runtime().cluster() != null;
  }

  /**
   * After a cluster task failed: drops the session and opens new ones until one answers (the failed task restarted),
   * for up to {@code timeoutMs}. Variables on the parameter servers keep their values across sessions.
   *
   * @return whether the variables are still initialised (false when a parameter server restarted and lost them)
   */
  public boolean reconnect(long timeoutMs) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
    RuntimeException last = null;
    while (true) {
      if (session != null) {
        try {
          session.close();
        } catch (RuntimeException e) {
          // the old session's remote state is gone with the task
        }
        session = null;
      }
      try {
        session = openSession();
        try (org.tensorflow.Result r = session.runner().fetch(allInitialized).run()) {
          return ((org.tensorflow.types.TBool) r.get(0)).getBoolean();
        }
      } catch (RuntimeException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the cluster " + options.runtime().cluster().spec() + " did not answer for "
            + timeoutMs / 1000 + " s; last error: " + firstLine(last), last);
      }
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while reconnecting to the cluster", e);
      }
    }
  }

  /** Runs every variable's initialiser again (a parameter server restarted with no state). */
  public void reinitialize() {
    session().runner().addTarget(initOp).run().close();
  }

  private static String firstLine(Throwable t) {
    String m = t == null ? "none" : String.valueOf(t.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** Draws one chunk of samples: {@code k} examples from index {@code start}, flattened, ready to return. */
  @FunctionalInterface
  protected interface ChunkSampler {
    double[] draw(int start, int k, int part, java.util.function.IntConsumer onStep);
  }

  /**
   * Draws {@code count} samples in chunks of at most {@code chunk} examples (part i depends only on the seed and i),
   * with one progress bar over {@code stepsPerChunk} sampler steps per chunk, shown when the work is large.
   */
  protected Samples sampleInChunks(int count, int chunk, String task, int stepsPerChunk, ChunkSampler sampler) {
    if (count <= 0) {
      throw new IllegalArgumentException("--n must be positive, got " + count);
    }
    if (chunk <= 0) {
      throw new IllegalArgumentException("the sampling batch size must be positive, got " + chunk);
    }
    long[] example = dataShape();
    long per = 1;
    for (long d : example) {
      per *= d;
    }
    float[] out = new float[Math.toIntExact(count * per)];
    long chunks = (count + chunk - 1) / chunk;
    long total = stepsPerChunk * chunks;
    try (Progress p = Progress.start(task, 0, total, "steps", total * per * Math.min(chunk, count) >= 50_000_000L)) {
      for (int start = 0, part = 0; start < count; start += chunk, part++) {
        int k = Math.min(chunk, count - start);
        long done = (long) part * stepsPerChunk;
        double[] x = sampler.draw(start, k, part, s -> p.stepTo(done + s));
        if (x.length != k * per) {
          throw new IllegalStateException(task + " returned " + x.length + " values for " + k + " samples");
        }
        for (int i = 0; i < x.length; i++) {
          out[Math.toIntExact(start * per) + i] = (float) x[i];
        }
      }
    }
    return new Samples(out, Tensors.batchShape(count, example));
  }

  /** The session's configuration: the runtime options; a family may adjust the graph rewriters. */
  protected org.tensorflow.proto.ConfigProto sessionConfig() {
    return options.runtime().toConfigProto();
  }

  /** The saver of the complete training state (weights, optimiser slots, EMA, step); null for inference models. */
  public Saver stateSaver() {
    return stateSaver;
  }

  @Override
  public VarStore variables() {
    return store;
  }

  @Override
  public Session session() {
    if (session == null) {
      throw new IllegalStateException("model not opened");
    }
    return session;
  }

  @Override
  public TrainGraph trainGraph() {
    return trainGraph;
  }

  @Override
  public void saveWeights(Path prefix) {
    weightsSaver.save(session(), prefix);
  }

  @Override
  public void restoreWeights(Path prefix) {
    weightsRestorer.restore(session(), prefix);
    if (trainGraph != null && trainGraph.ema() != null) {
      session.runner().addTarget(trainGraph.ema().reset()).run().close();
    }
  }

  @Override
  public void close() {
    if (session != null) {
      session.close();
      session = null;
    }
    graph.close();
  }
}
