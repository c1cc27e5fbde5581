package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSpecTest {
  @TempDir
  Path tmp;

  @Test
  void parsesEveryScheme() {
    assertEquals(new DataSpec("toy", "8gaussians"), DataSpec.parse("toy:8gaussians"));
    assertEquals(new DataSpec("mnist", "/data/mnist"), DataSpec.parse("mnist:/data/mnist"));
    assertEquals(new DataSpec("cifar10", "/d"), DataSpec.parse("cifar10:/d"));
    DataSpec plain = DataSpec.parse("cifar10");
    assertTrue(plain.needsDownload());
    assertEquals("cifar10", plain.toString());
    assertEquals(new DataSpec("folder", "C:\\images"), DataSpec.parse("folder:C:\\images"));
    assertEquals(new DataSpec("npy", "x.npy"), DataSpec.parse(" NPY:x.npy "));
    assertEquals("toy:rings", DataSpec.parse("toy:rings").toString());
  }

  @Test
  void parseErrorsSayWhatIsValid() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse("imagenet:/x"));
    assertTrue(e.getMessage().contains("'imagenet'") && e.getMessage().contains("toy:NAME")
        && e.getMessage().contains("mnist:DIR") && e.getMessage().contains("cifar10:DIR")
        && e.getMessage().contains("folder:DIR") && e.getMessage().contains("npy:FILE"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse("/just/a/path"));
    assertTrue(e.getMessage().contains("unknown scheme"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse("toy:spiral"));
    assertTrue(e.getMessage().contains("spiral") && e.getMessage().contains("checkerboard"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse("mnist:"));
    assertTrue(e.getMessage().contains("folder"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse("toy"));
    assertTrue(e.getMessage().contains("toy:8gaussians"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse(""));
    assertTrue(e.getMessage().contains("empty"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.parse("cifar10").open());
    assertTrue(e.getMessage().contains("zoo") && e.getMessage().contains("cifar10:DIR"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSpec.Options.defaults().withSplit("val"));
    assertTrue(e.getMessage().contains("val"), e.getMessage());
  }

  @Test
  void opensToysAndTheirBatches() throws IOException {
    LoadedData d = DataSpec.parse("toy:moons").open();
    LoadedData.Toy toy = assertInstanceOf(LoadedData.Toy.class, d);
    assertEquals("moons", toy.distribution().name());
    assertArrayEquals(new long[] {2}, d.exampleShape());
    BatchSource source = d.batches(1, true, true);
    assertArrayEquals(source.batch(5, 8).x(), d.batches(1, false, false).batch(5, 8).x());
    assertEquals("toy:moons (seed 1)", source.describe());
  }

  @Test
  void opensNpyPointsAndImages() throws IOException {
    LoadedData points = DataSpec.parse("npy:" + TestResources.resource("npy/points.npy")).open();
    LoadedData.Points p = assertInstanceOf(LoadedData.Points.class, points);
    assertEquals(5, p.size());
    assertEquals(2, p.dim());
    assertArrayEquals(new float[] {-2.25f, -1.75f}, p.point(0)); // (arange(10) - 4.5) / 2
    assertEquals(5, points.batches(0, false, false).batch(0, 5).size());

    LoadedData.Images nhwc = assertInstanceOf(LoadedData.Images.class,
        DataSpec.parse("npy:" + TestResources.resource("npy/images_nhwc.npy")).open());
    assertArrayEquals(new long[] {3, 4, 3}, nhwc.exampleShape());
    assertEquals(2, nhwc.dataset().size());
    assertEquals((((1 * 3 + 2) * 4 + 3) * 3 + 1) % 256, nhwc.dataset().pixel(1, 2, 3, 1));
    LoadedData.Images nhw = assertInstanceOf(LoadedData.Images.class,
        DataSpec.parse("npy:" + TestResources.resource("npy/images_nhw.npy")).open());
    assertArrayEquals(new long[] {3, 4, 1}, nhw.exampleShape());
    assertEquals(((1 * 3 + 2) * 4 + 3) * 7 % 256, nhw.dataset().pixel(1, 2, 3, 0));

    Path ints = TestResources.resource("npy/int_matrix.npy");
    IOException e = assertThrows(IOException.class, () -> DataSpec.parse("npy:" + ints).open());
    assertTrue(e.getMessage().contains(ints.toString()) && e.getMessage().contains("<i8 (3, 2)")
        && e.getMessage().contains("(N, D) float") && e.getMessage().contains("uint8"), e.getMessage());
    Path nan = tmp.resolve("nan.npy");
    Npy.write(nan, NpyArray.ofFloats(new float[] {0, 1, Float.NaN, 2}, 2, 2));
    e = assertThrows(IOException.class, () -> DataSpec.parse("npy:" + nan).open());
    assertTrue(e.getMessage().contains("point 1 coordinate 0"), e.getMessage());
  }

  @Test
  void opensFoldersWithTheOptionsSize() throws IOException {
    BufferedImage im = new BufferedImage(10, 6, BufferedImage.TYPE_INT_RGB);
    Files.createDirectories(tmp.resolve("imgs/a"));
    ImageIO.write(im, "png", tmp.resolve("imgs/a/1.png").toFile());
    DataSpec.Options options = DataSpec.Options.defaults().withSize(5, 4, 1).withFit(ImageFolder.Fit.RESIZE);
    LoadedData d = DataSpec.parse("folder:" + tmp.resolve("imgs")).open(options);
    LoadedData.Images images = assertInstanceOf(LoadedData.Images.class, d);
    assertArrayEquals(new long[] {5, 4, 1}, images.exampleShape());
    assertArrayEquals(new int[] {0}, images.dataset().labels());
    assertArrayEquals(new long[] {2, 5, 4, 1}, d.batches(0, true, true).batch(0, 2).shape());
  }

  @Test
  void opensCifarAndMnistFolders() throws IOException {
    Path cifar = Files.createDirectory(tmp.resolve("cifar"));
    byte[] record = new byte[3073];
    record[0] = 6;
    Files.write(cifar.resolve("test_batch.bin"), record);
    LoadedData c = DataSpec.parse("cifar10:" + cifar).open(DataSpec.Options.defaults().withSplit("test"));
    assertEquals(6, assertInstanceOf(LoadedData.Images.class, c).dataset().label(0));
    IOException e = assertThrows(IOException.class, () -> DataSpec.parse("cifar10:" + cifar).open());
    assertTrue(e.getMessage().contains("data_batch_*.bin"), e.getMessage());
    e = assertThrows(IOException.class, () -> DataSpec.parse("mnist:" + cifar).open());
    assertTrue(e.getMessage().contains("train-images-idx3-ubyte"), e.getMessage());
  }

  @Test
  void realSharedCifarTestSplit() throws IOException {
    Path dir = TestResources.sharedData("cifar10");
    LoadedData d = DataSpec.parse("cifar10:" + dir).open(DataSpec.Options.defaults().withSplit("test"));
    assertEquals(846, assertInstanceOf(LoadedData.Images.class, d).dataset().size());
    assertTrue(d.describe().contains("(test)"), d.describe());
  }
}
