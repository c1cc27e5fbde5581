package dev.genzoo.graphs.export;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.genzoo.data.Seeds;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TInt64;

/** {@link GraphSeeds}: the in-graph SplitMix64 hash against the JDK's SplitMix64 and the hash's definition. */
class GraphSeedsTest {
  /**
   * Seeds.mix with no parts is SplitMix64's first output (Steele, Lea and Flood 2014), so the graph must give
   * {@code new SplittableRandom(seed).nextLong()}; with parts, the fold h = z(h + gamma) ^ p of Seeds' definition.
   */
  @Test
  void graphSeedsMatchSplitMix64AndSeedsMix() {
    long[] seeds = {0, 1, 7, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0x123456789abcdefL, -987654321L};
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TInt64> in = tf.placeholder(TInt64.class);
      var plain = GraphSeeds.mix(tf, in);
      var parts = GraphSeeds.mix(tf, in, 0, 5, -3);
      try (TInt64 t = TInt64.vectorOf(seeds); Result r = s.runner().feed(in, t).fetch(plain).fetch(parts).run()) {
        TInt64 a = (TInt64) r.get(0);
        TInt64 b = (TInt64) r.get(1);
        for (int i = 0; i < seeds.length; i++) {
          assertEquals(new SplittableRandom(seeds[i]).nextLong(), a.getLong(i), "seed " + seeds[i]);
          long h = seeds[i];
          for (long p : new long[] {0, 5, -3}) {
            h = mix13(h + 0x9e3779b97f4a7c15L) ^ p;
          }
          assertEquals(mix13(h + 0x9e3779b97f4a7c15L), b.getLong(i), "seed " + seeds[i] + " with parts");
          assertEquals(Seeds.mix(seeds[i], 0, 5, -3), b.getLong(i), "Seeds.mix of seed " + seeds[i]);
        }
      }
    }
  }

  /** Stafford's Mix13, as written in the SplitMix64 paper. */
  private static long mix13(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
