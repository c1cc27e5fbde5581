package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeedsTest {
  @Test
  void noPartsIsTheFirstSplitMix64Output() {
    // The first output of SplitMix64 from state 0 (Steele et al. 2014; Vigna's splitmix64.c).
    assertEquals(0xe220a8397b1dcdafL, Seeds.mix(0));
    for (long s : new long[] {1, -1, 42, Long.MIN_VALUE, 0x0123456789abcdefL}) {
      assertEquals(new SplittableRandom(s).nextLong(), Seeds.mix(s), "seed " + s);
    }
  }

  @Test
  void matchesTheIndependentPythonReference() throws IOException {
    List<String> lines = Files.readAllLines(TestResources.resource("seeds/reference.txt"));
    assertEquals(11, lines.size());
    for (String line : lines) {
      String[] sides = line.split(" -> ");
      long[] args = Arrays.stream(sides[0].split(" ")).mapToLong(Long::parseLong).toArray();
      long expected = Long.parseLong(sides[1]);
      assertEquals(expected, Seeds.mix(args[0], Arrays.copyOfRange(args, 1, args.length)), line);
    }
  }

  @Test
  void orderAndEveryPartMatter() {
    assertNotEquals(Seeds.mix(42, 1, 2), Seeds.mix(42, 2, 1));
    assertNotEquals(Seeds.mix(42, 0), Seeds.mix(42));
    assertNotEquals(Seeds.mix(42, 0, 0), Seeds.mix(42, 0));
    assertEquals(Seeds.mix(7, 3, 9), Seeds.mix(7, 3, 9));
  }

  @Test
  void tagsPackAscii() {
    assertEquals(0x7065726dL, Seeds.tag("perm"));
    assertEquals(27432159818378868L, Seeds.tag("augment"));
  }
}
