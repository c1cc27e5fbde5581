package dev.genzoo.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The plots genzoo writes as results: scatter plots of 2-D samples, heat maps of 2-D densities and line plots of
 * training curves. Each {@code xxx(..., Path png, ...)} method renders, writes the PNG atomically and returns the
 * {@link Figure}; each {@code renderXxx} method only renders. Rendering is headless Java2D.
 */
public final class Plots {
  /** Default picture size of {@link #lines}. */
  public static final int LINES_WIDTH = 800;
  public static final int LINES_HEIGHT = 500;
  /** Default picture size of {@link #heatmap}. */
  public static final int HEATMAP_WIDTH = 700;
  public static final int HEATMAP_HEIGHT = 600;
  private static final int BAR_GAP = 18;
  private static final int BAR_WIDTH = 18;

  /** Colours of {@link #scatter(float[], float[], Path, ScatterOptions)}: data grey-blue, model orange. */
  static final Color DATA_COLOR = Axes.PALETTE[0];
  static final Color MODEL_COLOR = Axes.PALETTE[1];

  private Plots() {}

  // ---------------------------------------------------------------------------------------------- scatter

  /** A scatter plot of one set of N x 2 row-major points, written to {@code png}. */
  public static Figure scatter(float[] points, Path png, ScatterOptions options) throws IOException {
    return renderScatter(List.of(PointSet.of("samples", points)), options).write(png);
  }

  /**
   * A scatter plot of data and model samples (each N x 2 row-major) in two colours with a legend, written to
   * {@code png}; the model's points are drawn over the data's.
   */
  public static Figure scatter(float[] data, float[] model, Path png, ScatterOptions options) throws IOException {
    return renderScatter(twoSets(data, model), options).write(png);
  }

  /** A scatter plot of several point sets, drawn in order, written to {@code png}. */
  public static Figure scatter(List<PointSet> sets, Path png, ScatterOptions options) throws IOException {
    return renderScatter(sets, options).write(png);
  }

  /** Renders {@link #scatter(float[], float[], Path, ScatterOptions)} without writing it. */
  public static Figure renderScatter(float[] data, float[] model, ScatterOptions options) {
    return renderScatter(twoSets(data, model), options);
  }

  private static List<PointSet> twoSets(float[] data, float[] model) {
    return List.of(PointSet.of("data", data).withStyle(DATA_COLOR, Double.NaN, Double.NaN),
        PointSet.of("model", model).withStyle(MODEL_COLOR, Double.NaN, Double.NaN));
  }

