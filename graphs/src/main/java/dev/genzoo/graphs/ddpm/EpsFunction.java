package dev.genzoo.graphs.ddpm;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * A noise predictor eps(x_t, t) as graph ops: the network of a model, or an analytic predictor in tests. Samplers and
 * the variational bound take one of these, so they never depend on a particular network.
 */
@FunctionalInterface
public interface EpsFunction {
  /** {@code xt}: [N, ...] on the model scale; {@code t}: [N] int32 in 0..T-1. */
  Operand<TFloating> apply(Ops tf, Operand<TFloating> xt, Operand<TInt32> t);
}
