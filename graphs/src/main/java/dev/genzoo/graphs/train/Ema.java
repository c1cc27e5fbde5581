package dev.genzoo.graphs.train;

import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Exponential moving average of weights, "Polyak averaging" (Polyak & Juditsky 1992): after each step
 * shadow <- shadow - (1 - decay) (shadow - w). Shadows are {@code ema/<variable>}, saved in training checkpoints; an
 * exported model holds the shadows under the variables' own names. {@link #swapIn()} / {@link #swapOut()} put the
 * averaged weights in place for sampling during training and back again.
 */
public final class Ema {
  private final Map<String, Output<TFloating>> shadows = new LinkedHashMap<>();
  private final Op update;
  private final Op reset;
  private final Op swapIn;
  private final Op swapOut;
  private final double decay;

  /**
   * @param after the ops the update must follow (the optimiser step)
   */
  public Ema(VarStore store, List<Var> vars, double decay, List<Op> after) {
    Ops tf = store.tf();
    Class<TFloating> dt = store.dtype();
    this.decay = decay;
    Ops ordered = tf.withControlDependencies(after);
    List<Op> updates = new ArrayList<>();
    List<Op> resets = new ArrayList<>();
    List<Op> backups = new ArrayList<>();
    List<Output<TFloating>> backupVars = new ArrayList<>();
    for (Var v : vars) {
      Output<TFloating> w = v.value();
      Output<TFloating> shadow = store.create("ema/" + v.name(), v.shape().asArray(), VarStore.Kind.EMA,
          dev.genzoo.graphs.nn.Initializer.zeros());
      Output<TFloating> backup = store.create("ema_backup/" + v.name(), v.shape().asArray(), VarStore.Kind.SCRATCH,
          dev.genzoo.graphs.nn.Initializer.zeros());
      shadows.put(v.name(), store.read(shadow));
      // The ref, not w/read: under the control dependency it is read after the optimiser's update, whereas the
      // Identity w/read may already have run for the forward pass of the same step.
      Output<TFloating> updated = v.as();
      updates.add(ordered.assignSub(shadow,
          ordered.math.mul(ordered.math.sub(store.read(shadow), updated), Tensors.constant(ordered, dt, 1 - decay))));
      resets.add(tf.assign(shadow, w));
      backups.add(tf.assign(backup, w));
      backupVars.add(backup);
    }
    this.update = tf.withControlDependencies(updates).noOp();
    this.reset = tf.withControlDependencies(resets).noOp();
    Ops afterBackup = tf.withControlDependencies(backups);
    List<Op> loads = new ArrayList<>();
    List<Op> restores = new ArrayList<>();
    int i = 0;
    for (Var v : vars) {
      Output<TFloating> w = v.as();
      loads.add(afterBackup.assign(w, shadows.get(v.name())));
      restores.add(tf.assign(w, store.read(backupVars.get(i++))));
    }
    this.swapIn = tf.withControlDependencies(loads).noOp();
    this.swapOut = tf.withControlDependencies(restores).noOp();
  }

  public double decay() {
    return decay;
  }

  /** The per-step update; part of the training step. */
  public Op update() {
    return update;
  }

  /** Sets every shadow to the current weights (after initialisation or loading a parent model). */
  public Op reset() {
    return reset;
  }

  /** Saves the live weights aside and loads the averages in their place. */
  public Op swapIn() {
    return swapIn;
  }

  /** Puts the live weights saved by {@link #swapIn()} back. */
  public Op swapOut() {
    return swapOut;
  }

  /** The shadow of a variable, or null if it has none. */
  public Output<TFloating> shadowOf(String variable) {
    return shadows.get(variable);
  }
}
