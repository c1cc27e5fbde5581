package dev.genzoo.viz;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Composite;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Package-private painter of the parts every plot shares: the layout of the data area inside the picture, the light
 * grid, the frame with outward ticks and tick labels, the axis labels, the title and a legend. The data area is
 * computed once from the picture size, the fonts and the tick labels; {@link #px} and {@link #py} map data to pixels
 * as {@link Figure} documents.
 */
final class Axes {
  static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
  static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
  static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  static final Font NOTE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  static final Color TEXT = new Color(0x222222);
  static final Color FRAME = new Color(0x555555);
  static final Color GRID = new Color(0xE6E6E6);
  static final Color WARNING = new Color(0xC0392B);
  static final int TICK_LENGTH = 5;

  /** Matplotlib's default "tab10" cycle: blue, orange, green, red, purple, brown, pink, grey, olive, cyan. */
  static final Color[] PALETTE = {
      new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
      new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

  /** One row of a legend: a line swatch of {@code lineWidth} or, when that is 0, a round marker. */
  record LegendEntry(String label, Color color, float lineWidth) {}

  final Rectangle area;
  final Range x;
  final Range y;
  final boolean logY;
  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final double[] xTicks;
  private final String[] xTickLabels;
  private final double[] yTicks;
  private final String[] yTickLabels;
  private final int imageWidth;

  private Axes(int imageWidth, Rectangle area, Range x, Range y, boolean logY, String title, String xLabel,
      String yLabel, double[] xTicks, String[] xTickLabels, double[] yTicks, String[] yTickLabels) {
    this.imageWidth = imageWidth;
    this.area = area;
    this.x = x;
    this.y = y;
    this.logY = logY;
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.xTicks = xTicks;
    this.xTickLabels = xTickLabels;
    this.yTicks = yTicks;
    this.yTickLabels = yTickLabels;
  }

  /** A white picture and its graphics with antialiased shapes and text. */
  static BufferedImage canvas(int width, int height) {
    if (width < 120 || height < 120 || (long) width * height > (1L << 26)) {
      throw new IllegalArgumentException("figure size " + width + "x" + height
          + " must be at least 120x120 and at most 64 Mpixel");
    }
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
    } finally {
      g.dispose();
    }
    return image;
  }

  static Graphics2D graphics(BufferedImage image) {
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    return g;
  }

  /**
   * Lays out a plot of {@code width x height} pixels whose right {@code rightReserve} pixels are kept for something
   * else (a colour bar) and whose bottom {@code bottomReserve} pixels for a note.
   */
  static Axes layout(Graphics2D g, int width, int height, String title, String xLabel, String yLabel, Range x,
      Range y, boolean logY, int rightReserve, int bottomReserve) {
    FontMetrics tick = g.getFontMetrics(TICK_FONT);
    FontMetrics label = g.getFontMetrics(LABEL_FONT);
    FontMetrics head = g.getFontMetrics(TITLE_FONT);
    int top = hasText(title) ? 14 + head.getHeight() + 10 : 18;
    int bottom = TICK_LENGTH + 4 + tick.getHeight() + (hasText(xLabel) ? 6 + label.getHeight() : 0) + 12
        + bottomReserve;
    int estimatedHeight = Math.max(40, height - top - bottom);
    double[] yTicks = yTicks(y, logY, Math.max(2, estimatedHeight / 55));
    String[] yTickLabels = logY ? Ticks.logLabels(yTicks) : Ticks.labels(yTicks);
    int yTickWidth = 0;
    for (String s : yTickLabels) {
      yTickWidth = Math.max(yTickWidth, tick.stringWidth(minus(s)));
    }
    int left = 14 + (hasText(yLabel) ? label.getHeight() + 8 : 0) + yTickWidth + 6 + TICK_LENGTH;
    int estimatedWidth = Math.max(40, width - left - 30 - rightReserve);
    double[] xTicks = null;
    String[] xTickLabels = null;
    for (int target = Math.max(2, estimatedWidth / 70); target >= 1; target--) {
      xTicks = Ticks.linear(x.min(), x.max(), target);
      xTickLabels = Ticks.labels(xTicks);
      if (fits(tick, xTicks, xTickLabels, x, estimatedWidth)) {
        break;
      }
    }
    int overhang = xTickLabels.length == 0 ? 0 : tick.stringWidth(minus(xTickLabels[xTickLabels.length - 1])) / 2;
    int right = Math.max(24, overhang + 8) + rightReserve;
    Rectangle area = new Rectangle(left, top, width - left - right, height - top - bottom);
    if (area.width < 40 || area.height < 40) {
      throw new IllegalArgumentException("figure size " + width + "x" + height + " leaves a data area of "
          + area.width + "x" + area.height + " pixels; make the figure larger");
    }
    return new Axes(width, area, x, y, logY, title, xLabel, yLabel, xTicks, xTickLabels, yTicks, yTickLabels);
  }

  /** The same axes with the data area and the picture width replaced (for a fixed aspect ratio); ticks are kept. */
  Axes withArea(Rectangle newArea, int newImageWidth) {
    return new Axes(newImageWidth, newArea, x, y, logY, title, xLabel, yLabel, xTicks, xTickLabels, yTicks,
        yTickLabels);
  }

  /** The same axes over other (slightly grown) ranges; ticks and area are kept. */
  Axes withRanges(Range newX, Range newY) {
    return new Axes(imageWidth, area, newX, newY, logY, title, xLabel, yLabel, xTicks, xTickLabels, yTicks,
        yTickLabels);
  }

  private static double[] yTicks(Range y, boolean logY, int target) {
    return logY ? Ticks.log(y.min(), y.max(), target) : Ticks.linear(y.min(), y.max(), target);
  }

  private static boolean fits(FontMetrics fm, double[] ticks, String[] labels, Range x, int width) {
    double prevRight = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < ticks.length; i++) {
      double c = (ticks[i] - x.min()) / x.span() * width;
      double w = fm.stringWidth(minus(labels[i]));
      if (c - w / 2 < prevRight + 12) {
        return false;
      }
      prevRight = c + w / 2;
    }
    return true;
  }

  double px(double v) {
    return area.x + (v - x.min()) / x.span() * area.width;
  }

  double py(double v) {
    double t = logY
        ? (Math.log10(v) - Math.log10(y.min())) / (Math.log10(y.max()) - Math.log10(y.min()))
        : (v - y.min()) / y.span();
    return area.y + area.height - t * area.height;
  }

  /** Light lines at the ticks, under the data. */
  void drawGrid(Graphics2D g) {
    Object aa = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
    g.setColor(GRID);
    g.setStroke(new BasicStroke(1f));
    for (double t : xTicks) {
      int c = column(px(t));
      g.drawLine(c, area.y, c, area.y + area.height - 1);
    }
    for (double t : yTicks) {
      int r = row(py(t));
      g.drawLine(area.x, r, area.x + area.width - 1, r);
    }
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, aa);
  }

  /** The frame just outside the data area, the ticks and their labels, the axis labels and the title. */
  void drawFrame(Graphics2D g) {
    Object aa = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
    g.setStroke(new BasicStroke(1f));
    g.setColor(FRAME);
    g.drawRect(area.x - 1, area.y - 1, area.width + 1, area.height + 1);
    int below = area.y + area.height;
    for (double t : xTicks) {
      int c = column(px(t));
      g.drawLine(c, below + 1, c, below + TICK_LENGTH);
    }
    for (double t : yTicks) {
      int r = row(py(t));
      g.drawLine(area.x - 1 - TICK_LENGTH, r, area.x - 2, r);
    }
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, aa);

    g.setColor(TEXT);
    g.setFont(TICK_FONT);
    FontMetrics tick = g.getFontMetrics();
    int labelTop = below + TICK_LENGTH + 4;
    for (int i = 0; i < xTicks.length; i++) {
      text(g, minus(xTickLabels[i]), column(px(xTicks[i])) + 0.5, labelTop + tick.getAscent(), 0.5);
    }
    int labelRight = area.x - 1 - TICK_LENGTH - 6;
    for (int i = 0; i < yTicks.length; i++) {
      double baseline = row(py(yTicks[i])) + 0.5 + (tick.getAscent() - tick.getDescent()) / 2.0;
      text(g, minus(yTickLabels[i]), labelRight, baseline, 1.0);
    }
    g.setFont(LABEL_FONT);
    FontMetrics label = g.getFontMetrics();
    if (hasText(xLabel)) {
      double baseline = labelTop + tick.getHeight() + 6 + label.getAscent();
      text(g, xLabel, area.getCenterX(), baseline, 0.5);
    }
    if (hasText(yLabel)) {
      int widest = 0;
      for (String s : yTickLabels) {
        widest = Math.max(widest, tick.stringWidth(minus(s)));
      }
      double cx = labelRight - widest - 8 - label.getDescent();
      AffineTransform saved = g.getTransform();
      g.rotate(-Math.PI / 2, cx, area.getCenterY());
      text(g, yLabel, cx, area.getCenterY(), 0.5);
      g.setTransform(saved);
    }
    if (hasText(title)) {
      drawTitle(g, title, area, imageWidth);
    }
  }

  /** The title centred over the data area, shrunk (down to 11 pt) to fit the picture's width. */
  static void drawTitle(Graphics2D g, String title, Rectangle area, int imageWidth) {
    Font font = TITLE_FONT;
    FontMetrics fm = g.getFontMetrics(font);
    while (fm.stringWidth(title) > imageWidth - 16 && font.getSize() > 11) {
      font = font.deriveFont(font.getSize2D() - 1);
      fm = g.getFontMetrics(font);
    }
    double w = fm.stringWidth(title);
    double cx = area.getCenterX();
    cx = Math.max(8 + w / 2, Math.min(imageWidth - 8 - w / 2, cx));
    g.setFont(font);
    g.setColor(TEXT);
    text(g, title, cx, area.y - 12 - fm.getDescent(), 0.5);
  }

  /**
   * A legend in the corner of the data area that covers the fewest of the given pixel positions (upper right, upper
   * left, lower right, lower left in that order on ties).
   */
  void drawLegend(Graphics2D g, List<LegendEntry> entries, double[] occupiedX, double[] occupiedY, int occupied) {
    if (entries.isEmpty()) {
      return;
    }
    g.setFont(TICK_FONT);
    FontMetrics fm = g.getFontMetrics();
    int rowHeight = fm.getHeight() + 4;
    int swatch = 24;
    int textWidth = 0;
    for (LegendEntry e : entries) {
      textWidth = Math.max(textWidth, fm.stringWidth(e.label()));
    }
    int boxW = 10 + swatch + 8 + textWidth + 10;
    int boxH = 8 + entries.size() * rowHeight + 4;
    int inset = 10;
    int[][] corners = {
        {area.x + area.width - inset - boxW, area.y + inset},
        {area.x + inset, area.y + inset},
        {area.x + area.width - inset - boxW, area.y + area.height - inset - boxH},
        {area.x + inset, area.y + area.height - inset - boxH}};
    int best = 0;
    long bestCount = Long.MAX_VALUE;
    for (int k = 0; k < corners.length; k++) {
      long count = 0;
      for (int i = 0; i < occupied; i++) {
        double ox = occupiedX[i];
        double oy = occupiedY[i];
        if (ox >= corners[k][0] && ox <= corners[k][0] + boxW && oy >= corners[k][1] && oy <= corners[k][1] + boxH) {
          count++;
        }
      }
      if (count < bestCount) {
        bestCount = count;
        best = k;
      }
    }
    int bx = corners[best][0];
    int by = corners[best][1];
    Composite saved = g.getComposite();
    g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.88f));
    g.setColor(Color.WHITE);
    g.fillRoundRect(bx, by, boxW, boxH, 8, 8);
    g.setComposite(saved);
    g.setColor(new Color(0xCCCCCC));
    g.setStroke(new BasicStroke(1f));
    g.drawRoundRect(bx, by, boxW, boxH, 8, 8);
    for (int i = 0; i < entries.size(); i++) {
      LegendEntry e = entries.get(i);
      double cy = by + 8 + i * rowHeight + rowHeight / 2.0 - 2;
      g.setColor(e.color());
      if (e.lineWidth() > 0) {
        g.setStroke(new BasicStroke(Math.max(1.5f, e.lineWidth()), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(new Line2D.Double(bx + 10, cy, bx + 10 + swatch, cy));
      } else {
        g.fill(new Ellipse2D.Double(bx + 10 + swatch / 2.0 - 4, cy - 4, 8, 8));
      }
      g.setColor(TEXT);
      text(g, e.label(), bx + 10 + swatch + 8, cy + (fm.getAscent() - fm.getDescent()) / 2.0, 0);
    }
  }

  /** A short red note in the lower right corner of the picture, e.g. about points that were not drawn. */
  static void drawNote(Graphics2D g, String note, int imageWidth, int imageHeight) {
    g.setFont(NOTE_FONT);
    g.setColor(WARNING);
    FontMetrics fm = g.getFontMetrics();
    text(g, note, imageWidth - 8, imageHeight - 6 - fm.getDescent(), 1.0);
  }

  /** Draws {@code s} with its baseline at {@code baseline}; {@code align} 0 puts x at its left, 0.5 centre, 1 right. */
  static void text(Graphics2D g, String s, double x, double baseline, double align) {
    double w = g.getFontMetrics().getStringBounds(s, g).getWidth();
    g.drawString(s, (float) (x - align * w), (float) baseline);
  }

  /** The pixel column of a continuous x position, kept inside the data area. */
  int column(double px) {
    return Math.max(area.x, Math.min(area.x + area.width - 1, (int) Math.floor(px)));
  }

  /** The pixel row of a continuous y position, kept inside the data area. */
  int row(double py) {
    return Math.max(area.y, Math.min(area.y + area.height - 1, (int) Math.floor(py)));
  }

  static boolean hasText(String s) {
    return s != null && !s.isBlank();
  }

  /** Typographic minus signs in tick labels. */
  static String minus(String s) {
    return s.replace('-', '\u2212');
  }
}
