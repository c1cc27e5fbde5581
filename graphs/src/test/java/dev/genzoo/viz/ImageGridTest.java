package dev.genzoo.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {
  private static final int WHITE = 0xFFFFFF;
  private static final int MAGENTA = 0xFF00FF;

  private static int rgb(BufferedImage img, int x, int y) {
    return img.getRGB(x, y) & 0xFFFFFF;
  }

  private static int grey(int level) {
    return (level << 16) | (level << 8) | level;
  }

  @Test
  void greyPixelsAreRound255TimesTheClampedValueInEveryScaledBlock() {
    // three 2x3 grey images; the 8-bit levels are worked out by hand:
    // 0.5 -> 127.5 -> 128, 0.25 -> 63.75 -> 64, 0.1f -> 25.50000038 -> 26, 0.2f -> 51.0000008 -> 51,
    // 0.3f -> 76.5000030 -> 77, -0.2 and -Inf clamp to 0, 1.7 and +Inf clamp to 255, NaN is magenta.
    float[] v = {
        0f, 1f, 0.5f, 0.25f, 0.1f, 0.2f,
        0.3f, -0.2f, 1.7f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY,
        0.9f, 0.75f, 0.05f, 0.6f, 0.4f, 0.99f};
    int[] expected = {
        grey(0), grey(255), grey(128), grey(64), grey(26), grey(51),
        grey(77), grey(0), grey(255), MAGENTA, grey(0), grey(255),
        // 0.9f -> 229.4999939 -> 229 (0.9f is just below 0.9), 0.75 -> 191.25 -> 191, 0.05f -> 12.7500002 -> 13,
        // 0.6f -> 153.0000061 -> 153,
        // 0.4f -> 102.0000015 -> 102, 0.99f -> 252.4500024 -> 252
        grey(229), grey(191), grey(13), grey(153), grey(102), grey(252)};
    int scale = 2;
    int pad = 1;
    BufferedImage img = ImageGrid.toImage(v, 3, 2, 3, 1,
        ImageGrid.Options.defaults().withScale(scale).withPadding(pad));
    // ceil(sqrt(3)) = 2 columns, 2 rows; width 2 * 3 * 2 + 3 * 1 = 15, height 2 * 2 * 2 + 3 * 1 = 11
    assertEquals(15, img.getWidth());
    assertEquals(11, img.getHeight());
    for (int n = 0; n < 3; n++) {
      int r = n / 2;
      int c = n % 2;
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 3; x++) {
          for (int dy = 0; dy < scale; dy++) {
            for (int dx = 0; dx < scale; dx++) {
              int px = pad + c * (3 * scale + pad) + x * scale + dx;
              int py = pad + r * (2 * scale + pad) + y * scale + dy;
              assertEquals(Integer.toHexString(expected[n * 6 + y * 3 + x]), Integer.toHexString(rgb(img, px, py)),
                  "image " + n + " pixel (" + y + ", " + x + ") at (" + px + ", " + py + ")");
            }
          }
        }
      }
    }
    // padding rows/columns and the unused fourth tile show the background
    for (int x = 0; x < 15; x++) {
      assertEquals(WHITE, rgb(img, x, 0));
      assertEquals(WHITE, rgb(img, x, 5));
    }
    for (int y = 0; y < 11; y++) {
      assertEquals(WHITE, rgb(img, 0, y));
      assertEquals(WHITE, rgb(img, 7, y));
    }
    assertEquals(WHITE, rgb(img, 8 + 2, 6 + 2));
  }

  @Test
  void rgbPixelsAreExactAndAnyNaNChannelMakesThePixelMagenta() {
    // two 2x2 RGB images, one column of tiles, no scaling
    float[] v = {
        1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f, 0.5f, 0.25f, 0.75f,
        0.2f, 0.4f, 0.6f, Float.NaN, 0.5f, 0.5f, 0.5f, 0.5f, Float.NaN, -1f, 2f, 0.1f};
    int[] expected = {0xFF0000, 0x00FF00, 0x0000FF, (128 << 16) | (64 << 8) | 191,
        (51 << 16) | (102 << 8) | 153, MAGENTA, MAGENTA, (0 << 16) | (255 << 8) | 26};
    BufferedImage img = ImageGrid.toImage(v, 2, 2, 2, 3,
        new ImageGrid.Options(1, 2, 1, 0, Color.BLACK));
    assertEquals(1 * 2 + 2 * 2, img.getWidth());
    assertEquals(2 * 2 + 3 * 2, img.getHeight());
    for (int n = 0; n < 2; n++) {
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 2; x++) {
          assertEquals(Integer.toHexString(expected[n * 4 + y * 2 + x]),
              Integer.toHexString(rgb(img, 2 + x, 2 + n * 4 + y)), "image " + n + " (" + y + ", " + x + ")");
        }
      }
    }
    assertEquals(0, rgb(img, 0, 0));
  }

  @Test
  void automaticLayoutMakesSmallTilesVisible() {
    // 64 MNIST-sized tiles: 8 columns; scale 3 is the first with 8*28*s + 9*2 >= 512 (s=2 gives 466)
    ImageGrid.Layout mnist = ImageGrid.layout(64, 28, 28, ImageGrid.Options.defaults());
    assertEquals(new ImageGrid.Layout(8, 8, 28, 28, 3, 2), mnist);
    assertEquals(8 * 28 * 3 + 9 * 2, mnist.width());
    // 64 CIFAR tiles: 8*32*2 + 18 = 530 >= 512 at scale 2
    BufferedImage cifar = ImageGrid.toImage(new float[64 * 32 * 32 * 3], 64, 32, 32, 3);
    assertEquals(530, cifar.getWidth());
    assertEquals(530, cifar.getHeight());
    // ten images: ceil(sqrt(10)) = 4 columns, 3 rows, the last row half empty
    ImageGrid.Layout ten = ImageGrid.layout(10, 32, 32, ImageGrid.Options.defaults().withScale(1));
    assertEquals(3, ten.rows());
    assertEquals(4, ten.columns());
    assertEquals(4 * 32 + 5 * 2, ten.width());
    assertEquals(3 * 32 + 4 * 2, ten.height());
    assertEquals(2 + 3 * 34, ten.tileX(3));
  }

  @Test
  void badInputNamesWhatIsWrong() {
    IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.toImage(new float[10], 2, 2, 2, 1));
    assertTrue(length.getMessage().contains("n*h*w*c"), length.getMessage());
    IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.toImage(new float[16], 2, 2, 2, 2));
    assertTrue(channels.getMessage().contains("channels"), channels.getMessage());
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.toImage(new float[0], 0, 2, 2, 1));
    assertTrue(empty.getMessage().contains("n = 0"), empty.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.Options.defaults().withPadding(-1));
  }

  @Test
  void writesAPngThatReadsBackPixelForPixelAndLeavesNoTemporaryFile(@TempDir Path dir) throws IOException {
    float[] v = new float[5 * 4 * 4 * 3];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i * 37 % 101) / 100f;
    }
    v[7] = Float.NaN;
    Path png = dir.resolve("samples/grid.png");
    BufferedImage img = ImageGrid.write(v, 5, 4, 4, 3, ImageGrid.Options.defaults().withScale(3), png);
    BufferedImage back = ImageIO.read(png.toFile());
    assertEquals(img.getWidth(), back.getWidth());
    assertEquals(img.getHeight(), back.getHeight());
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        assertEquals(img.getRGB(x, y), back.getRGB(x, y), "pixel (" + x + ", " + y + ")");
      }
    }
    try (Stream<Path> files = Files.list(png.getParent())) {
      assertEquals(List.of("grid.png"), files.map(p -> p.getFileName().toString()).collect(Collectors.toList()));
    }
  }

  @Test
  void cifar10TestImagesKeepTheirExactBytes() throws IOException {
    String shared = System.getProperty("genzoo.shared.data");
    Path bin = shared == null ? null : Path.of(shared, "cifar10", "test_batch_first846.bin");
    assumeTrue(bin != null && Files.isRegularFile(bin),
        "skipped: ../shared/data/cifar10/test_batch_first846.bin not available (set -Dgenzoo.shared.data)");
    byte[] raw = Files.readAllBytes(bin);
    int n = 16;
    float[] v = new float[n * 32 * 32 * 3];
    // official record: label byte, then 1024 red, 1024 green, 1024 blue bytes, row-major
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < 3; ch++) {
        for (int p = 0; p < 1024; p++) {
          v[(i * 1024 + p) * 3 + ch] = (raw[i * 3073 + 1 + ch * 1024 + p] & 255) / 255f;
        }
      }
    }
    BufferedImage img = ImageGrid.toImage(v, n, 32, 32, 3, ImageGrid.Options.defaults().withScale(1));
    for (int i = 0; i < n; i++) {
      int x0 = 2 + (i % 4) * 34;
      int y0 = 2 + (i / 4) * 34;
      for (int p = 0; p < 1024; p++) {
        int expected = ((raw[i * 3073 + 1 + p] & 255) << 16) | ((raw[i * 3073 + 1 + 1024 + p] & 255) << 8)
            | (raw[i * 3073 + 1 + 2048 + p] & 255);
        assertEquals(expected, rgb(img, x0 + p % 32, y0 + p / 32), "image " + i + " pixel " + p);
      }
    }
  }
}
