package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** NICE's final scaling layer (Dinh et al. 2015, section 3.3): y = x * exp(log_scale), log|det| = sum log_scale. */
final class DiagonalScale implements FlowLayer {
  private final Output<TFloating> logScale;

  DiagonalScale(VarScope scope, long dims) {
    this.logScale = scope.variable("log_scale", new long[] {dims}, Initializer.zeros());
  }

  @Override
  public Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet) {
    logDet.add(Tensors.sum(tf, logScale, 0));
    return tf.math.mul(x, tf.math.exp(logScale));
  }

  @Override
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    return tf.math.mul(y, tf.math.exp(tf.math.neg(logScale)));
  }
}
