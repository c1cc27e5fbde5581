package dev.genzoo.graphs.export;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.While;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * A counted loop {@code for (i = 0; i < count; i++) state = step(i, state)} as one TensorFlow {@code While} op in a
 * model's graph, with a step built from the model's own layers: how an iterative sampler (DDPM's reverse process,
 * annealed Langevin dynamics, Gibbs sweeps) becomes a single graph that a SavedModel can hold.
 *
 * <p>Usage: {@link #GraphLoop(Ops, String)} creates the counter placeholder {@link #counter()}; {@link #carry} and
 * {@link #invariant} create placeholders for the loop state; the caller builds the step from them with the model's
 * usual code (in the same graph, so the layers read their variables as always); {@link #finish} then turns the step
 * into the loop's body function and adds the {@code While}.
 *
 * <p>How the body is made: TensorFlow functions cannot read a graph's {@code VariableV2} ops, so {@link #finish} walks
 * back from the step's outputs to the placeholders and collects every variable read ({@code name/read}, the
 * {@code Identity} of a {@code VariableV2}) on the way; those reads become extra loop inputs that the body passes
 * through unchanged. The body function is the step's subgraph between its placeholders (and the reads) and its
 * outputs ({@link ConcreteFunction#create(Signature, org.tensorflow.Graph)}); the step's own ops stay in the graph,
 * unused by anything else. The loop's result equals running the step from Java {@code count} times with the same
 * inputs, kernel for kernel.
 */
public final class GraphLoop {
  private static final AtomicLong NAMES = new AtomicLong();

  private final Ops tf;
  private final Graph graph;
  private final String name;
  private final Placeholder<TInt32> counter;
  private final List<Placeholder<?>> carried = new ArrayList<>();
  private final List<Placeholder<?>> invariants = new ArrayList<>();
  private boolean finished;

  /**
   * @param tf the model graph's ops, ideally under a scope of its own (the placeholders are named there)
   * @param name a short name for the loop's functions (letters, digits, underscores)
   */
  public GraphLoop(Ops tf, String name) {
    if (!name.matches("[A-Za-z][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("loop name '" + name + "' must be letters, digits and underscores");
    }
    if (!(tf.scope().env() instanceof Graph g)) {
      throw new IllegalArgumentException("loop " + name + ": a graph loop needs graph ops, not eager ones");
    }
    this.graph = g;
    this.tf = tf.withSubScope(name);
    this.name = name;
    this.counter = this.tf.withName("i").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
  }

  /** The loop counter i (int32 scalar, 0 on the first step) as seen by the step. */
  public Placeholder<TInt32> counter() {
    return counter;
  }

  /** A loop-carried tensor: the step reads its current value here and returns the next one to {@link #finish}. */
  public <T extends TType> Placeholder<T> carry(String label, Class<T> type, Shape shape) {
    requireOpen();
    Placeholder<T> p = tf.withName(label).placeholder(type, Placeholder.shape(shape));
    carried.add(p);
    return p;
  }

  /** A tensor the step reads but does not change (a seed, a label vector): passed through every iteration. */
  public <T extends TType> Placeholder<T> invariant(String label, Class<T> type, Shape shape) {
    requireOpen();
    Placeholder<T> p = tf.withName(label).placeholder(type, Placeholder.shape(shape));
    invariants.add(p);
    return p;
  }

  /**
   * Adds the loop and returns the final values of the carried tensors, in the order of {@link #carry}.
   *
   * @param count the number of iterations
   * @param next the step's new value of each carried tensor, in the order of {@link #carry}
   * @param initial each carried tensor's value before the first step, in the same order
   * @param invariantValues each invariant's value, in the order of {@link #invariant}
   */
  public List<Output<?>> finish(int count, List<? extends Operand<?>> next, List<? extends Operand<?>> initial,
      List<? extends Operand<?>> invariantValues) {
    requireOpen();
    if (count < 0) {
      throw new IllegalArgumentException("loop " + name + ": negative count " + count);
    }
    if (next.size() != carried.size() || initial.size() != carried.size()
        || invariantValues.size() != invariants.size()) {
      throw new IllegalArgumentException("loop " + name + ": " + carried.size() + " carried and " + invariants.size()
          + " invariant tensors, but " + next.size() + " next, " + initial.size() + " initial and "
          + invariantValues.size() + " invariant values given");
    }
    finished = true;
    List<Operand<?>> inputs = new ArrayList<>();
    inputs.add(counter);
    inputs.addAll(carried);
    inputs.addAll(invariants);
    List<Output<?>> reads = variableReads(next, inputs);

    Ops b = tf.withSubScope("body");
    Signature.Builder body = Signature.builder().key(uniqueName("body"));
    List<Operand<?>> outs = new ArrayList<>();
    outs.add(b.math.add(counter, b.constant(1)));
    outs.addAll(next);
    for (Placeholder<?> p : invariants) {
      outs.add(b.identity(p));
    }
    for (Output<?> r : reads) {
      outs.add(b.identity(r));
    }
    List<Operand<?>> all = new ArrayList<>(inputs);
    all.addAll(reads);
    for (int k = 0; k < all.size(); k++) {
      body.input("in_" + k, all.get(k));
      body.output("out_" + k, outs.get(k));
    }
    List<Class<? extends TType>> types = new ArrayList<>();
    for (Operand<?> o : all) {
      types.add(o.type());
    }
    String condName = uniqueName("cond");
    List<Operand<?>> start = new ArrayList<>();
    start.add(tf.constant(0));
    start.addAll(initial);
    start.addAll(invariantValues);
    start.addAll(reads);
    for (int k = 0; k < all.size(); k++) {
      if (start.get(k).type() != types.get(k)) {
        throw new IllegalArgumentException("loop " + name + ": input " + k + " is " + start.get(k).type().getSimpleName()
            + " but the step expects " + types.get(k).getSimpleName());
      }
    }
    try (ConcreteFunction bodyFn = ConcreteFunction.create(body.build(), graph);
         ConcreteFunction condFn = ConcreteFunction.create(ops -> {
           Signature.Builder s = Signature.builder().key(condName);
           Placeholder<TInt32> i = null;
           for (int k = 0; k < types.size(); k++) {
             Placeholder<? extends TType> p = ops.placeholder(types.get(k));
             if (k == 0) {
               @SuppressWarnings("unchecked")
               Placeholder<TInt32> first = (Placeholder<TInt32>) p;
               i = first;
             }
             s.input("in_" + k, p);
           }
           Operand<TBool> more = ops.math.less(i, ops.constant(count));
           return s.output("more", more).build();
         })) {
      While loop = tf.withName("loop").whileOp(start, condFn, bodyFn);
      List<Output<?>> result = new ArrayList<>();
      for (int k = 0; k < carried.size(); k++) {
        result.add(loop.output().get(1 + k));
      }
      return result;
    }
  }

  private String uniqueName(String what) {
    return "genzoo_" + name + "_" + what + "_" + NAMES.incrementAndGet();
  }

  private void requireOpen() {
    if (finished) {
      throw new IllegalStateException("loop " + name + " is already finished");
    }
  }

  /**
   * The variable reads the outputs depend on, walking back from them to {@code inputs}: each {@code Identity} of a
   * {@code VariableV2}. Anything else that would need feeding (a placeholder that is not an input, a raw
   * {@code VariableV2} output) is an error naming the op.
   */
  private List<Output<?>> variableReads(List<? extends Operand<?>> outputs, List<Operand<?>> inputs) {
    Set<GraphOperation> stop = new HashSet<>();
    for (Operand<?> in : inputs) {
      stop.add((GraphOperation) in.op());
    }
    Set<Output<?>> reads = new LinkedHashSet<>();
    Set<GraphOperation> seen = new HashSet<>();
    Deque<GraphOperation> todo = new ArrayDeque<>();
    for (Operand<?> o : outputs) {
      todo.add((GraphOperation) o.op());
    }
    while (!todo.isEmpty()) {
      GraphOperation op = todo.poll();
      if (stop.contains(op) || !seen.add(op)) {
        continue;
      }
      String type = op.type();
      if (type.equals("Identity") && op.numInputs() == 1
          && ((GraphOperation) op.inputs().get(0).op()).type().equals("VariableV2")) {
        if (!op.controlInputs().isEmpty()) {
          throw new IllegalStateException("loop " + name + ": the step reads variable " + op.name()
              + " after other ops (control dependencies), which a loop body cannot keep");
        }
        reads.add(op.output(0));
        continue;
      }
      if (type.equals("VariableV2") || type.equals("Placeholder") || type.equals("PlaceholderWithDefault")) {
        throw new IllegalStateException("loop " + name + ": the step depends on " + type + " '" + op.name()
            + "', which is not one of its inputs" + (type.equals("VariableV2") ? " (read it through its Identity)" : ""));
      }
      for (Operand<?> in : op.inputs()) {
        todo.add((GraphOperation) in.op());
      }
      todo.addAll(op.controlInputs());
    }
    return new ArrayList<>(reads);
  }
}
