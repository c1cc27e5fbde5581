package dev.genzoo.graphs.ebm;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;

/**
 * Independent in-graph random streams for the training objectives of this package, derived from one [2] int64 step
 * seed: stream {@code tag} uses seed + [tag * 0x9e3779b97f4a7c15, 0] (the golden-ratio increment of SplitMix64, mod
 * 2^64). Distinct tags land far apart in the first seed word, so the small offsets that samplers add inside a stream
 * (seed + [1, 0] and [2, 0] in {@link RejectionSampler} and {@link Mala}, seed + [0, i + 1] in
 * {@link McmcKernel#unroll}) never make two streams collide.
 */
final class ObjectiveSeeds {
  private static final long GAMMA = 0x9e3779b97f4a7c15L;

  private ObjectiveSeeds() {}

  /** The stream {@code tag} of {@code seed}. */
  static Operand<TInt64> derive(Ops tf, Operand<TInt64> seed, long tag) {
    return tf.math.add(seed, tf.constant(new long[] {tag * GAMMA, 0}));
  }
}
