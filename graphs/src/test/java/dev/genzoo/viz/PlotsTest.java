package dev.genzoo.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Rectangle;
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

class PlotsTest {
  private static final int RED = 0xFF0000;

  private static int rgb(BufferedImage img, int x, int y) {
    return img.getRGB(x, y) & 0xFFFFFF;
  }

  /** Continuous pixel x of data x, from the axis mapping: area.x + (x - min) / span * area.width. */
  private static double pixelX(Figure f, double x) {
    Rectangle a = f.plotArea();
    return a.x + (x - f.xRange().min()) / (f.xRange().max() - f.xRange().min()) * a.width;
  }

  /** Continuous pixel y of data y; the y axis points up. */
  private static double pixelY(Figure f, double y) {
    Rectangle a = f.plotArea();
    double lo = f.yRange().min();
    double hi = f.yRange().max();
    double t = f.logY() ? (Math.log10(y) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (y - lo) / (hi - lo);
    return a.y + a.height - t * a.height;
  }

  // ------------------------------------------------------------------------------------------ scatter

  @Test
  void scatterDrawsAPointAtThePixelOfTheAxisMapping() {
    float[] point = {0.7f, -1.3f};
    ScatterOptions opts = ScatterOptions.defaults().withTitle("one point").withRanges(Range.of(-2, 2), Range.of(-3, 1));
    Figure f = Plots.renderScatter(List.of(PointSet.of("p", point).withStyle(Color.RED, 1.0, 8)), opts);
    assertEquals(Range.of(-2, 2), f.xRange());
    assertEquals(Range.of(-3, 1), f.yRange());
    double px = pixelX(f, 0.7f);
    double py = pixelY(f, -1.3f);
    assertEquals(RED, rgb(f.image(), (int) Math.floor(px), (int) Math.floor(py)));
    // the point is there and nowhere else: every reddish pixel is within the marker's radius (4 px) of it,
    // and the mirror image position (y -> -y) is not red
    int red = 0;
    for (int y = 0; y < f.image().getHeight(); y++) {
      for (int x = 0; x < f.image().getWidth(); x++) {
        int c = rgb(f.image(), x, y);
        if (((c >> 16) & 255) > 200 && ((c >> 8) & 255) < 120) {
          red++;
          assertTrue(Math.hypot(x + 0.5 - px, y + 0.5 - py) <= 5, "red pixel at (" + x + ", " + y + ")");
        }
      }
    }
    assertTrue(red >= 30, "marker of diameter 8 should cover about 50 pixels, found " + red);
    assertNotEquals(RED, rgb(f.image(), (int) Math.floor(px), (int) Math.floor(pixelY(f, 1.3f))));
    // the data area is inside the picture with room for labels on every side
    Rectangle a = f.plotArea();
    assertTrue(a.x >= 30 && a.y >= 30 && a.x + a.width <= 640 - 10 && a.y + a.height <= 640 - 30, a.toString());
  }

  @Test
  void automaticRangesCoverTheFinitePointsWithTheMargin() {
    float[] pts = {0, 0, 10, 5, Float.NaN, 100, 3, Float.POSITIVE_INFINITY};
    ScatterOptions opts = ScatterOptions.defaults().withMargin(0.1).withEqualAspect(false);
    Figure f = Plots.renderScatter(List.of(PointSet.of("s", pts)), opts);
    assertEquals(-1.0, f.xRange().min(), 1e-12);
    assertEquals(11.0, f.xRange().max(), 1e-12);
    assertEquals(-0.5, f.yRange().min(), 1e-12);
    assertEquals(5.5, f.yRange().max(), 1e-12);
  }

  @Test
  void equalAspectGivesOneDataUnitTheSameLengthOnBothAxes() {
    float[] pts = {-4, -1, 4, 1};
    Figure f = Plots.renderScatter(List.of(PointSet.of("s", pts)), ScatterOptions.defaults().withSize(700, 500));
    double unitsPerPixelX = f.xRange().span() / f.plotArea().width;
    double unitsPerPixelY = f.yRange().span() / f.plotArea().height;
    assertEquals(1.0, unitsPerPixelX / unitsPerPixelY, 1e-9);
    // both ranges still hold the data plus the 5% margin and stay centred on it; x was the wider one, so it keeps
    // its span up to the pixel or two a relayout may move, while y grows to about 8.8 * 420 / 620
    assertTrue(f.xRange().min() <= -4.4 + 1e-9 && f.xRange().max() >= 4.4 - 1e-9, f.xRange().toString());
    assertTrue(f.yRange().min() <= -1.1 + 1e-9 && f.yRange().max() >= 1.1 - 1e-9, f.yRange().toString());
    assertEquals(8.8, f.xRange().span(), 8.8 * 0.03);
    assertTrue(f.yRange().span() > 4, f.yRange().toString());
    assertEquals(0.0, (f.xRange().min() + f.xRange().max()) / 2, 1e-9);
    assertEquals(0.0, (f.yRange().min() + f.yRange().max()) / 2, 1e-9);
  }

  @Test
  void modelPointsAreDrawnOverDataPointsInTheirOwnColour() {
    float[] data = {0, 0, 1, 1};
    float[] model = {0, 0};
    ScatterOptions opts = ScatterOptions.defaults().withRanges(Range.of(-1, 2), Range.of(-1, 2));
    Figure f = Plots.renderScatter(List.of(
        PointSet.of("data", data).withStyle(Color.BLUE, 1.0, 10),
        PointSet.of("model", model).withStyle(Color.RED, 1.0, 10)), opts);
    assertEquals(RED, rgb(f.image(), (int) Math.floor(pixelX(f, 0)), (int) Math.floor(pixelY(f, 0))));
    assertEquals(0x0000FF, rgb(f.image(), (int) Math.floor(pixelX(f, 1)), (int) Math.floor(pixelY(f, 1))));
  }

  @Test
  void scatterRejectsAnOddNumberOfCoordinates() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Plots.renderScatter(List.of(PointSet.of("samples", new float[3])), ScatterOptions.defaults()));
    assertTrue(e.getMessage().contains("samples") && e.getMessage().contains("even"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Range.of(1, 1));
    assertThrows(IllegalArgumentException.class,
        () -> Plots.renderScatter(List.of(PointSet.of("s", new float[2])), ScatterOptions.defaults().withSize(60, 60)));
  }

