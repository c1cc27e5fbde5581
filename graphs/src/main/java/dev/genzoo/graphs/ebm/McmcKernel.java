package dev.genzoo.graphs.ebm;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * One Markov transition x -> x' that leaves exp(-U) invariant (exactly, for Metropolis-adjusted kernels; up to the
 * discretisation bias, for unadjusted Langevin), as graph ops. Randomness is TensorFlow's stateless draws keyed by a
 * [2] int64 seed, so a chain is a pure function of its start and seeds. Kernels compose by unrolling
 * ({@link #unroll}): the k steps of contrastive divergence or of an IGEBM training step live in one graph and run in
 * one {@code Session.run}.
 */
@FunctionalInterface
public interface McmcKernel {
  /**
   * The result of one transition.
   *
   * @param x the new state, shape of the input
   * @param accepted [N] per-chain acceptance indicators (1 accepted, 0 rejected) for Metropolis kernels; null for
   *     kernels that always move
   */
  record Move(Operand<TFloating> x, Operand<TFloating> accepted) {}

  /** One transition from {@code x} ([N, ...]) under {@code energy}, with randomness from {@code seed} ([2] int64). */
  Move step(Ops tf, Energy energy, Operand<TFloating> x, Operand<TInt64> seed);

  /**
   * {@code k} transitions unrolled in the graph; step i draws its randomness from seed + [0, i + 1], so every step of
   * every training iteration gets its own stream when {@code seed} is the iteration's seed. Returns the final move
   * (its acceptance indicators are averaged over the k steps).
   */
  default Move unroll(Ops tf, Energy energy, Operand<TFloating> x, Operand<TInt64> seed, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("the number of MCMC steps must be at least 1, got " + k);
    }
    Operand<TFloating> cur = x;
    Operand<TFloating> acceptSum = null;
    for (int i = 0; i < k; i++) {
      Move m = step(tf, energy, cur, tf.math.add(seed, tf.constant(new long[] {0, i + 1L})));
      cur = m.x();
      if (m.accepted() != null) {
        acceptSum = acceptSum == null ? m.accepted() : tf.math.add(acceptSum, m.accepted());
      }
    }
    Operand<TFloating> rate = acceptSum == null ? null
        : tf.math.div(acceptSum, tf.dtypes.cast(tf.constant((float) k), acceptSum.type()));
    return new Move(cur, rate);
  }
}
