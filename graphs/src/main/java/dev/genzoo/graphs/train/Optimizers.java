package dev.genzoo.graphs.train;

import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Optimiser steps built from TensorFlow's raw training ops ({@code ApplyAdam}, {@code ApplyAdaMax},
 * {@code ApplyMomentum}), with slots named after the variable they serve: {@code <slotScope>/<variable>/m} and
 * {@code .../v}. Several optimisers (a GAN's generator and critic) live side by side in one graph, each over its own
 * variables and slot scope.
 */
public final class Optimizers {
  private Optimizers() {}

  /** What {@link #minimize} built: the update op and the global gradient norm before clipping. */
  public record Step(Op apply, Operand<TFloating> gradNorm, Operand<TFloating> learningRate) {}

  /**
   * Gradients of {@code loss} with respect to {@code vars}, optional global-norm clipping, and one optimiser update.
   *
   * @param slotScope prefix of the slot variables, e.g. {@code optimizer} or {@code optimizer/generator}
   * @param step the global step before this update (int64 scalar)
   */
  public static Step minimize(VarStore store, String slotScope, TrainingConfig cfg, Operand<TFloating> loss,
      List<Var> vars, Operand<TInt64> step) {
    List<Operand<?>> reads = new ArrayList<>();
    for (Var v : vars) {
      reads.add(v.read());
    }
    return minimize(store, slotScope, cfg, loss, vars, reads, step);
  }

  /**
   * As {@link #minimize(VarStore, String, TrainingConfig, Operand, List, Operand)}, with the gradient taken with
   * respect to the given reads of the variables (one per variable, in order): the re-reads of a network copy built
   * under {@link dev.genzoo.graphs.nn.VarScope#reuseAfter}, for several updates of one network in one run. Calling it
   * again with the same slot scope reuses the slots.
   */
  public static Step minimize(VarStore store, String slotScope, TrainingConfig cfg, Operand<TFloating> loss,
      List<Var> vars, List<Operand<?>> reads, Operand<TInt64> step) {
    if (reads.size() != vars.size()) {
      throw new IllegalArgumentException(vars.size() + " variables but " + reads.size() + " reads");
    }
    List<Operand<TFloating>> grads = gradients(store.tf(), loss, vars, reads);
    return applyGradients(store, slotScope, cfg, vars, grads, step);
  }

  /** The gradient of {@code loss} with respect to each variable's read, built with {@code tf} (its name scope). */
  public static List<Operand<TFloating>> gradients(Ops tf, Operand<TFloating> loss, List<Var> vars) {
    List<Operand<?>> reads = new ArrayList<>();
    for (Var v : vars) {
      reads.add(v.read());
    }
    return gradients(tf, loss, vars, reads);
  }

  private static List<Operand<TFloating>> gradients(Ops tf, Operand<TFloating> loss, List<Var> vars,
      List<Operand<?>> reads) {
    requireConnected(loss, vars, reads);
    Gradients g = tf.gradients(loss, new ArrayList<>(reads));
    List<Operand<TFloating>> grads = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      @SuppressWarnings("unchecked")
      Operand<TFloating> gi = (Operand<TFloating>) (Operand<?>) g.dy(i);
      if (gi == null) {
        throw new IllegalStateException("the loss does not depend on variable " + vars.get(i).name());
      }
      grads.add(gi);
    }
    return grads;
  }

  /**
   * Optional global-norm clipping of {@code grads} (one per variable), the learning-rate schedule, and one optimiser
   * update of {@code vars}.
   */
  public static Step applyGradients(VarStore store, String slotScope, TrainingConfig cfg, List<Var> vars,
      List<Operand<TFloating>> grads, Operand<TInt64> step) {
    Ops tf = store.tf();
    Class<TFloating> dt = store.dtype();
    Operand<TFloating> norm = globalNorm(tf, dt, grads);
    if (cfg.gradClipNorm() > 0) {
      Operand<TFloating> clip = Tensors.constant(tf, dt, cfg.gradClipNorm());
      Operand<TFloating> factor = tf.math.div(clip, tf.math.maximum(norm, clip));
      List<Operand<TFloating>> clipped = new ArrayList<>();
      for (Operand<TFloating> gi : grads) {
        clipped.add(tf.math.mul(gi, factor));
      }
      grads = clipped;
    }
    Operand<TFloating> lr = LearningRate.schedule(tf, dt, cfg, step);
    Op apply = apply(store, slotScope, cfg.optimizer(), vars, grads, lr, step);
    return new Step(apply, norm, lr);
  }

  /**
   * Fails, naming the variables, when the loss does not depend on some of them (through ops other than
   * StopGradient). TensorFlow's C API crashes the process in that case instead of returning no gradient.
   */
  static void requireConnected(Operand<TFloating> loss, List<Var> vars) {
    List<Operand<?>> reads = new ArrayList<>();
    for (Var v : vars) {
      reads.add(v.read());
    }
    requireConnected(loss, vars, reads);
  }

  static void requireConnected(Operand<TFloating> loss, List<Var> vars, List<Operand<?>> reads) {
    java.util.Set<org.tensorflow.GraphOperation> seen = new java.util.HashSet<>();
    java.util.ArrayDeque<org.tensorflow.GraphOperation> todo = new java.util.ArrayDeque<>();
    todo.add((org.tensorflow.GraphOperation) loss.op());
    while (!todo.isEmpty()) {
      org.tensorflow.GraphOperation op = todo.pop();
      if (!seen.add(op) || op.type().equals("StopGradient")) {
        continue;
      }
      for (Operand<?> in : op.inputs()) {
        todo.push((org.tensorflow.GraphOperation) in.op());
      }
    }
    List<String> unused = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      if (!seen.contains((org.tensorflow.GraphOperation) reads.get(i).op())) {
        unused.add(vars.get(i).name());
      }
    }
    if (!unused.isEmpty()) {
      throw new IllegalStateException("the loss does not depend on " + unused.size() + " trainable variable(s): "
          + String.join(", ", unused.subList(0, Math.min(10, unused.size())))
          + (unused.size() > 10 ? ", ..." : "") + "; give the optimiser only the variables the loss uses");
    }
  }

  /** sqrt(sum_i ||g_i||^2). */
  public static Operand<TFloating> globalNorm(Ops tf, Class<TFloating> dt, List<Operand<TFloating>> grads) {
    Operand<TFloating> total = Tensors.constant(tf, dt, 0.0);
    for (Operand<TFloating> gi : grads) {
      total = tf.math.add(total, tf.sum(tf.math.square(gi), tf.range(tf.constant(0), tf.rank(gi), tf.constant(1))));
    }
    return tf.math.sqrt(total);
  }

  /** Applies {@code grads} to {@code vars} with the configured algorithm; one op for all variables. */
  public static Op apply(VarStore store, String slotScope, OptimizerConfig o, List<Var> vars,
      List<Operand<TFloating>> grads, Operand<TFloating> lr, Operand<TInt64> step) {
    Ops tf = store.tf();
    Class<TFloating> dt = store.dtype();
    Operand<TFloating> t = tf.math.add(tf.dtypes.cast(step, dt), Tensors.constant(tf, dt, 1.0));
    Operand<TFloating> beta1 = Tensors.constant(tf, dt, o.beta1());
    Operand<TFloating> beta2 = Tensors.constant(tf, dt, o.beta2());
    Operand<TFloating> eps = Tensors.constant(tf, dt, o.epsilon());
    Operand<TFloating> beta1Power = tf.math.pow(beta1, t);
    Operand<TFloating> beta2Power = tf.math.pow(beta2, t);
    List<Op> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Var v = vars.get(i);
      Output<TFloating> ref = v.as();
      long[] shape = v.shape().asArray();
      String slot = slotScope + "/" + v.name();
      switch (o.name()) {
        case ADAM -> {
          Output<TFloating> m = slot(store, slot + "/m", shape);
          Output<TFloating> s = slot(store, slot + "/v", shape);
          updates.add(tf.train.applyAdam(ref, m, s, beta1Power, beta2Power, lr, beta1, beta2, eps, grads.get(i)));
        }
        case ADAMAX -> {
          Output<TFloating> m = slot(store, slot + "/m", shape);
          Output<TFloating> s = slot(store, slot + "/v", shape);
          updates.add(tf.train.applyAdaMax(ref, m, s, beta1Power, lr, beta1, beta2, eps, grads.get(i)));
        }
        case SGD -> {
          if (o.beta1() == 0) {
            updates.add(tf.train.applyGradientDescent(ref, lr, grads.get(i)));
          } else {
            Output<TFloating> m = slot(store, slot + "/momentum", shape);
            updates.add(tf.train.applyMomentum(ref, m, lr, grads.get(i), beta1));
          }
        }
      }
    }
    return tf.withControlDependencies(updates).noOp();
  }

  /** An optimiser slot: created at zero on first use, the same variable on later uses (several updates per run). */
  private static Output<TFloating> slot(VarStore store, String name, long[] shape) {
    if (store.contains(name)) {
      return store.get(name).as();
    }
    return store.create(name, shape, VarStore.Kind.OPTIMIZER, dev.genzoo.graphs.nn.Initializer.zeros());
  }

  /** {@code coefficient} * sum of squared entries of the variables whose name ends in {@code /kernel}. */
  public static Operand<TFloating> l2Penalty(VarStore store, List<Var> vars, double coefficient) {
    Ops tf = store.tf();
    Class<TFloating> dt = store.dtype();
    Operand<TFloating> total = Tensors.constant(tf, dt, 0.0);
    for (Var v : vars) {
      if (v.name().endsWith("/kernel")) {
        Output<TFloating> value = v.value();
        total = tf.math.add(total, tf.sum(tf.math.square(value),
            tf.range(tf.constant(0), tf.rank(value), tf.constant(1))));
      }
    }
    return tf.math.mul(total, Tensors.constant(tf, dt, coefficient));
  }
}
