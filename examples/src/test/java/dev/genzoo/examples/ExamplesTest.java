package dev.genzoo.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.checkpoints.Bundle;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples run as a user would run them. */
class ExamplesTest {
  @TempDir
  Path tmp;

  @BeforeEach
  void isolate() {
    System.setProperty("genzoo.home", tmp.resolve("home").toString());
  }

  @AfterEach
  void restore() {
    System.clearProperty("genzoo.home");
  }

  @Test
  void loadAndSampleWritesAGrid() throws Exception {
    Path png = tmp.resolve("samples.png");
    LoadAndSample.main(new String[] {"flow-mnist", png.toString()});
    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() >= 512, "grid width " + img.getWidth());
  }

  @Test
  void demoDigitsAreMnistShaped() throws Exception {
    Path dir = tmp.resolve("digits");
    DemoDigits.write(dir, 20, 1);
    BufferedImage img = ImageIO.read(dir.resolve("7/0007.png").toFile());
    assertEquals(28, img.getWidth());
    assertEquals(28, img.getHeight());
    int bright = 0;
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        bright += (img.getRaster().getSample(x, y, 0) > 128) ? 1 : 0;
      }
    }
    assertTrue(bright > 20 && bright < 400, "stroke pixels " + bright);
  }

  /** Fine-tuning the MNIST flow on a folder of PNG digits lowers its bits/dim on that folder. */
  @Test
  void fineTuningOnAFolderLowersItsBitsPerDim() throws Exception {
    Path dir = tmp.resolve("my-digits");
    DemoDigits.write(dir, 200, 7);
    FineTuneOnFolder.Outcome o = FineTuneOnFolder.run("flow-mnist", dir, tmp.resolve("run"), 160);
    System.out.printf("folder bits/dim: %.4f before, %.4f after%n", o.bpdBefore(), o.bpdAfter());
    // Both evaluations use the same images and the same dequantisation noise, so the difference is the model's.
    assertTrue(o.bpdAfter() < o.bpdBefore() - 0.05, o.toString());
    try (Bundle b = Bundle.open(o.bundle())) {
      assertEquals("flow-mnist", b.manifest().provenance().parent().name());
    }
  }
}
