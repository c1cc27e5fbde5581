package dev.genzoo.graphs.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.internal.types.registry.TensorTypeRegistry;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * Every variable of one graph, by its checkpoint name.
 *
 * <p>Names are the checkpoint schema: hierarchical, {@code /}-separated, readable and stable
 * ({@code flow/level_0/step_3/coupling/nn/conv_in/kernel}), never list indices. Variables are created as
 * {@code VariableV2} ops with exactly that name, so a TF1 {@code Saver} checkpoint, {@code Session.save} and genzoo's
 * own savers all key them the same way. Because the names contain {@code /}, genzoo builds its optimiser steps from
 * the raw training ops with slots it names itself ({@code optimizer/<var>/m}), not from tensorflow-framework's
 * optimisers, which reject such names.
 *
 * <p>Each variable has a {@link Kind}, which decides what a checkpoint holds: a model bundle holds
 * {@link Kind#TRAINABLE} and {@link Kind#STATE}; a training checkpoint holds everything but {@link Kind#SCRATCH}.
 */
public final class VarStore {
  /** What a variable is for. */
  public enum Kind {
    /** Trained by the optimiser. */
    TRAINABLE,
    /** Part of the model but not trained by gradients: BN moving statistics, power-iteration vectors, fixed permutations. */
    STATE,
    /** Optimiser slots and counters. */
    OPTIMIZER,
    /** Exponential-moving-average shadows of trainable variables. */
    EMA,
    /** The global step. */
    STEP,
    /**
     * Training-time sampler state that a resumed run needs but a model bundle does not: persistent MCMC chains
     * (Tieleman 2008), an EBM's replay buffer (Du and Mordatch 2019).
     */
    SAMPLER,
    /** Working copies that are never saved (e.g. the backup used while EMA weights are swapped in). */
    SCRATCH
  }

  /**
   * One variable: its name, the ref output of its VariableV2 op (for assignments and the optimiser), the value read
   * through an Identity op {@code <name>/read} (for computation and gradients), shape, dtype, kind and initialiser.
   *
   * <p>Computation must use {@link #read()}: some of TensorFlow's C++ gradients (Square, for one) cast to their
   * input's type, which for a raw VariableV2 output is a ref type, and crash the process. TF1 reads variables the
   * same way.
   */
  public record Var(String name, Output<? extends TType> ref, Output<? extends TType> read, Shape shape,
      Class<? extends TType> type, Kind kind, Op initializer) {
    @SuppressWarnings("unchecked")
    public <T extends TType> Output<T> as() {
      return (Output<T>) ref;
    }

    @SuppressWarnings("unchecked")
    public <T extends TType> Output<T> value() {
      return (Output<T>) read;
    }

    public long size() {
      return shape.size();
    }
  }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*(/[A-Za-z0-9_.\\-]+)*");

  private final Graph graph;
  private final Ops tf;
  private final Class<TFloating> dtype;
  private final long seed;
  private final Map<String, Var> vars = new LinkedHashMap<>();
  private final Map<Output<?>, Var> byRead = new java.util.HashMap<>();
  private final Map<Output<?>, Var> byRef = new java.util.HashMap<>();
  private VariablePlacement placement;

  /**
   * @param dtype the floating type of the model (float32 normally; float64 for numerical tests)
   * @param seed the initialisation seed: each variable's initial value depends only on this seed and its name
   */
  @SuppressWarnings("unchecked")
  public VarStore(Graph graph, Class<? extends TFloating> dtype, long seed) {
    if (dtype != TFloat32.class && dtype != TFloat64.class) {
      throw new IllegalArgumentException("model dtype must be float32 or float64, not " + dtype.getSimpleName());
    }
    this.graph = graph;
    this.tf = Ops.create(graph);
    this.dtype = (Class<TFloating>) dtype;
    this.seed = seed;
  }

  /**
   * Where variables created from now on live (a parameter-server task, the CPU that holds the shared copy for
   * several towers): each variable's op, its {@code /read} and its initialiser get the device the placement chooses.
   * Null (the default) leaves placement to TensorFlow.
   */
  public void placeVariables(VariablePlacement p) {
    this.placement = p;
  }

  /** Chooses a device for each variable (by name and size in bytes); null for TensorFlow's default. */
  @FunctionalInterface
  public interface VariablePlacement {
    String deviceFor(String name, long bytes);
  }

  /** The device a variable was placed on ("" for TensorFlow's default). */
  public String deviceOf(String name) {
    return ((GraphOperation) get(name).ref().op()).device();
  }

  public Graph graph() {
    return graph;
  }

  public Ops tf() {
    return tf;
  }

  public Class<TFloating> dtype() {
    return dtype;
  }

  public long seed() {
    return seed;
  }

  /** The root scope: {@code root().child("flow")} is where a model starts. */
  public VarScope root() {
    return new VarScope(this, "");
  }

  /** Creates a floating variable of the model dtype, initialised by {@code init}; returns its ref. */
  public Output<TFloating> create(String name, long[] shape, Kind kind, Initializer init) {
    Shape s = Shape.of(shape);
    Operand<TFloating> initial = init.create(new Initializer.Context(tf, dtype, s, initSeed(name)));
    return create(name, s, dtype, kind, initial);
  }

  /** The value of a variable for computation ({@code <name>/read}). */
  public Output<TFloating> read(Output<TFloating> ref) {
    Var v = byRef.get(ref);
    if (v == null) {
      throw new IllegalArgumentException("not a variable of this store: " + ref);
    }
    return v.value();
  }

  /**
   * A fresh read of the existing variable {@code name}, an {@code Identity} of its ref with control dependencies on
   * {@code after}: within one {@code Session.run} it sees the value those ops assigned. The variable's shape and kind
   * must match what the caller expects. {@link #assign} accepts the returned value like a regular read.
   */
  @SuppressWarnings("unchecked")
  public Output<TFloating> readAfter(String name, long[] shape, Kind kind, List<Op> after) {
    Var v = vars.get(name);
    if (v == null) {
      throw new IllegalArgumentException("reuse of variable '" + name + "', which does not exist");
    }
    if (!v.shape().equals(Shape.of(shape)) || v.kind() != kind) {
      throw new IllegalArgumentException("reuse of variable '" + name + "' as " + kind + " " + Shape.of(shape)
          + ", but it is " + v.kind() + " " + v.shape());
    }
    Output<TFloating> read = (Output<TFloating>) (Output<?>) tf.withControlDependencies(after)
        .identity(v.<TFloating>as()).asOutput();
    byRead.put(read, v);
    return read;
  }

  /**
   * Assigns a new value to the variable whose read value is {@code variable} (as returned by
   * {@link VarScope#variable}); for layers with state, such as data-dependent init or moving statistics.
   */
  public Op assign(Operand<TFloating> variable, Operand<TFloating> value) {
    Var v = byRead.get(variable.asOutput());
    if (v == null) {
      throw new IllegalArgumentException("not the value of a variable of this store: " + variable);
    }
    return tf.assign(v.<TFloating>as(), value);
  }

  /** Creates a variable of any type with an explicit initial value (an op of this graph); returns its ref. */
  public <T extends TType> Output<T> create(String name, Shape shape, Class<T> type, Kind kind, Operand<T> initial) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid variable name '" + name + "': use [A-Za-z0-9_.-] segments joined by /");
    }
    if (vars.containsKey(name)) {
      throw new IllegalStateException("variable '" + name + "' is created twice: a layer name is used twice in one scope");
    }
    String device = null;
    if (placement != null) {
      long bytes = Math.max(1, shape.size()) * (type == TFloat64.class || type == org.tensorflow.types.TInt64.class
          ? 8 : 4);
      device = placement.deviceFor(name, bytes);
    }
    Ops at = device == null ? tf : tf.withDevice(DeviceSpecs.parse(device));
    GraphOperation op = graph.opBuilder("VariableV2", name, at.scope())
        .setAttr("shape", shape)
        .setAttr("dtype", TensorTypeRegistry.find(type).dataType())
        .build();
    Output<T> ref = op.output(0);
    Output<T> read = graph.opBuilder("Identity", name + "/read", at.scope()).addInput(ref).build().output(0);
    Op assign = at.assign(ref, initial);
    Var v = new Var(name, ref, read, shape, type, kind, assign);
    vars.put(name, v);
    byRead.put(read, v);
    byRef.put(ref, v);
    return ref;
  }

  /** The two-element int64 seed of a variable's initialiser: a hash of the store seed and the name. */
  private long[] initSeed(String name) {
    long h = 1125899906842597L;
    for (int i = 0; i < name.length(); i++) {
      h = 31 * h + name.charAt(i);
    }
    return new long[] {seed, h};
  }

  public Var get(String name) {
    Var v = vars.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no variable named '" + name + "'");
    }
    return v;
  }

  public boolean contains(String name) {
    return vars.containsKey(name);
  }

  public List<Var> all() {
    return Collections.unmodifiableList(new ArrayList<>(vars.values()));
  }

  public List<Var> ofKind(Kind... kinds) {
    List<Var> out = new ArrayList<>();
    for (Var v : vars.values()) {
      for (Kind k : kinds) {
        if (v.kind() == k) {
          out.add(v);
        }
      }
    }
    return out;
  }

  /** Trainable variables whose name starts with {@code prefix} (a network of a multi-network model, e.g. a GAN's "generator/"). */
  public List<Var> trainable(String prefix) {
    List<Var> out = new ArrayList<>();
    for (Var v : ofKind(Kind.TRAINABLE)) {
      if (v.name().startsWith(prefix)) {
        out.add(v);
      }
    }
    return out;
  }

  /** Number of scalars in the trainable variables: the parameter count a paper reports. */
  public long parameterCount() {
    long n = 0;
    for (Var v : ofKind(Kind.TRAINABLE)) {
      n += v.size();
    }
    return n;
  }

  /** An op that runs the initialisers of the given variables. */
  public Op initializer(List<Var> which) {
    List<Op> ops = new ArrayList<>();
    for (Var v : which) {
      ops.add(v.initializer());
    }
    return tf.withControlDependencies(ops).noOp();
  }

  /** An op that runs every initialiser. */
  public Op initializer() {
    return initializer(all());
  }
}
