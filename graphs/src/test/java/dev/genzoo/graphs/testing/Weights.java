package dev.genzoo.graphs.testing;

import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Test helpers on a model's weights. */
public final class Weights {
  private Weights() {}

  /**
   * Adds N(0, sigma^2) noise to every trainable variable, so that zero-initialised layers (coupling outputs, priors)
   * are no longer the identity and a numerical test exercises every term.
   */
  public static void perturb(GenerativeModel model, double sigma, long seed) {
    VarStore store = model.variables();
    Ops tf = store.tf();
    List<Op> ops = new ArrayList<>();
    int i = 0;
    for (Var v : store.ofKind(VarStore.Kind.TRAINABLE)) {
      Operand<TFloating> noise = tf.math.mul(
          tf.random.statelessRandomNormal(tf.constant(v.shape()), tf.constant(new long[] {seed, i++}), store.dtype()),
          dev.genzoo.graphs.nn.Tensors.constant(tf, store.dtype(), sigma));
      ops.add(tf.assignAdd(v.<TFloating>as(), noise));
    }
    Op all = tf.withControlDependencies(ops).noOp();
    model.session().runner().addTarget(all).run().close();
  }
}
