package dev.genzoo.data;

/**
 * The one way genzoo derives sub-seeds from a user's seed: a SplitMix64-style hash of the seed and a list of parts
 * (a tag, a step, an epoch, ...). Every stream of randomness that must be reproducible (batch permutations,
 * augmentations, dequantisation noise, toy samples, in-graph random ops) takes its seed from here, so that the same
 * {@code (seed, parts)} always gives the same numbers on every machine.
 *
 * <p>The hash, with {@code z} the SplitMix64 finaliser (Stafford's "Mix13": {@code z ^= z >>> 30;
 * z *= 0xbf58476d1ce4e5b9; z ^= z >>> 27; z *= 0x94d049bb133111eb; z ^= z >>> 31}) and
 * {@code γ = 0x9e3779b97f4a7c15} (the golden-ratio increment), all arithmetic modulo 2^64:
 * <pre>
 *   h = seed
 *   for each part p:  h = z(h + γ) ^ p
 *   return z(h + γ)
 * </pre>
 * With no parts, {@code mix(seed)} is the first output of a SplitMix64 generator started at {@code seed} (Steele, Lea
 * and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014), which is also
 * {@code new java.util.SplittableRandom(seed).nextLong()}. Each part is folded into a fully mixed state, so the
 * result depends on the order of the parts and on every bit of each.
 */
public final class Seeds {
  /** The golden-ratio increment of SplitMix64. */
  static final long GAMMA = 0x9e3779b97f4a7c15L;

  private Seeds() {}

  /** The sub-seed for {@code parts} under {@code seed} (see the class comment for the exact hash). */
  public static long mix(long seed, long... parts) {
    long h = seed;
    for (long p : parts) {
      h = finalise(h + GAMMA) ^ p;
    }
    return finalise(h + GAMMA);
  }

  /** The SplitMix64 output finaliser (Stafford's Mix13), a bijection of 64-bit words. */
  static long finalise(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A 64-bit tag made of up to eight ASCII characters, for readable stream names ("perm", "augment"). */
  static long tag(String name) {
    if (name.length() > 8) {
      throw new IllegalArgumentException("seed tag '" + name + "' is longer than 8 characters");
    }
    long t = 0;
    for (int i = 0; i < name.length(); i++) {
      t = (t << 8) | (name.charAt(i) & 0xff);
    }
    return t;
  }
}
