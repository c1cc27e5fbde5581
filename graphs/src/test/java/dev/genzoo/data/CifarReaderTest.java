package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarReaderTest {
  @TempDir
  Path tmp;

  /** Pixel (y, x) of channel c of record r: a formula that differs in every coordinate. */
  private static int value(int r, int y, int x, int c) {
    return (r * 37 + y * 7 + x * 3 + c * 101) % 256;
  }

  /** Writes {@code n} records in the official layout (label, then the R, G and B planes, each row-major). */
  private static void writeCifar(Path file, int n, int labelOffset) throws IOException {
    byte[] bytes = new byte[n * 3073];
    for (int r = 0; r < n; r++) {
      int base = r * 3073;
      bytes[base] = (byte) ((r + labelOffset) % 10);
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 32; y++) {
          for (int x = 0; x < 32; x++) {
            bytes[base + 1 + c * 1024 + y * 32 + x] = (byte) value(r, y, x, c);
          }
        }
      }
    }
    Files.write(file, bytes);
  }

  @Test
  void convertsPlanesToHwcAndKeepsLabels() throws IOException {
    Path file = tmp.resolve("data_batch_1.bin");
    writeCifar(file, 3, 4);
    ImageDataset d = CifarReader.read(file);
    assertEquals(3, d.size());
    assertArrayEquals(new long[] {32, 32, 3}, d.exampleShape());
    assertArrayEquals(new int[] {4, 5, 6}, d.labels());
    assertEquals("frog", d.classNames().get(6));
    for (int r = 0; r < 3; r++) {
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          for (int c = 0; c < 3; c++) {
            assertEquals(value(r, y, x, c), d.pixel(r, y, x, c));
          }
        }
      }
    }
    // HWC: the float copy of image 2 has pixel (y=5, x=9, c=1) at (5 * 32 + 9) * 3 + 1.
    assertEquals(value(2, 5, 9, 1), d.example(2)[(5 * 32 + 9) * 3 + 1]);
  }

  @Test
  void truncatedFileIsRefusedWithItsLength() throws IOException {
    Path file = tmp.resolve("data_batch_1.bin");
    writeCifar(file, 2, 0);
    byte[] all = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(all, all.length - 100));
    IOException e = assertThrows(IOException.class, () -> CifarReader.read(file));
    String m = e.getMessage();
    assertTrue(m.contains(file.toString()) && m.contains("6046") && m.contains("3073") && m.contains("truncated?"), m);
  }

  @Test
  void readDirTakesTheSplitsFilesInNaturalOrder() throws IOException {
    writeCifar(tmp.resolve("data_batch_10.bin"), 1, 9);
    writeCifar(tmp.resolve("data_batch_2.bin"), 2, 2);
    writeCifar(tmp.resolve("test_batch.bin"), 1, 7);
    Files.writeString(tmp.resolve("batches.meta.txt"), "airplane\n");
    ImageDataset train = CifarReader.readDir(tmp, "train");
    assertArrayEquals(new int[] {2, 3, 9}, train.labels(), "data_batch_2 before data_batch_10");
    assertEquals(value(0, 0, 0, 0), train.pixel(2, 0, 0, 0)); // first record of data_batch_10
    assertEquals(value(1, 3, 4, 2), train.pixel(1, 3, 4, 2));
    ImageDataset test = CifarReader.readDir(tmp, "test");
    assertArrayEquals(new int[] {7}, test.labels());
  }

  @Test
  void missingFilesAndBadSplitsAreExplained() throws IOException {
    IOException e = assertThrows(IOException.class, () -> CifarReader.readDir(tmp, "train"));
    assertTrue(e.getMessage().contains(tmp.toString()) && e.getMessage().contains("data_batch_*.bin"),
        e.getMessage());
    e = assertThrows(IOException.class, () -> CifarReader.readDir(tmp, "test"));
    assertTrue(e.getMessage().contains("test_batch*.bin"), e.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> CifarReader.readDir(tmp, "valid"));
    assertTrue(bad.getMessage().contains("valid") && bad.getMessage().contains("train, test"), bad.getMessage());

    Path bigLabel = tmp.resolve("cifar100.bin");
    byte[] rec = new byte[3073];
    rec[0] = 42;
    Files.write(bigLabel, rec);
    e = assertThrows(IOException.class, () -> CifarReader.read(bigLabel));
    assertTrue(e.getMessage().contains(bigLabel.toString()) && e.getMessage().contains("label 42"), e.getMessage());
  }

  @Test
  void officialArchiveSubfolderIsFound() throws IOException {
    Path sub = Files.createDirectory(tmp.resolve("cifar-10-batches-bin"));
    writeCifar(sub.resolve("test_batch.bin"), 2, 1);
    assertArrayEquals(new int[] {1, 2}, CifarReader.readDir(tmp, "test").labels());
  }

  @Test
  void realSharedFiles() throws IOException {
    Path dir = TestResources.sharedData("cifar10");
    ImageDataset train = CifarReader.readDir(dir, "train");
    assertEquals(5 * 932, train.size());
    assertEquals(6, train.label(0));
    assertEquals("frog", train.classNames().get(train.label(0)));
    ImageDataset test = CifarReader.readDir(dir, "test");
    assertEquals(846, test.size());
    assertEquals(3, test.label(0));
    assertEquals("cat", test.classNames().get(test.label(0)));

    // The labels agree with the separate official label files (train: 10,000 per batch, in batch order).
    byte[] trainLabels = Files.readAllBytes(dir.resolve("train_labels_all50000.bin"));
    for (int b = 0; b < 5; b++) {
      for (int i = 0; i < 932; i++) {
        assertEquals(trainLabels[b * 10000 + i], train.label(b * 932 + i), "batch " + (b + 1) + " record " + i);
      }
    }
    byte[] testLabels = Files.readAllBytes(dir.resolve("test_labels_all10000.bin"));
    for (int i = 0; i < 846; i++) {
      assertEquals(testLabels[i], test.label(i));
    }
  }
}
