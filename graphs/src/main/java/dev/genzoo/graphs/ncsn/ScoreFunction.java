package dev.genzoo.graphs.ncsn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * A score s(x, sigma_i) ~ grad_x log p_{sigma_i}(x) as graph ops: a network, or an analytic score in tests. The
 * objectives and samplers take one of these, never a particular network.
 */
@FunctionalInterface
public interface ScoreFunction {
  /** {@code x}: [N, ...]; {@code sigmaIndex}: [N] int32 indices into the noise levels. */
  Operand<TFloating> apply(Ops tf, Operand<TFloating> x, Operand<TInt32> sigmaIndex);
}
