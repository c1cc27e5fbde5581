package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Pass;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** One invertible map of a flow: forward adds its log|det J| (per example, or a scalar for all) to {@code logDet}. */
interface FlowLayer {
  Operand<TFloating> forward(Ops tf, Pass pass, Operand<TFloating> x, LogDet logDet);

  Operand<TFloating> inverse(Ops tf, Operand<TFloating> y);
}