  // ------------------------------------------------------------------------------------------ heat map

  @Test
  void heatmapCellsHaveTheViridisColourOfTheirNormalisedValueAndRowZeroIsAtTheBottom() {
    int nx = 4;
    int ny = 3;
    double[] v = new double[nx * ny];
    for (int j = 0; j < ny; j++) {
      for (int i = 0; i < nx; i++) {
        v[j * nx + i] = 10 + 2 * (j * nx + i); // 10 .. 32
      }
    }
    Figure f = Plots.renderHeatmap(v, nx, ny, Range.of(0, 4), Range.of(-1.5, 1.5), "cells", "value", null);
    for (int j = 0; j < ny; j++) {
      for (int i = 0; i < nx; i++) {
        double t = (v[j * nx + i] - 10) / 22;
        int x = (int) Math.floor(pixelX(f, i + 0.5));
        int y = (int) Math.floor(pixelY(f, -1.5 + j + 0.5));
        assertEquals(Integer.toHexString(Viridis.rgb(t)), Integer.toHexString(rgb(f.image(), x, y)),
            "cell (" + i + ", " + j + ")");
      }
    }
    // row 0 (smallest y, smallest values: the darkest colour #440154) fills the bottom of the area
    Rectangle a = f.plotArea();
    assertEquals(0x440154, rgb(f.image(), a.x, a.y + a.height - 1));
    assertEquals(0xfde725, rgb(f.image(), a.x + a.width - 1, a.y));
    // the 4:3 data keeps its aspect ratio
    assertEquals(4.0 / 3.0, (double) a.width / a.height, 0.01);
  }

