package dev.genzoo.graphs.export;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;

/**
 * {@link dev.genzoo.data.Seeds#mix} as graph ops on int64 tensors, so that an exported graph derives the same
 * sub-seeds from a seed fed at run time as genzoo does on the host: h = seed; for each part, h = z(h + gamma) ^ part;
 * return z(h + gamma), with z the SplitMix64 finaliser. TensorFlow's int64 Add and Mul wrap modulo 2^64 as Java's
 * long arithmetic does; its RightShift is arithmetic, so the logical shift {@code >>>} is a shift and a mask.
 */
public final class GraphSeeds {
  private static final long GAMMA = 0x9e3779b97f4a7c15L;

  private GraphSeeds() {}

  /** The sub-seed of {@code seed} (int64, any shape) for constant {@code parts}. */
  public static Operand<TInt64> mix(Ops tf, Operand<TInt64> seed, long... parts) {
    Operand<TInt64> h = seed;
    for (long p : parts) {
      h = tf.bitwise.bitwiseXor(finalise(tf, tf.math.add(h, tf.constant(GAMMA))), tf.constant(p));
    }
    return finalise(tf, tf.math.add(h, tf.constant(GAMMA)));
  }

  /** Stafford's Mix13: z ^= z >>> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >>> 27; z *= 0x94d049bb133111eb; z ^ z >>> 31. */
  static Operand<TInt64> finalise(Ops tf, Operand<TInt64> z) {
    z = tf.math.mul(tf.bitwise.bitwiseXor(z, shiftRightUnsigned(tf, z, 30)), tf.constant(0xbf58476d1ce4e5b9L));
    z = tf.math.mul(tf.bitwise.bitwiseXor(z, shiftRightUnsigned(tf, z, 27)), tf.constant(0x94d049bb133111ebL));
    return tf.bitwise.bitwiseXor(z, shiftRightUnsigned(tf, z, 31));
  }

  /** z >>> k for 0 < k < 64: the arithmetic shift with the sign-filled top k bits cleared. */
  static Operand<TInt64> shiftRightUnsigned(Ops tf, Operand<TInt64> z, int k) {
    return tf.bitwise.bitwiseAnd(tf.bitwise.rightShift(z, tf.constant((long) k)), tf.constant((1L << (64 - k)) - 1));
  }

  /** The stateless-op key [a, b] (int64 [2]) from two int64 scalars. */
  public static Operand<TInt64> key(Ops tf, Operand<TInt64> a, Operand<TInt64> b) {
    return tf.stack(java.util.List.of(a, b));
  }

  /** The stateless-op key [a, b] from an int64 scalar and a constant. */
  public static Operand<TInt64> key(Ops tf, Operand<TInt64> a, long b) {
    return key(tf, a, tf.constant(b));
  }
}
