package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistReaderTest {
  @TempDir
  Path tmp;

  private static byte[] images(int magic, int n, int rows, int cols, int pixelCount) {
    ByteBuffer b = ByteBuffer.allocate(16 + pixelCount);
    b.putInt(magic).putInt(n).putInt(rows).putInt(cols);
    for (int i = 0; i < pixelCount; i++) {
      b.put((byte) (i * 13 % 256));
    }
    return b.array();
  }

  private static byte[] labels(int magic, int n) {
    ByteBuffer b = ByteBuffer.allocate(8 + n);
    b.putInt(magic).putInt(n);
    for (int i = 0; i < n; i++) {
      b.put((byte) ((i * 3) % 10));
    }
    return b.array();
  }

  private static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = new GZIPOutputStream(out)) {
      z.write(raw);
    }
    return out.toByteArray();
  }

  private static void checkSynthetic(ImageDataset d) {
    assertEquals(3, d.size());
    assertArrayEquals(new long[] {4, 5, 1}, d.exampleShape());
    assertArrayEquals(new int[] {0, 3, 6}, d.labels());
    for (int i = 0; i < 3; i++) {
      for (int y = 0; y < 4; y++) {
        for (int x = 0; x < 5; x++) {
          assertEquals((i * 20 + y * 5 + x) * 13 % 256, d.pixel(i, y, x, 0));
        }
      }
    }
  }

  @Test
  void rawAndGzipFilesByContentNotName() throws IOException {
    // Raw bytes under a .gz name and gzip bytes under a plain name: detection is by the 0x1f8b magic.
    Files.write(tmp.resolve("train-images-idx3-ubyte.gz"), images(2051, 3, 4, 5, 60));
    Files.write(tmp.resolve("train-labels-idx1-ubyte"), gzip(labels(2049, 3)));
    checkSynthetic(MnistReader.readDir(tmp, "train"));
    Files.write(tmp.resolve("t10k-images-idx3-ubyte"), gzip(images(2051, 3, 4, 5, 60)));
    Files.write(tmp.resolve("t10k-labels-idx1-ubyte.gz"), labels(2049, 3));
    ImageDataset test = MnistReader.readDir(tmp, "test");
    checkSynthetic(test);
    assertEquals("7", test.classNames().get(7));
  }

  @Test
  void badMagicNamesTheFile() throws IOException {
    Path img = tmp.resolve("img");
    Path lab = tmp.resolve("lab");
    Files.write(img, labels(2049, 3));
    Files.write(lab, labels(2049, 3));
    IOException e = assertThrows(IOException.class, () -> MnistReader.read(img, lab));
    assertTrue(e.getMessage().contains(img.toString()) && e.getMessage().contains("2049")
        && e.getMessage().contains("2051") && e.getMessage().contains("label file"), e.getMessage());
    Files.write(img, images(2051, 3, 4, 5, 60));
    Files.write(lab, gzip(images(2051, 3, 4, 5, 60)));
    e = assertThrows(IOException.class, () -> MnistReader.read(img, lab));
    assertTrue(e.getMessage().contains(lab.toString()) && e.getMessage().contains("2051"), e.getMessage());
  }

  @Test
  void countMismatchTruncationAndTrailingBytes() throws IOException {
    Path img = tmp.resolve("img.gz");
    Path lab = tmp.resolve("lab");
    Files.write(img, gzip(images(2051, 3, 4, 5, 60)));
    Files.write(lab, labels(2049, 4));
    IOException e = assertThrows(IOException.class, () -> MnistReader.read(img, lab));
    assertTrue(e.getMessage().contains(lab.toString()) && e.getMessage().contains("4 labels")
        && e.getMessage().contains("3 images"), e.getMessage());

    Files.write(img, gzip(images(2051, 3, 4, 5, 59)));
    e = assertThrows(IOException.class, () -> MnistReader.read(img, null));
    assertTrue(e.getMessage().contains(img.toString()) && e.getMessage().contains("truncated")
        && e.getMessage().contains("has 59"), e.getMessage());

    Files.write(img, images(2051, 3, 4, 5, 61));
    e = assertThrows(IOException.class, () -> MnistReader.read(img, null));
    assertTrue(e.getMessage().contains("1 bytes after the data"), e.getMessage());

    byte[] cut = gzip(images(2051, 3, 4, 5, 60));
    Files.write(img, java.util.Arrays.copyOf(cut, cut.length - 12));
    e = assertThrows(IOException.class, () -> MnistReader.read(img, null));
    assertTrue(e.getMessage().contains(img.toString()), e.getMessage());

    IOException missing = assertThrows(IOException.class, () -> MnistReader.readDir(tmp, "train"));
    assertTrue(missing.getMessage().contains("train-images-idx3-ubyte")
        && missing.getMessage().contains("train-images-idx3-ubyte.gz"), missing.getMessage());
  }

  @Test
  void realSharedFiles() throws IOException {
    Path dir = TestResources.sharedData("mnist");
    ImageDataset train = MnistReader.readDir(dir, "train");
    assertEquals(60000, train.size());
    assertArrayEquals(new long[] {28, 28, 1}, train.exampleShape());
    assertEquals(5, train.label(0));
    ImageDataset test = MnistReader.readDir(dir, "test");
    assertEquals(10000, test.size());
    assertEquals(7, test.label(0));
    // MNIST digits are centred in a 20x20 box with a blank margin: the corners are 0.
    assertEquals(0, train.pixel(0, 0, 0, 0));
    assertEquals(0, test.pixel(0, 27, 27, 0));
  }
}