  @Test
  void heatmapDrawsNaNAndMinusInfinityLowestAndHonoursAFixedScale() {
    double[] v = {Double.NaN, Double.NEGATIVE_INFINITY, -50, Double.POSITIVE_INFINITY, 0, -1000, -3, -500, 7};
    Figure auto = Plots.renderHeatmap(v, 3, 3, Range.of(0, 3), Range.of(0, 3), null, null, null);
    Figure fixed = Plots.renderHeatmap(v, 3, 3, Range.of(0, 3), Range.of(0, 3), null, null, Range.of(-10, 0));
    double[] expectedAuto = {0, 0, 950.0 / 1007, 1, 1000.0 / 1007, 0, 997.0 / 1007, 500.0 / 1007, 1};
    double[] expectedFixed = {0, 0, 0, 1, 1, 0, 0.7, 0, 1};
    for (int k = 0; k < 9; k++) {
      int i = k % 3;
      int j = k / 3;
      assertEquals(Viridis.rgb(expectedAuto[k]), rgb(auto.image(), (int) pixelX(auto, i + 0.5),
          (int) pixelY(auto, j + 0.5)), "auto scale, cell " + k);
      assertEquals(Viridis.rgb(expectedFixed[k]), rgb(fixed.image(), (int) pixelX(fixed, i + 0.5),
          (int) pixelY(fixed, j + 0.5)), "fixed scale, cell " + k);
    }
  }

