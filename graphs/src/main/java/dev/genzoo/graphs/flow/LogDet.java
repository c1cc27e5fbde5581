package dev.genzoo.graphs.flow;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** The running sum of log|det J| through a flow; contributions are [N] per-example values or scalars. */
final class LogDet {
  private final Ops tf;
  private Operand<TFloating> total;

  LogDet(Ops tf, Operand<TFloating> perExampleZeros) {
    this.tf = tf;
    this.total = perExampleZeros;
  }

  void add(Operand<TFloating> contribution) {
    total = tf.math.add(total, contribution);
  }

  Operand<TFloating> total() {
    return total;
  }
}
