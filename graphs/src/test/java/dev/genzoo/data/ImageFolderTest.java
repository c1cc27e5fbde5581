package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.ImageFolder.Fit;
import dev.genzoo.data.ImageFolder.OnError;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
  @TempDir
  Path tmp;

  private static BufferedImage solid(int w, int h, int rgb) {
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        im.setRGB(x, y, rgb);
      }
    }
    return im;
  }

  private static Path png(Path file, BufferedImage im) throws IOException {
    Files.createDirectories(file.getParent());
    assertTrue(ImageIO.write(im, "png", file.toFile()));
    return file;
  }

  private static int[] rgb(ImageDataset d, int i, int y, int x) {
    return new int[] {d.pixel(i, y, x, 0), d.pixel(i, y, x, 1), d.pixel(i, y, x, 2)};
  }

  @Test
  void solidColoursStayAndLabelsComeFromSubfolders() throws IOException {
    png(tmp.resolve("dogs/b.png"), solid(40, 30, 0x102030));
    png(tmp.resolve("cats/z.png"), solid(17, 23, 0xc86432));
    png(tmp.resolve("cats/a.png"), solid(64, 64, 0x00ff7f));
    BufferedImage jpg = solid(24, 24, 0x3c78b4);
    Files.createDirectories(tmp.resolve("dogs"));
    assertTrue(ImageIO.write(jpg, "jpeg", tmp.resolve("dogs/c.JPG").toFile()));
    Files.writeString(tmp.resolve("dogs/notes.txt"), "not an image");
    Files.writeString(tmp.resolve(".hidden.png"), "ignored: hidden");

    for (Fit fit : Fit.values()) {
      ImageFolder.Result r = ImageFolder.read(tmp, 8, 6, 3, fit, OnError.FAIL);
      ImageDataset d = r.dataset();
      assertEquals(4, d.size());
      assertArrayEquals(new long[] {8, 6, 3}, d.exampleShape());
      assertEquals(List.of("cats", "dogs"), d.classNames());
      assertArrayEquals(new int[] {0, 0, 1, 1}, d.labels());
      assertEquals(List.of(tmp.resolve("cats/a.png"), tmp.resolve("cats/z.png"), tmp.resolve("dogs/b.png"),
          tmp.resolve("dogs/c.JPG")), r.files());
      assertTrue(r.skipped().isEmpty());
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 6; x++) {
          assertArrayEquals(new int[] {0x00, 0xff, 0x7f}, rgb(d, 0, y, x));
          assertArrayEquals(new int[] {0xc8, 0x64, 0x32}, rgb(d, 1, y, x));
          assertArrayEquals(new int[] {0x10, 0x20, 0x30}, rgb(d, 2, y, x));
          int[] j = rgb(d, 3, y, x);
          // JPEG is lossy; a flat colour survives within a few levels.
          assertTrue(Math.abs(j[0] - 0x3c) <= 3 && Math.abs(j[1] - 0x78) <= 3 && Math.abs(j[2] - 0xb4) <= 3,
              java.util.Arrays.toString(j));
        }
      }
    }
  }

  @Test
  void areaAveragingWithANonIntegerRatio() throws IOException {
    // 3 x 3 gray values v(y, x) = 30 y + 10 x + 5 shrunk to 2 x 2: each output pixel covers 1.5 source pixels per
    // axis, weights (2/3, 1/3) and (1/3, 2/3).
    BufferedImage im = new BufferedImage(3, 3, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 3; x++) {
        im.getRaster().setSample(x, y, 0, 30 * y + 10 * x + 5);
      }
    }
    png(tmp.resolve("g.png"), im);
    ImageDataset d = ImageFolder.read(tmp, 2, 2, 1, Fit.RESIZE, OnError.FAIL).dataset();
    double[] w0 = {2.0 / 3, 1.0 / 3, 0};
    double[] w1 = {0, 1.0 / 3, 2.0 / 3};
    double[][] w = {w0, w1};
    for (int oy = 0; oy < 2; oy++) {
      for (int ox = 0; ox < 2; ox++) {
        double s = 0;
        for (int y = 0; y < 3; y++) {
          for (int x = 0; x < 3; x++) {
            s += w[oy][y] * w[ox][x] * (30 * y + 10 * x + 5);
          }
        }
        assertEquals(Math.round(s), d.pixel(0, oy, ox, 0), "pixel " + oy + "," + ox);
      }
    }
    assertEquals(Math.round(5 + 30 * 1.0 / 3 + 10 * 1.0 / 3), d.pixel(0, 0, 0, 0)); // 18.33 -> 18
    assertNull(d.labels());
  }

  @Test
  void blocksShrinkToTheirColoursAndCentreCropCutsTheSides() throws IOException {
    // 4 x 4 of four 2 x 2 blocks -> 2 x 2 is each block's colour.
    BufferedImage blocks = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
    int[] colours = {0xff0000, 0x00ff00, 0x0000ff, 0xffffff};
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        blocks.setRGB(x, y, colours[(y / 2) * 2 + x / 2]);
      }
    }
    Path a = png(tmp.resolve("a/blocks.png"), blocks);
    ImageDataset d = ImageFolder.read(a.getParent(), 2, 2, 3, Fit.RESIZE, OnError.FAIL).dataset();
    assertArrayEquals(new int[] {255, 0, 0}, rgb(d, 0, 0, 0));
    assertArrayEquals(new int[] {0, 255, 0}, rgb(d, 0, 0, 1));
    assertArrayEquals(new int[] {0, 0, 255}, rgb(d, 0, 1, 0));
    assertArrayEquals(new int[] {255, 255, 255}, rgb(d, 0, 1, 1));

    // 6 wide x 4 high: red first column, blue last column, green between. The centred 4 x 4 square is all green;
    // resizing the whole image instead mixes red into the left edge.
    BufferedImage wide = solid(6, 4, 0x00ff00);
    for (int y = 0; y < 4; y++) {
      wide.setRGB(0, y, 0xff0000);
      wide.setRGB(5, y, 0x0000ff);
    }
    Path b = png(tmp.resolve("b/wide.png"), wide);
    ImageDataset crop = ImageFolder.read(b.getParent(), 2, 2, 3, Fit.CENTER_CROP, OnError.FAIL).dataset();
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 2; x++) {
        assertArrayEquals(new int[] {0, 255, 0}, rgb(crop, 0, y, x));
      }
    }
    ImageDataset resized = ImageFolder.read(b.getParent(), 2, 2, 3, Fit.RESIZE, OnError.FAIL).dataset();
    // Left output column covers source columns [0, 3): red weight 1/3, green 2/3.
    assertArrayEquals(new int[] {85, 170, 0}, rgb(resized, 0, 0, 0));
    assertArrayEquals(new int[] {0, 170, 85}, rgb(resized, 0, 1, 1));
  }

  @Test
  void upscalingIsBilinear() throws IOException {
    // 2 x 1 gray (0, 200) -> 4 x 1: centres at source x = -0.25, 0.25, 0.75, 1.25 -> 0, 50, 150, 200.
    BufferedImage im = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    im.getRaster().setSample(0, 0, 0, 0);
    im.getRaster().setSample(1, 0, 0, 200);
    png(tmp.resolve("u.png"), im);
    ImageDataset d = ImageFolder.read(tmp, 1, 4, 1, Fit.RESIZE, OnError.FAIL).dataset();
    assertArrayEquals(new int[] {0, 50, 150, 200},
        new int[] {d.pixel(0, 0, 0, 0), d.pixel(0, 0, 1, 0), d.pixel(0, 0, 2, 0), d.pixel(0, 0, 3, 0)});
  }

  @Test
  void grayscaleConversionAndAlpha() throws IOException {
    png(tmp.resolve("1rgb.png"), solid(5, 5, 0xc86432)); // (200, 100, 50)
    BufferedImage gray = new BufferedImage(5, 5, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 5; x++) {
        gray.getRaster().setSample(x, y, 0, 100);
      }
    }
    png(tmp.resolve("2gray.png"), gray);
    BufferedImage alpha = new BufferedImage(5, 5, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 5; x++) {
        alpha.setRGB(x, y, 0x200a141e); // alpha 0x20 over (10, 20, 30)
      }
    }
    png(tmp.resolve("3alpha.png"), alpha);

    ImageDataset one = ImageFolder.read(tmp, 3, 3, 1, Fit.CENTER_CROP, OnError.FAIL).dataset();
    assertEquals(Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50), one.pixel(0, 1, 1, 0)); // 124
    assertEquals(100, one.pixel(1, 2, 0, 0), "stored gray values, no colour-space gamma");
    assertEquals(Math.round(0.299 * 10 + 0.587 * 20 + 0.114 * 30), one.pixel(2, 0, 2, 0));

    ImageDataset three = ImageFolder.read(tmp, 3, 3, 3, Fit.CENTER_CROP, OnError.FAIL).dataset();
    assertArrayEquals(new int[] {100, 100, 100}, rgb(three, 1, 0, 0));
    assertArrayEquals(new int[] {10, 20, 30}, rgb(three, 2, 1, 1), "alpha dropped, colour kept");
  }

  @Test
  void unreadableFilesFailOrAreSkippedByName() throws IOException {
    png(tmp.resolve("good.png"), solid(4, 4, 0x808080));
    Path bad = tmp.resolve("bad.png");
    Files.writeString(bad, "this is not a PNG");
    IOException e = assertThrows(IOException.class, () -> ImageFolder.read(tmp, 4, 4, 3, Fit.RESIZE, OnError.FAIL));
    assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());

    PrintStream saved = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    ImageFolder.Result r;
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      r = ImageFolder.read(tmp, 4, 4, 3, Fit.RESIZE, OnError.SKIP);
    } finally {
      System.setErr(saved);
    }
    String warnings = captured.toString(StandardCharsets.UTF_8);
    assertTrue(warnings.contains(bad.toString()) && warnings.contains("skipped 1 of 2"), warnings);
    assertEquals(List.of(bad), r.skipped());
    assertEquals(1, r.dataset().size());
    assertArrayEquals(new int[] {128, 128, 128}, rgb(r.dataset(), 0, 3, 3));
    assertTrue(r.dataset().description().contains("1 unreadable skipped"), r.dataset().description());
  }

  @Test
  void emptyOrUnreadableFoldersAreErrors() throws IOException {
    IOException e = assertThrows(IOException.class, () -> ImageFolder.read(tmp, 4, 4, 3, Fit.RESIZE, OnError.SKIP));
    assertTrue(e.getMessage().contains(tmp.toString()) && e.getMessage().contains("no PNG or JPEG"),
        e.getMessage());
    Files.writeString(tmp.resolve("x.jpg"), "garbage");
    PrintStream saved = System.err;
    try {
      System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      e = assertThrows(IOException.class, () -> ImageFolder.read(tmp, 4, 4, 3, Fit.RESIZE, OnError.SKIP));
    } finally {
      System.setErr(saved);
    }
    assertTrue(e.getMessage().contains("no readable images") && e.getMessage().contains("x.jpg"), e.getMessage());
    assertThrows(IOException.class, () -> ImageFolder.read(tmp.resolve("missing"), 4, 4, 3, Fit.RESIZE,
        OnError.FAIL));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> ImageFolder.read(tmp, 4, 4, 2, Fit.RESIZE, OnError.FAIL));
    assertTrue(bad.getMessage().contains("channels 2"), bad.getMessage());
  }

  @Test
  void mixedLayoutHasNoLabels() throws IOException {
    png(tmp.resolve("top.png"), solid(2, 2, 0));
    png(tmp.resolve("sub/inner.png"), solid(2, 2, 0xffffff));
    ImageDataset d = ImageFolder.read(tmp, 2, 2, 3, Fit.RESIZE, OnError.FAIL).dataset();
    assertFalse(d.hasLabels());
    assertTrue(d.classNames().isEmpty());
    assertArrayEquals(new int[] {255, 255, 255}, rgb(d, 0, 0, 0), "sub/inner.png sorts before top.png");
  }
}
