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
  protected final Ops tf;
  protected final Class<TFloating> dt;
  protected final ModelOptions options;
  private Session session;
  private TrainGraph trainGraph;
  private Saver weightsSaver;
  private Saver weightsRestorer;
  private Saver stateSaver;

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
    this.dt = store.dtype();
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
   * Builds the optimiser step over every trainable variable: gradients, clipping, the learning-rate schedule, the
   * update, the pass's state updates (BatchNorm), the EMA, and the step counter, as one op.
   */
  protected TrainGraph buildTraining(TrainingConfig cfg, Objective o) {
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
    this.session = new Session(graph, false, sessionConfig());
    session.runner().addTarget(init).run().close();
    if (ema != null) {
      session.runner().addTarget(ema.reset()).run().close();
    }
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