  /**
   * Renders a scatter plot. Automatic ranges cover every finite point of every set plus the margin; with equal aspect
   * they then grow so that a data unit has the same length on both axes. Points outside fixed ranges are clipped.
   * Points with a non-finite coordinate are not drawn; a red note in the corner says how many there were.
   */
  public static Figure renderScatter(List<PointSet> sets, ScatterOptions options) {
    Objects.requireNonNull(sets, "scatter point sets");
    Objects.requireNonNull(options, "scatter options");
    if (sets.isEmpty()) {
      throw new IllegalArgumentException("scatter plot needs at least one point set");
    }
    double[] bx = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    double[] by = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    long total = 0;
    long bad = 0;
    for (PointSet s : sets) {
      Objects.requireNonNull(s, "scatter point set");
      float[] p = s.points();
      for (int i = 0; i + 1 < p.length; i += 2) {
        total++;
        if (!Float.isFinite(p[i]) || !Float.isFinite(p[i + 1])) {
          bad++;
          continue;
        }
        bx[0] = Math.min(bx[0], p[i]);
        bx[1] = Math.max(bx[1], p[i]);
        by[0] = Math.min(by[0], p[i + 1]);
        by[1] = Math.max(by[1], p[i + 1]);
      }
    }
    Range unit = new Range(-1, 1);
    Range x = options.xRange() != null ? options.xRange()
        : Range.covering(bx[0], bx[1], unit).padded(options.margin());
    Range y = options.yRange() != null ? options.yRange()
        : Range.covering(by[0], by[1], unit).padded(options.margin());

    BufferedImage image = Axes.canvas(options.width(), options.height());
    Graphics2D g = Axes.graphics(image);
    try {
      int noteSpace = bad > 0 ? g.getFontMetrics(Axes.NOTE_FONT).getHeight() + 2 : 0;
      Axes axes = Axes.layout(g, options.width(), options.height(), options.title(), options.xLabel(),
          options.yLabel(), x, y, false, 0, noteSpace);
      if (options.equalAspect() && (options.xRange() == null || options.yRange() == null)) {
        for (int pass = 0; pass < 2; pass++) {
          double ux = x.span() / axes.area.width;
          double uy = y.span() / axes.area.height;
          if (ux > uy && options.yRange() == null) {
            y = grown(y, ux * axes.area.height);
          } else if (uy > ux && options.xRange() == null) {
            x = grown(x, uy * axes.area.width);
          }
          axes = Axes.layout(g, options.width(), options.height(), options.title(), options.xLabel(),
              options.yLabel(), x, y, false, 0, noteSpace);
        }
        // The last layout may have moved the area by a pixel: grow once more, keeping its ticks (growing a range
        // never pushes a tick out of it).
        double ux = x.span() / axes.area.width;
        double uy = y.span() / axes.area.height;
        if (ux > uy && options.yRange() == null) {
          y = grown(y, ux * axes.area.height);
        } else if (uy > ux && options.xRange() == null) {
          x = grown(x, uy * axes.area.width);
        }
        axes = axes.withRanges(x, y);
      }
      axes.drawGrid(g);
      Shape clip = g.getClip();
      g.setClip(axes.area);
      List<Axes.LegendEntry> legend = new ArrayList<>();
      int drawn = (int) Math.min(Integer.MAX_VALUE - 8, total - bad);
      double[] ox = new double[drawn];
      double[] oy = new double[drawn];
      int k = 0;
      for (PointSet s : sets) {
        float[] p = s.points();
        double d = s.effectiveSize();
        double r = d / 2;
        g.setColor(withAlpha(s.color(), s.effectiveAlpha()));
        Ellipse2D.Double dot = new Ellipse2D.Double();
        for (int i = 0; i + 1 < p.length; i += 2) {
          if (!Float.isFinite(p[i]) || !Float.isFinite(p[i + 1])) {
            continue;
          }
          double px = axes.px(p[i]);
          double py = axes.py(p[i + 1]);
          dot.setFrame(px - r, py - r, d, d);
          g.fill(dot);
          if (k < drawn) {
            ox[k] = px;
            oy[k] = py;
            k++;
          }
        }
        legend.add(new Axes.LegendEntry(s.name() == null ? "" : s.name(), s.color(), 0));
      }
      g.setClip(clip);
      axes.drawFrame(g);
      if (sets.size() > 1) {
        axes.drawLegend(g, legend, ox, oy, k);
      }
      if (bad > 0) {
        Axes.drawNote(g, bad + " of " + total + " points are NaN or infinite and not drawn", options.width(),
            options.height());
      }
      return new Figure(image, new Rectangle(axes.area), x, y, false);
    } finally {
      g.dispose();
    }
  }

  private static Range grown(Range r, double span) {
    double c = (r.min() + r.max()) / 2;
    return new Range(c - span / 2, c + span / 2);
  }

  // ---------------------------------------------------------------------------------------------- heat map

  /**
   * A heat map of {@code values} on a regular grid over {@code x} by {@code y}, written to {@code png}.
   * See {@link #renderHeatmap(double[], int, int, Range, Range, String, String, Range)}.
   */
  public static Figure heatmap(double[] values, int nx, int ny, Range x, Range y, Path png, String title,
      String colorBarLabel) throws IOException {
    return renderHeatmap(values, nx, ny, x, y, title, colorBarLabel, null).write(png);
  }

  /** As {@link #heatmap(double[], int, int, Range, Range, Path, String, String)} with a fixed colour scale. */
  public static Figure heatmap(double[] values, int nx, int ny, Range x, Range y, Path png, String title,
      String colorBarLabel, Range valueRange) throws IOException {
    return renderHeatmap(values, nx, ny, x, y, title, colorBarLabel, valueRange).write(png);
  }

