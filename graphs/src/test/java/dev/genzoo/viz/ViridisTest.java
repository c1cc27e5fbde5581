package dev.genzoo.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ViridisTest {
  @Test
  void matchesMatplotlibForEveryProbeInTheFixture() throws IOException {
    // viridis.csv: t and matplotlib's 8-bit colour for it, made by viridis_fixture.py beside it.
    InputStream in = ViridisTest.class.getResourceAsStream("viridis.csv");
    assertNotNull(in, "fixture dev/genzoo/viz/viridis.csv missing from the test class path");
    int rows = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.startsWith("#") || line.isBlank()) {
          continue;
        }
        String[] f = line.split(",");
        double t = Double.parseDouble(f[0]);
        int expected = (Integer.parseInt(f[1]) << 16) | (Integer.parseInt(f[2]) << 8) | Integer.parseInt(f[3]);
        assertEquals(String.format("%06x", expected), String.format("%06x", Viridis.rgb(t)), "viridis(" + t + ")");
        rows++;
      }
    }
    assertTrue(rows > 100, "fixture has only " + rows + " rows");
  }

  @Test
  void knownAnchorsAndOutOfRangeValues() {
    // matplotlib's documented ends and middle: #440154, #21918c, #fde725
    assertEquals(0x440154, Viridis.rgb(0));
    assertEquals(0x21918c, Viridis.rgb(0.5));
    assertEquals(0xfde725, Viridis.rgb(1));
    assertEquals(0x440154, Viridis.rgb(Double.NaN));
    assertEquals(0x440154, Viridis.rgb(-3));
    assertEquals(0xfde725, Viridis.rgb(7));
    assertEquals(0, Viridis.index(1.0 / 256 - 1e-12));
    assertEquals(1, Viridis.index(1.0 / 256));
    assertEquals(255, Viridis.index(1.0));
    assertEquals(0x440154, Viridis.entry(0));
    assertThrows(IndexOutOfBoundsException.class, () -> Viridis.entry(256));
  }

  @Test
  void luminanceRisesMonotonicallyAlongTheMap() {
    // viridis is perceptually uniform: its lightness grows steadily from dark purple to yellow
    double previous = -1;
    for (int i = 0; i < Viridis.SIZE; i++) {
      int c = Viridis.entry(i);
      double y = 0.2126 * ((c >> 16) & 255) + 0.7152 * ((c >> 8) & 255) + 0.0722 * (c & 255);
      assertTrue(y > previous - 0.5, "luminance drops at entry " + i);
      previous = y;
    }
  }
}
