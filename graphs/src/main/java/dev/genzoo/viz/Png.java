package dev.genzoo.viz;

import dev.genzoo.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import javax.imageio.ImageIO;

/** Writes pictures as PNG files (W3C, "Portable Network Graphics (PNG) Specification"), atomically. */
public final class Png {
  private Png() {}

  /**
   * Writes {@code image} to {@code png} through {@link AtomicFiles#write}: a reader sees either the previous file or
   * the whole new one, never a part. Missing parent folders are created.
   *
   * @throws IOException if the file cannot be written (the message names it)
   */
  public static void write(BufferedImage image, Path png) throws IOException {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(png, "png path");
    try {
      AtomicFiles.write(png, out -> {
        if (!ImageIO.write(image, "png", out)) {
          throw new IOException("no PNG writer for image type " + image.getType());
        }
      });
    } catch (IOException e) {
      throw new IOException("cannot write PNG " + png + ": " + e.getMessage(), e);
    }
  }
}