  /**
   * Renders a heat map, e.g. of a 2-D model's density or log-density on a grid.
   *
   * <p>{@code values} is {@code ny x nx} row-major with row 0 at the smallest y (cell (i, j) = {@code values[j * nx +
   * i]} covers {@code x.min + [i, i+1) * x.span / nx} by {@code y.min + [j, j+1) * y.span / ny}); the y axis points up,
   * so row 0 is at the bottom. Each pixel of the data area takes the colour of the cell holding its centre:
   * {@link Viridis#rgb} of {@code (v - lo) / (hi - lo)}, where {@code [lo, hi]} is {@code valueRange} or else the range
   * of the finite values. NaN and -Inf get the lowest colour, +Inf the highest. The data area keeps the aspect ratio of
   * {@code x} to {@code y} when that is between 1:4 and 4:1. A colour bar with ticks on the right shows the scale.
   *
   * @param valueRange the values mapped to the ends of the colour map, or null for the finite values' range
   */
  public static Figure renderHeatmap(double[] values, int nx, int ny, Range x, Range y, String title,
      String colorBarLabel, Range valueRange) {
    Objects.requireNonNull(values, "heat map values");
    Objects.requireNonNull(x, "heat map x range");
    Objects.requireNonNull(y, "heat map y range");
    if (nx < 1 || ny < 1) {
      throw new IllegalArgumentException("heat map grid " + ny + " x " + nx + " (ny x nx) must be at least 1 x 1");
    }
    if ((long) nx * ny != values.length) {
      throw new IllegalArgumentException("heat map has " + values.length + " values but ny x nx = " + ny + " x " + nx
          + " = " + (long) nx * ny);
    }
    Range scale = valueRange;
    if (scale == null) {
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (double v : values) {
        if (Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      scale = Range.covering(lo, hi, new Range(0, 1));
    }
    // Lay out on a scratch canvas first: keeping the data's aspect ratio shrinks the picture to fit the data area.
    Axes axes;
    int width;
    int height;
    double[] barTicks;
    String[] barLabels;
    int reserve;
    BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D sg = Axes.graphics(scratch);
    try {
      barTicks = colorBarTicks(scale, HEATMAP_HEIGHT - 140);
      barLabels = Ticks.labels(barTicks);
      reserve = colorBarReserve(sg, barLabels, colorBarLabel);
      axes = Axes.layout(sg, HEATMAP_WIDTH, HEATMAP_HEIGHT, title, null, null, x, y, false, reserve, 0);
      Rectangle a = axes.area;
      Rectangle fitted = fitAspect(a, x, y);
      barTicks = colorBarTicks(scale, fitted.height);
      barLabels = Ticks.labels(barTicks);
      int newReserve = colorBarReserve(sg, barLabels, colorBarLabel);
      width = HEATMAP_WIDTH - (a.width - fitted.width) - (reserve - newReserve);
      height = HEATMAP_HEIGHT - (a.height - fitted.height);
      // Lay out again at the final size (the x ticks depend on the area's width), then fit once more: at most a few
      // pixels change.
      axes = Axes.layout(sg, width, height, title, null, null, x, y, false, newReserve, 0);
      axes = axes.withArea(fitAspect(axes.area, x, y), width);
    } finally {
      sg.dispose();
    }
    BufferedImage image = Axes.canvas(width, height);
    Graphics2D g = Axes.graphics(image);
    try {
      Rectangle a = axes.area;
      int[] row = new int[a.width];
      for (int v = 0; v < a.height; v++) {
        int j = Math.min(ny - 1, (int) Math.floor((a.height - v - 0.5) * ny / a.height));
        for (int u = 0; u < a.width; u++) {
          int i = Math.min(nx - 1, (int) Math.floor((u + 0.5) * nx / a.width));
          row[u] = heatColor(values[j * nx + i], scale);
        }
        image.setRGB(a.x, a.y + v, a.width, 1, row, 0, a.width);
      }
      axes.drawFrame(g);
      drawColorBar(g, image, new Rectangle(a.x + a.width + BAR_GAP, a.y, BAR_WIDTH, a.height), scale, barTicks,
          barLabels, colorBarLabel);
      return new Figure(image, new Rectangle(a), x, y, false);
    } finally {
      g.dispose();
    }
  }

  /** The viridis bar (low at the bottom) with a frame, ticks and labels on its right, and its rotated label. */
  private static void drawColorBar(Graphics2D g, BufferedImage image, Rectangle bar, Range scale, double[] ticks,
      String[] labels, String colorBarLabel) {
    for (int v = 0; v < bar.height; v++) {
      int rgb = Viridis.rgb(1 - (v + 0.5) / bar.height);
      for (int u = 0; u < bar.width; u++) {
        image.setRGB(bar.x + u, bar.y + v, rgb);
      }
    }
    Object aa = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
    g.setColor(Axes.FRAME);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(bar.x - 1, bar.y - 1, bar.width + 1, bar.height + 1);
    int[] tickRows = new int[ticks.length];
    for (int t = 0; t < ticks.length; t++) {
      double frac = (ticks[t] - scale.min()) / scale.span();
      tickRows[t] = Math.max(bar.y, Math.min(bar.y + bar.height - 1,
          (int) Math.floor(bar.y + bar.height - frac * bar.height)));
      g.drawLine(bar.x + bar.width + 1, tickRows[t], bar.x + bar.width + Axes.TICK_LENGTH, tickRows[t]);
    }
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, aa);
    g.setFont(Axes.TICK_FONT);
    g.setColor(Axes.TEXT);
    FontMetrics tick = g.getFontMetrics();
    int labelX = bar.x + bar.width + Axes.TICK_LENGTH + 5;
    for (int t = 0; t < ticks.length; t++) {
      double baseline = tickRows[t] + 0.5 + (tick.getAscent() - tick.getDescent()) / 2.0;
      Axes.text(g, Axes.minus(labels[t]), labelX, baseline, 0);
    }
    if (Axes.hasText(colorBarLabel)) {
      g.setFont(Axes.LABEL_FONT);
      double cx = labelX + maxWidth(tick, labels) + 10 + g.getFontMetrics().getAscent();
      AffineTransform saved = g.getTransform();
      g.rotate(-Math.PI / 2, cx, bar.getCenterY());
      Axes.text(g, colorBarLabel, cx, bar.getCenterY(), 0.5);
      g.setTransform(saved);
    }
  }


  /** The largest rectangle inside {@code a}, at its top left, with the aspect ratio of x to y when within 1:4..4:1. */
  private static Rectangle fitAspect(Rectangle a, Range x, Range y) {
    double aspect = x.span() / y.span();
    if (aspect < 0.25 || aspect > 4) {
      return a;
    }
    return (double) a.width / a.height > aspect
        ? new Rectangle(a.x, a.y, (int) Math.round(a.height * aspect), a.height)
        : new Rectangle(a.x, a.y, a.width, (int) Math.round(a.width / aspect));
  }

  private static double[] colorBarTicks(Range scale, int barHeight) {
    return Ticks.linear(scale.min(), scale.max(), Math.max(2, barHeight / 60));
  }

  /** Pixels right of the data area that the colour bar, its tick labels and its label take. */
  private static int colorBarReserve(Graphics2D g, String[] barLabels, String colorBarLabel) {
    FontMetrics tick = g.getFontMetrics(Axes.TICK_FONT);
    FontMetrics label = g.getFontMetrics(Axes.LABEL_FONT);
    return BAR_GAP + BAR_WIDTH + Axes.TICK_LENGTH + 5 + maxWidth(tick, barLabels)
        + (Axes.hasText(colorBarLabel) ? 10 + label.getHeight() : 0) + 4;
  }

  private static int maxWidth(FontMetrics fm, String[] labels) {
    int w = 0;
    for (String s : labels) {
      w = Math.max(w, fm.stringWidth(Axes.minus(s)));
    }
    return w;
  }

  private static int heatColor(double v, Range scale) {
    if (Double.isNaN(v) || v == Double.NEGATIVE_INFINITY) {
      return Viridis.rgb(0);
    }
    if (v == Double.POSITIVE_INFINITY) {
      return Viridis.rgb(1);
    }
    return Viridis.rgb((v - scale.min()) / scale.span());
  }

  // ---------------------------------------------------------------------------------------------- lines

  /**
   * A line plot of several series with a legend and a light grid, {@value #LINES_WIDTH} x {@value #LINES_HEIGHT}
   * pixels, written to {@code png}. See {@link #renderLines(List, String, String, String, boolean, int, int)}.
   */
  public static Figure lines(List<Series> series, Path png, String title, String xLabel, String yLabel,
      boolean logY) throws IOException {
    return renderLines(series, title, xLabel, yLabel, logY, LINES_WIDTH, LINES_HEIGHT).write(png);
  }

  /**
   * Renders a line plot: series drawn in order, each broken where a point is NaN or infinite (or not positive when
   * {@code logY}); an isolated point is drawn as a dot. The x range is the finite points' range, the y range theirs
   * plus 5% at each end (in log10 when {@code logY}). Series without a colour take palette colours, one per distinct
   * name, so a raw curve and its smoothed curve (see {@link #rawAndSmoothed}) match. The legend goes to the corner of
   * the data area that the lines cross least.
   */
  public static Figure renderLines(List<Series> series, String title, String xLabel, String yLabel, boolean logY,
      int width, int height) {
    Objects.requireNonNull(series, "line series");
    double xlo = Double.POSITIVE_INFINITY;
    double xhi = Double.NEGATIVE_INFINITY;
    double ylo = Double.POSITIVE_INFINITY;
    double yhi = Double.NEGATIVE_INFINITY;
    Map<String, Color> colors = new LinkedHashMap<>();
    List<Color> assigned = new ArrayList<>();
    for (Series s : series) {
      Objects.requireNonNull(s, "line series");
      Color c = s.color();
      if (c == null) {
        String key = s.name() == null ? "" : s.name();
        c = colors.computeIfAbsent(key, k -> Axes.PALETTE[colors.size() % Axes.PALETTE.length]);
      }
      assigned.add(c);
      for (int i = 0; i < s.x().length; i++) {
        if (valid(s.x()[i], s.y()[i], logY)) {
          xlo = Math.min(xlo, s.x()[i]);
          xhi = Math.max(xhi, s.x()[i]);
          double v = logY ? Math.log10(s.y()[i]) : s.y()[i];
          ylo = Math.min(ylo, v);
          yhi = Math.max(yhi, v);
        }
      }
    }
    Range x = Range.covering(xlo, xhi, new Range(0, 1));
    Range y = Range.covering(ylo, yhi, new Range(0, 1)).padded(0.05);
    if (logY) {
      y = new Range(Math.pow(10, y.min()), Math.pow(10, y.max()));
    }
    BufferedImage image = Axes.canvas(width, height);
    Graphics2D g = Axes.graphics(image);
    try {
      Axes axes = Axes.layout(g, width, height, title, xLabel, yLabel, x, y, logY, 0, 0);
      axes.drawGrid(g);
      Shape clip = g.getClip();
      g.setClip(axes.area);
      List<double[]> occupied = new ArrayList<>();
      List<Axes.LegendEntry> legend = new ArrayList<>();
      Map<String, Boolean> inLegend = new LinkedHashMap<>();
      for (int si = 0; si < series.size(); si++) {
        Series s = series.get(si);
        Color c = assigned.get(si);
        g.setColor(withAlpha(c, s.alpha()));
        g.setStroke(new BasicStroke(s.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D.Double path = new Path2D.Double();
        int run = 0;
        double lastX = 0;
        double lastY = 0;
        for (int i = 0; i <= s.x().length; i++) {
          boolean ok = i < s.x().length && valid(s.x()[i], s.y()[i], logY);
          if (!ok) {
            if (run == 1) {
              double d = Math.max(3, 2.5 * s.width());
              g.fill(new Ellipse2D.Double(lastX - d / 2, lastY - d / 2, d, d));
            }
            run = 0;
            continue;
          }
          double px = axes.px(s.x()[i]);
          double py = axes.py(s.y()[i]);
          if (run == 0) {
            path.moveTo(px, py);
            occupied.add(new double[] {px, py});
          } else {
            path.lineTo(px, py);
            double len = Math.hypot(px - lastX, py - lastY);
            int steps = (int) Math.min(1000, Math.ceil(len / 6));
            for (int k = 1; k <= steps; k++) {
              occupied.add(new double[] {lastX + (px - lastX) * k / steps, lastY + (py - lastY) * k / steps});
            }
          }
          run++;
          lastX = px;
          lastY = py;
        }
        g.draw(path);
        String name = s.name() == null ? "" : s.name();
        if (s.inLegend() && !name.isEmpty() && inLegend.putIfAbsent(name, true) == null) {
          legend.add(new Axes.LegendEntry(name, c, Math.max(2f, s.width())));
        }
      }
      g.setClip(clip);
      axes.drawFrame(g);
      double[] ox = new double[occupied.size()];
      double[] oy = new double[occupied.size()];
      for (int i = 0; i < ox.length; i++) {
        ox[i] = occupied.get(i)[0];
        oy[i] = occupied.get(i)[1];
      }
      axes.drawLegend(g, legend, ox, oy, ox.length);
      if (!Double.isFinite(xlo)) {
        g.setFont(Axes.LABEL_FONT);
        g.setColor(Axes.FRAME);
        Axes.text(g, logY ? "no finite positive points to draw" : "no finite points to draw",
            axes.area.getCenterX(), axes.area.getCenterY(), 0.5);
      }
      return new Figure(image, new Rectangle(axes.area), x, y, logY);
    } finally {
      g.dispose();
    }
  }

  /**
   * A noisy curve as two series in one colour, for {@link #lines}: the raw values faint and thin (no legend entry),
   * their trailing moving average over {@code window} points bold (with the legend entry).
   *
   * @param color the colour of both, or null for the palette colour of the name
   */
  public static List<Series> rawAndSmoothed(String name, double[] x, double[] y, int window, Color color) {
    Series raw = new Series(name, x, y, color, 1f, 0.25, false);
    Series smooth = new Series(name, x, Smoothing.movingAverage(y, window), color, 2.2f, 1.0, true);
    return List.of(raw, smooth);
  }

  private static boolean valid(double x, double y, boolean logY) {
    return Double.isFinite(x) && Double.isFinite(y) && (!logY || y > 0);
  }

  private static Color withAlpha(Color c, double alpha) {
    return new Color(c.getRed(), c.getGreen(), c.getBlue(), (int) Math.round(255 * alpha));
  }
}