  @Test
  void heatmapRejectsAGridOfTheWrongSize() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Plots.renderHeatmap(new double[11], 4, 3, Range.of(0, 1), Range.of(0, 1), null, null, null));
    assertTrue(e.getMessage().contains("ny x nx"), e.getMessage());
  }

  // ------------------------------------------------------------------------------------------ lines

  @Test
  void linesAreDrawnWhereTheAxisMappingPutsThem() {
    double[] x = {0, 10};
    Series flat = new Series("flat", x, new double[] {2, 2}, Color.RED, 3f, 1.0, true);
    Series rising = Series.of("rising", x, new double[] {1, 3}).withColor(Color.BLUE);
    Figure f = Plots.renderLines(List.of(rising, flat), "t", "step", "loss", false, 800, 500);
    assertEquals(Range.of(0, 10), f.xRange());
    assertEquals(1 - 0.1, f.yRange().min(), 1e-12);
    assertEquals(3 + 0.1, f.yRange().max(), 1e-12);
    assertEquals(RED, rgb(f.image(), (int) Math.floor(pixelX(f, 2.5)), (int) Math.floor(pixelY(f, 2))));
    assertEquals(0x0000FF, rgb(f.image(), (int) Math.floor(pixelX(f, 2.5)), (int) Math.floor(pixelY(f, 1.5))));
  }

  @Test
  void logarithmicLinesPadTheRangeInDecadesAndMapLog10() {
    double[] x = {0, 1, 2, 3, 4};
    Series decades = Series.of("decades", x, new double[] {1, 10, 100, 1000, 10000}).withColor(Color.BLUE);
    Series hundred = new Series("hundred", x, new double[] {100, 100, 100, 100, 100}, Color.RED, 3f, 1.0, true);
    Figure f = Plots.renderLines(List.of(decades, hundred), null, null, null, true, 800, 500);
    assertTrue(f.logY());
    // four decades plus 5% (0.2 decades) at each end
    assertEquals(Math.pow(10, -0.2), f.yRange().min(), 1e-12);
    assertEquals(Math.pow(10, 4.2), f.yRange().max(), 1e-9);
    assertEquals(RED, rgb(f.image(), (int) Math.floor(pixelX(f, 0.6)), (int) Math.floor(pixelY(f, 100))));
    // y = 100 is in the middle of the area
    Rectangle a = f.plotArea();
    assertEquals(a.y + a.height / 2.0, pixelY(f, 100), 1e-9);
  }

  @Test
  void nonFinitePointsAreSkippedAndBreakTheLine() {
    double[] x = {0, 1, 2, 3, 4};
    double[] y = {1, 1, Double.NaN, 1, 1};
    Series s = new Series("s", x, y, Color.RED, 3f, 1.0, true);
    Series other = Series.of("other", x, new double[] {0, Double.POSITIVE_INFINITY, 0, 0, 2}).withColor(Color.BLUE);
    Figure f = Plots.renderLines(List.of(other, s), null, null, null, false, 800, 500);
    assertEquals(Range.of(0, 4), f.xRange());
    int row = (int) Math.floor(pixelY(f, 1));
    assertEquals(RED, rgb(f.image(), (int) Math.floor(pixelX(f, 0.5)), row));
    assertEquals(RED, rgb(f.image(), (int) Math.floor(pixelX(f, 3.5)), row));
    assertNotEquals(RED, rgb(f.image(), (int) Math.floor(pixelX(f, 2)), row));
    // all non-finite: nothing to draw, still a picture
    Figure empty = Plots.renderLines(List.of(Series.of("nan", new double[] {Double.NaN})), "empty", null, null,
        true, 800, 500);
    assertEquals(800, empty.image().getWidth());
  }

  @Test
  void rawAndSmoothedShareAColourAndOnlyTheSmoothedCurveIsInTheLegend() {
    double[] x = {0, 1, 2, 3};
    double[] y = {4, 2, 6, 0};
    List<Series> pair = Plots.rawAndSmoothed("loss", x, y, 2, null);
    assertEquals(2, pair.size());
    assertFalse(pair.get(0).inLegend());
    assertTrue(pair.get(1).inLegend());
    assertTrue(pair.get(0).alpha() < 0.5);
    assertTrue(pair.get(1).width() > pair.get(0).width());
    assertNull(pair.get(0).color());
    assertArrayEquals(y, pair.get(0).y());
    assertArrayEquals(new double[] {4, 3, 4, 3}, pair.get(1).y(), 1e-12);
  }

  // ------------------------------------------------------------------------------------------ files

  @Test
  void plotsAreWrittenAtomicallyAsPngsThatReadBack(@TempDir Path dir) throws IOException {
    float[] pts = {0, 0, 1, 2, -1, 0.5f};
    Path scatter = dir.resolve("out/scatter.png");
    Figure s = Plots.scatter(pts, scatter, ScatterOptions.defaults().withTitle("s"));
    Path heat = dir.resolve("out/heat.png");
    Figure h = Plots.heatmap(new double[] {1, 2, 3, 4}, 2, 2, Range.of(0, 1), Range.of(0, 1), heat, "h", "p");
    Path lines = dir.resolve("out/lines.png");
    Figure l = Plots.lines(List.of(Series.of("a", new double[] {3, 2, 1})), lines, "l", "step", "loss", false);
    for (Object[] c : new Object[][] {{scatter, s}, {heat, h}, {lines, l}}) {
      BufferedImage back = ImageIO.read(((Path) c[0]).toFile());
      BufferedImage img = ((Figure) c[1]).image();
      assertEquals(img.getWidth(), back.getWidth(), c[0].toString());
      assertEquals(img.getHeight(), back.getHeight(), c[0].toString());
      for (int y = 0; y < img.getHeight(); y += 7) {
        for (int x = 0; x < img.getWidth(); x += 7) {
          assertEquals(img.getRGB(x, y), back.getRGB(x, y), c[0] + " pixel (" + x + ", " + y + ")");
        }
      }
    }
    assertEquals(640, s.image().getWidth());
    assertEquals(Plots.LINES_WIDTH, l.image().getWidth());
    assertEquals(Plots.LINES_HEIGHT, l.image().getHeight());
    try (Stream<Path> files = Files.list(dir.resolve("out"))) {
      assertEquals(List.of("heat.png", "lines.png", "scatter.png"),
          files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
    }
  }

  @Test
  void aFailedPlotLeavesThePreviousFileAsItWas(@TempDir Path dir) throws IOException {
    Path png = dir.resolve("scatter.png");
    Plots.scatter(new float[] {0, 0}, png, ScatterOptions.defaults());
    byte[] before = Files.readAllBytes(png);
    assertThrows(IllegalArgumentException.class,
        () -> Plots.scatter(new float[] {0, 0, 1}, png, ScatterOptions.defaults()));
    assertArrayEquals(before, Files.readAllBytes(png));
    // a path whose parent is a file cannot be written: the error names it
    Path blocked = png.resolve("inside.png");
    IOException e = assertThrows(IOException.class,
        () -> Plots.scatter(new float[] {0, 0}, blocked, ScatterOptions.defaults()));
    assertTrue(e.getMessage().contains(blocked.toString()), e.getMessage());
  }
}
