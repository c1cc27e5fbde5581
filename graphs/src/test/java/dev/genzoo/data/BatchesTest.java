package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchesTest {
  private static final int N = 10;
  private static final int H = 2;
  private static final int W = 3;
  private static final int C = 3;

  /** N images whose pixels are all different and whose label is their index. */
  private static ImageDataset dataset() {
    byte[] pixels = new byte[N * H * W * C];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 7 % 251);
    }
    int[] labels = new int[N];
    for (int i = 0; i < N; i++) {
      labels[i] = i;
    }
    return new ImageDataset(pixels, N, H, W, C, labels, List.of(), "synthetic");
  }

  private static float[] image(Batch b, int i) {
    int size = H * W * C;
    return Arrays.copyOfRange(b.x(), i * size, (i + 1) * size);
  }

  /** Image {@code index} of the dataset mirrored left to right, written out from the pixel accessor. */
  private static float[] mirrored(ImageDataset d, int index) {
    float[] out = new float[H * W * C];
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        for (int c = 0; c < C; c++) {
          out[(y * W + x) * C + c] = d.pixel(index, y, W - 1 - x, c);
        }
      }
    }
    return out;
  }

  private static float[] floor(float[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) Math.floor(v[i]);
    }
    return out;
  }

  @Test
  void sameStepSameBatchAcrossInstances() {
    ImageDataset d = dataset();
    Batch a = new ImageBatches(d, 7, true, true).batch(13, 4);
    ImageBatches other = new ImageBatches(d, 7, true, true);
    other.batch(2, 4); // fill its cache with other epochs first
    other.batch(40, 4);
    Batch b = other.batch(13, 4);
    assertArrayEquals(a.x(), b.x());
    assertArrayEquals(a.labels(), b.labels());
    assertArrayEquals(new long[] {4, H, W, C}, a.shape());
    Batch c = other.batch(14, 4);
    assertFalse(Arrays.equals(a.x(), c.x()), "steps 13 and 14 gave the same batch");
    Batch seed8 = new ImageBatches(d, 8, true, true).batch(13, 4);
    assertFalse(Arrays.equals(a.x(), seed8.x()), "seeds 7 and 8 gave the same batch");
  }

  @Test
  void everyExampleOncePerEpochWithItsPixelsAndLabel() {
    ImageDataset d = dataset();
    ImageBatches batches = new ImageBatches(d, 99, false, false);
    List<Integer> seen = new ArrayList<>();
    for (int step = 0; step < 15; step++) { // 15 * 4 = 60 positions = 6 epochs of 10
      Batch b = batches.batch(step, 4);
      assertArrayEquals(b.labels(), batches.indices(step, 4));
      for (int i = 0; i < 4; i++) {
        int label = b.labels()[i];
        seen.add(label);
        assertArrayEquals(d.example(label), image(b, i), "un-augmented pixels of example " + label);
      }
    }
    List<List<Integer>> epochs = new ArrayList<>();
    for (int e = 0; e < 6; e++) {
      List<Integer> epoch = seen.subList(e * N, (e + 1) * N);
      List<Integer> sorted = new ArrayList<>(epoch);
      sorted.sort(null);
      assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), sorted, "epoch " + e);
      epochs.add(epoch);
    }
    assertFalse(epochs.get(0).equals(epochs.get(1)) && epochs.get(1).equals(epochs.get(2)),
        "the order is reshuffled every epoch");
    assertFalse(epochs.get(0).equals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)), "epoch 0 is shuffled");
  }

  @Test
  void flipsReallyFlipAndNoiseStaysWithinOneLevel() {
    ImageDataset d = dataset();
    ImageBatches batches = new ImageBatches(d, 3, true, true);
    int flipped = 0;
    int plain = 0;
    int total = 0;
    for (int step = 0; step < 50; step++) {
      Batch b = batches.batch(step, 4);
      for (int i = 0; i < 4; i++) {
        int label = b.labels()[i];
        float[] x = image(b, i);
        float[] base = floor(x);
        boolean isPlain = Arrays.equals(base, d.example(label));
        boolean isFlipped = Arrays.equals(base, mirrored(d, label));
        assertTrue(isPlain || isFlipped, "image is neither the original nor its mirror");
        flipped += isFlipped ? 1 : 0;
        plain += isPlain ? 1 : 0;
        for (int j = 0; j < x.length; j++) {
          assertTrue(x[j] >= base[j] && x[j] < base[j] + 1 && x[j] >= 0 && x[j] < 256);
        }
        total++;
      }
    }
    // The mirror of a 3-wide image differs from it, so exactly one of the two holds; p = 1/2 each.
    assertEquals(total, flipped + plain);
    assertEquals(total / 2.0, flipped, 4 * Math.sqrt(total / 4.0));
    assertTrue(Math.abs(ImageBatches.dequantized(255f, Math.nextDown(1.0)) - 255.99998f) < 1e-4);
    assertTrue(ImageBatches.dequantized(255f, Math.nextDown(1.0)) < 256f);
  }

  @Test
  void evaluationPassIsInOrderOnceAndRepeatable() {
    ImageDataset d = dataset();
    ImageBatches batches = new ImageBatches(d, 3, true, true);
    List<Batch> pass = new ArrayList<>();
    batches.evalBatches(4, 11, true).forEach(pass::add);
    assertEquals(List.of(4, 4, 2), pass.stream().map(Batch::size).toList());
    int next = 0;
    for (Batch b : pass) {
      for (int i = 0; i < b.size(); i++) {
        assertEquals(next, b.labels()[i]);
        assertArrayEquals(d.example(next), floor(image(b, i)), "no flips in evaluation");
        next++;
      }
    }
    List<Batch> again = new ArrayList<>();
    batches.evalBatches(4, 11, true).forEach(again::add);
    for (int k = 0; k < 3; k++) {
      assertArrayEquals(pass.get(k).x(), again.get(k).x());
    }
    Batch exact = ImageBatches.evalBatches(d, 10, 0, false).iterator().next();
    for (int i = 0; i < N; i++) {
      assertArrayEquals(d.example(i), image(exact, i));
    }
  }

  @Test
  void toyAndPointBatches() {
    ToyBatches toys = new ToyBatches(Toys.byName("8gaussians"), 5);
    Batch t = toys.batch(3, 16);
    assertArrayEquals(new long[] {16, 2}, t.shape());
    assertNull(t.labels());
    assertArrayEquals(t.x(), new ToyBatches(Toys.byName("8gaussians"), 5).batch(3, 16).x());
    assertFalse(Arrays.equals(t.x(), toys.batch(4, 16).x()));
    assertArrayEquals(new long[] {2}, toys.exampleShape());

    int n = 7;
    float[] points = new float[n * 3];
    for (int i = 0; i < n; i++) {
      points[3 * i] = i;
      points[3 * i + 1] = -i;
      points[3 * i + 2] = 0.5f * i;
    }
    PointBatches pb = new PointBatches(points, n, 3, 21, "synthetic points");
    List<Integer> seen = new ArrayList<>();
    for (int step = 0; step < 7; step++) { // 21 positions = 3 epochs
      Batch b = pb.batch(step, 3);
      assertArrayEquals(b.x(), new PointBatches(points, n, 3, 21, "again").batch(step, 3).x());
      for (int i = 0; i < 3; i++) {
        int id = (int) b.x()[3 * i];
        assertEquals(-id, b.x()[3 * i + 1]);
        assertEquals(0.5f * id, b.x()[3 * i + 2]);
        seen.add(id);
      }
    }
    for (int e = 0; e < 3; e++) {
      List<Integer> sorted = new ArrayList<>(seen.subList(e * n, (e + 1) * n));
      sorted.sort(null);
      assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), sorted, "epoch " + e);
    }
    assertThrows(IllegalArgumentException.class, () -> new PointBatches(new float[5], 2, 3, 0, "bad"));
    assertThrows(IllegalArgumentException.class, () -> pb.batch(-1, 3));
    assertThrows(IllegalArgumentException.class, () -> pb.batch(0, 0));
  }
}
