package dev.genzoo.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Writes a folder of "your own" digits to fine-tune on: 28 x 28 grayscale PNGs, white strokes on black like MNIST,
 * drawn as pen strokes with random slant, size, position and stroke width, in DIR/0 ... DIR/9 (so the subfolders are
 * the labels). They look like digits but not like MNIST's, which is the point of fine-tuning.
 *
 * <pre>
 * java -cp ... dev.genzoo.examples.DemoDigits my-digits 256
 * </pre>
 */
public final class DemoDigits {
  private DemoDigits() {}

  /** Pen strokes of each digit in a unit box (x right, y down), as polylines of (x, y) pairs. */
  private static final double[][][] STROKES = {
      {{0.5, 0.05, 0.2, 0.2, 0.12, 0.5, 0.2, 0.8, 0.5, 0.95, 0.8, 0.8, 0.88, 0.5, 0.8, 0.2, 0.5, 0.05}},
      {{0.3, 0.25, 0.55, 0.05, 0.55, 0.95}, {0.35, 0.95, 0.75, 0.95}},
      {{0.15, 0.25, 0.35, 0.07, 0.65, 0.07, 0.82, 0.28, 0.7, 0.5, 0.15, 0.95, 0.88, 0.95}},
      {{0.15, 0.12, 0.75, 0.08, 0.45, 0.45, 0.8, 0.6, 0.78, 0.85, 0.5, 0.96, 0.15, 0.88}},
      {{0.65, 0.95, 0.65, 0.05, 0.12, 0.68, 0.9, 0.68}},
      {{0.82, 0.07, 0.25, 0.07, 0.2, 0.45, 0.6, 0.4, 0.82, 0.62, 0.7, 0.9, 0.4, 0.96, 0.15, 0.85}},
      {{0.75, 0.07, 0.35, 0.3, 0.17, 0.7, 0.35, 0.95, 0.7, 0.9, 0.8, 0.65, 0.55, 0.5, 0.22, 0.62}},
      {{0.12, 0.08, 0.88, 0.08, 0.45, 0.95}, {0.3, 0.52, 0.75, 0.52}},
      {{0.5, 0.5, 0.2, 0.3, 0.5, 0.05, 0.8, 0.3, 0.5, 0.5, 0.15, 0.73, 0.5, 0.96, 0.85, 0.73, 0.5, 0.5}},
      {{0.8, 0.35, 0.5, 0.5, 0.2, 0.3, 0.5, 0.05, 0.8, 0.25, 0.8, 0.35, 0.7, 0.95}},
  };

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "my-digits");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    write(dir, n, 0);
    System.out.println("wrote " + n + " digits to " + dir);
  }

  /** Writes {@code n} digits (cycling 0..9) as DIR/d/NNNN.png. */
  public static void write(Path dir, int n, long seed) throws Exception {
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      int digit = i % 10;
      Path sub = dir.resolve(Integer.toString(digit));
      Files.createDirectories(sub);
      ImageIO.write(render(digit, rng), "png", sub.resolve(String.format("%04d.png", i)).toFile());
    }
  }

  static BufferedImage render(int digit, SplittableRandom rng) {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      g.setColor(Color.BLACK);
      g.fillRect(0, 0, 28, 28);
      double size = 16 + 4 * rng.nextDouble();
      AffineTransform t = new AffineTransform();
      t.translate(14 + 2 * (rng.nextDouble() - 0.5), 14 + 2 * (rng.nextDouble() - 0.5));
      t.rotate(0.25 * (rng.nextDouble() - 0.5));
      t.shear(-0.3 * rng.nextDouble(), 0);
      t.scale(size * (0.7 + 0.2 * rng.nextDouble()), size);
      t.translate(-0.5, -0.5);
      g.setColor(Color.WHITE);
      g.setStroke(new BasicStroke((float) (1.8 + 1.4 * rng.nextDouble()), BasicStroke.CAP_ROUND,
          BasicStroke.JOIN_ROUND));
      for (double[] stroke : STROKES[digit]) {
        Path2D.Double p = new Path2D.Double();
        for (int k = 0; k < stroke.length; k += 2) {
          double x = stroke[k] + 0.03 * (rng.nextDouble() - 0.5);
          double y = stroke[k + 1] + 0.03 * (rng.nextDouble() - 0.5);
          if (k == 0) {
            p.moveTo(x, y);
          } else {
            p.lineTo(x, y);
          }
        }
        g.draw(t.createTransformedShape(p));
      }
    } finally {
      g.dispose();
    }
    return img;
  }
}
