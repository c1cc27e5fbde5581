package dev.genzoo.graphs.nn;

import java.util.List;
import java.util.regex.Pattern;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A position in the variable hierarchy: {@code scope.child("level_0").child("step_3")} names the variables created
 * below it {@code .../level_0/step_3/...}. Layers receive a scope, create their variables in it at construction, and
 * add ops in {@code call}. The scope is the checkpoint schema: renaming a child breaks every saved checkpoint.
 */
public final class VarScope {
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");

  private final VarStore store;
  private final String path;
  private final List<Op> reuseAfter;

  VarScope(VarStore store, String path) {
    this(store, path, null);
  }

  private VarScope(VarStore store, String path, List<Op> reuseAfter) {
    this.store = store;
    this.path = path;
    this.reuseAfter = reuseAfter;
  }

  /**
   * This scope in reuse mode (TF1's {@code reuse=True}): building the same layers again under it creates no variables
   * but reads the existing ones by name, each through a fresh {@code Identity} that runs after {@code after}. A second
   * copy of a network built this way sees the weights as updated by those ops within the same {@code Session.run}:
   * a GAN's critic after each of its n_dis updates, in one run.
   */
  public VarScope reuseAfter(List<Op> after) {
    return new VarScope(store, path, List.copyOf(after));
  }

  /** True when this scope reads existing variables instead of creating them. */
  public boolean isReuse() {
    return reuseAfter != null;
  }

  /** A sub-scope; {@code name} is one path segment such as {@code conv_1} or {@code level_0}. */
  public VarScope child(String name) {
    if (!SEGMENT.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid scope name '" + name + "' under '" + path + "'");
    }
    return new VarScope(store, path.isEmpty() ? name : path + "/" + name, reuseAfter);
  }

  public VarScope child(String prefix, int index) {
    return child(prefix + "_" + index);
  }

  /** The full name of a variable {@code name} in this scope. */
  public String nameOf(String name) {
    return path.isEmpty() ? name : path + "/" + name;
  }

  public String path() {
    return path;
  }

  /**
   * A trainable variable; returns its value ({@code <name>/read}) for computation. Assign to it with
   * {@link VarStore#assign}.
   */
  public Output<TFloating> variable(String name, long[] shape, Initializer init) {
    if (reuseAfter != null) {
      return store.readAfter(nameOf(name), shape, VarStore.Kind.TRAINABLE, reuseAfter);
    }
    return store.read(store.create(nameOf(name), shape, VarStore.Kind.TRAINABLE, init));
  }

  /**
   * A saved, non-trainable variable (moving statistics, fixed permutations, power-iteration vectors); returns its
   * value. Assign to it with {@link VarStore#assign}.
   */
  public Output<TFloating> state(String name, long[] shape, Initializer init) {
    if (reuseAfter != null) {
      return store.readAfter(nameOf(name), shape, VarStore.Kind.STATE, reuseAfter);
    }
    return store.read(store.create(nameOf(name), shape, VarStore.Kind.STATE, init));
  }

  public VarStore store() {
    return store;
  }

  public Ops tf() {
    return store.tf();
  }

  public Class<TFloating> dtype() {
    return store.dtype();
  }

  /** A scalar constant in the model dtype. */
  public Operand<TFloating> constant(double v) {
    return Tensors.constant(store.tf(), store.dtype(), v);
  }
}
