package dev.genzoo.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads MNIST in the IDX format (LeCun, Cortes and Burges, http://yann.lecun.com/exdb/mnist/): big-endian 32-bit
 * integers, then unsigned bytes. An idx3 image file is the magic number 2051 (0x00000803), the image count N, the
 * rows and the columns, then N * rows * columns pixels, image by image, row-major. An idx1 label file is the magic
 * 2049 (0x00000801), the count N, then N label bytes. Either file may be gzip-compressed; compression is recognised
 * by the gzip magic bytes 0x1f 0x8b, not by the file name. Images come back as N x rows x columns x 1.
 */
public final class MnistReader {
  /** Magic number of an idx3 unsigned-byte file (images). */
  public static final int IMAGES_MAGIC = 2051;
  /** Magic number of an idx1 unsigned-byte file (labels). */
  public static final int LABELS_MAGIC = 2049;

  private static final List<String> DIGITS = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

  private MnistReader() {}

  /**
   * Reads the image and label files of one split in {@code dir}: {@code "train"} is
   * {@code train-images-idx3-ubyte} and {@code train-labels-idx1-ubyte}, {@code "test"} is
   * {@code t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte}, each raw or with a {@code .gz} suffix.
   */
  public static ImageDataset readDir(Path dir, String split) throws IOException {
    String prefix = switch (split) {
      case "train" -> "train";
      case "test" -> "t10k";
      default -> throw new IllegalArgumentException("MNIST split '" + split + "' is not one of: train, test");
    };
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a folder (expected the MNIST idx files)");
    }
    Path images = find(dir, prefix + "-images-idx3-ubyte");
    Path labels = find(dir, prefix + "-labels-idx1-ubyte");
    return read(images, labels, "mnist:" + dir + " (" + split + ")");
  }

  /** Reads an idx3 image file and the idx1 label file that belongs to it (labels may be null: no labels). */
  public static ImageDataset read(Path images, Path labels) throws IOException {
    return read(images, labels, "mnist:" + images);
  }

  private static ImageDataset read(Path images, Path labels, String description) throws IOException {
    byte[] pixels;
    int n;
    int rows;
    int cols;
    try (InputStream in = open(images)) {
      int magic = readInt(in, images, "magic number");
      if (magic != IMAGES_MAGIC) {
        throw new IOException(images + ": magic number " + magic + " (0x" + Integer.toHexString(magic)
            + ") is not " + IMAGES_MAGIC + " (idx3 unsigned-byte images)"
            + (magic == LABELS_MAGIC ? "; this is a label file" : ""));
      }
      n = readInt(in, images, "image count");
      rows = readInt(in, images, "row count");
      cols = readInt(in, images, "column count");
      if (n < 0 || rows <= 0 || cols <= 0) {
        throw new IOException(images + ": bad dimensions " + n + " images of " + rows + " x " + cols);
      }
      long size = (long) n * rows * cols;
      if (size > Integer.MAX_VALUE - 8) {
        throw new IOException(images + ": " + n + " images of " + rows + " x " + cols
            + " are more than one Java array can hold");
      }
      pixels = new byte[(int) size];
      int got = readFully(in, pixels, images);
      if (got != pixels.length) {
        throw new IOException(images + ": truncated: the header announces " + n + " images of " + rows + " x "
            + cols + " (" + size + " pixel bytes) but the file has " + got);
      }
      checkEnd(in, images);
    }
    int[] labelValues = null;
    if (labels != null) {
      try (InputStream in = open(labels)) {
        int magic = readInt(in, labels, "magic number");
        if (magic != LABELS_MAGIC) {
          throw new IOException(labels + ": magic number " + magic + " (0x" + Integer.toHexString(magic)
              + ") is not " + LABELS_MAGIC + " (idx1 unsigned-byte labels)"
              + (magic == IMAGES_MAGIC ? "; this is an image file" : ""));
        }
        int count = readInt(in, labels, "label count");
        if (count != n) {
          throw new IOException(labels + ": " + count + " labels, but " + images + " has " + n + " images");
        }
        byte[] raw = new byte[count];
        int got = readFully(in, raw, labels);
        if (got != count) {
          throw new IOException(labels + ": truncated: the header announces " + count + " labels but the file has "
              + got);
        }
        checkEnd(in, labels);
        labelValues = new int[count];
        for (int i = 0; i < count; i++) {
          labelValues[i] = raw[i] & 0xff;
        }
      }
    }
    return new ImageDataset(pixels, n, rows, cols, 1, labelValues, labelValues == null ? List.of() : DIGITS,
        description);
  }

  private static Path find(Path dir, String name) throws IOException {
    for (String candidate : List.of(name, name + ".gz")) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new NoSuchFileException(dir.toString(), null, "no MNIST file: looked for " + name + " and " + name + ".gz");
  }

  /** Opens {@code file}, decompressing when it starts with the gzip magic 0x1f 0x8b. */
  private static InputStream open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "not an MNIST idx file");
    }
    BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    try {
      in.mark(2);
      int b0 = in.read();
      int b1 = in.read();
      in.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
      }
      return in;
    } catch (IOException e) {
      in.close();
      throw new IOException(file + ": cannot read the gzip header: " + e.getMessage(), e);
    }
  }

  /** Reads as many bytes as there are, up to {@code dst.length}; a corrupt gzip stream names the file. */
  private static int readFully(InputStream in, byte[] dst, Path file) throws IOException {
    try {
      return in.readNBytes(dst, 0, dst.length);
    } catch (EOFException e) {
      throw new IOException(file + ": truncated: the gzip stream ends early (" + e.getMessage() + ")", e);
    } catch (java.util.zip.ZipException e) {
      throw new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
    }
  }

  private static int readInt(InputStream in, Path file, String what) throws IOException {
    byte[] b;
    try {
      b = in.readNBytes(4);
    } catch (EOFException | java.util.zip.ZipException e) {
      throw new IOException(file + ": corrupt or truncated gzip data in the header (" + e.getMessage() + ")", e);
    }
    if (b.length != 4) {
      throw new IOException(file + ": truncated: the file ends inside the header (" + what + ")");
    }
    return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
  }

  private static void checkEnd(InputStream in, Path file) throws IOException {
    long extra = 0;
    byte[] buf = new byte[8192];
    try {
      for (int r; (r = in.read(buf)) > 0; ) {
        extra += r;
      }
    } catch (EOFException | java.util.zip.ZipException e) {
      throw new IOException(file + ": corrupt or truncated gzip data after the images (" + e.getMessage() + ")", e);
    }
    if (extra > 0) {
      throw new IOException(file + ": " + extra + " bytes after the data the header announces (wrong file?)");
    }
  }
}
