package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.ActNorm;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** {@link ActNorm} as a flow layer: log|det| = H * W * sum(logs). */
final class ActNormLayer implements FlowLayer {
  private final ActNorm norm;

  ActNormLayer(VarScope scope, long channels) {
    this.norm = new ActNorm(scope, channels);
  }

  @Override
  public Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet) {
    Operand<TFloating> y = norm.call(tf, pass, x);
    logDet.add(norm.logDet(tf, Flows.spatial(x)));
    return y;
  }

  @Override
  public Operand<TFloating> inverse(Ops tf, Operand<TFloating> y) {
    return norm.inverse(tf, y);
  }
}
