package dev.genzoo.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the CIFAR-10 binary format (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009; the
 * "binary version" at https://www.cs.toronto.edu/~kriz/cifar.html): a file is a sequence of 3,073-byte records, each
 * one label byte (0..9) followed by 3,072 pixel bytes: the 1,024 red values of the 32 x 32 image in row-major order,
 * then the 1,024 green, then the 1,024 blue. The images come back in HWC order (32 x 32 x 3).
 */
public final class CifarReader {
  /** Image side. */
  public static final int SIDE = 32;
  /** Channels. */
  public static final int CHANNELS = 3;
  /** Bytes per record: 1 label byte and 32 * 32 * 3 pixel bytes. */
  public static final int RECORD_SIZE = 1 + SIDE * SIDE * CHANNELS;
  /** The class names, index = label (from the dataset's batches.meta). */
  public static final List<String> CLASS_NAMES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
      "frog", "horse", "ship", "truck");

  private static final String TRAIN_GLOB = "data_batch_*.bin";
  private static final String TEST_GLOB = "test_batch*.bin";
  /** The folder the official cifar-10-binary.tar.gz unpacks to. */
  private static final String ARCHIVE_FOLDER = "cifar-10-batches-bin";

  private CifarReader() {}

  /** Reads one CIFAR-10 binary file. */
  public static ImageDataset read(Path file) throws IOException {
    return read(List.of(file), "cifar10:" + file);
  }

  /**
   * Reads the files of one split in {@code dir}: {@code "train"} is every {@code data_batch_*.bin}, {@code "test"}
   * every {@code test_batch*.bin}, in natural sorted order (so {@code data_batch_2} comes before
   * {@code data_batch_10}). When {@code dir} has none but has a {@code cifar-10-batches-bin} subfolder (the official
   * archive's layout), the files are taken from there.
   */
  public static ImageDataset readDir(Path dir, String split) throws IOException {
    String glob = switch (split) {
      case "train" -> TRAIN_GLOB;
      case "test" -> TEST_GLOB;
      default -> throw new IllegalArgumentException("CIFAR-10 split '" + split + "' is not one of: train, test");
    };
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a folder (expected the CIFAR-10 binary files)");
    }
    List<Path> files = list(dir, glob);
    if (files.isEmpty() && Files.isDirectory(dir.resolve(ARCHIVE_FOLDER))) {
      files = list(dir.resolve(ARCHIVE_FOLDER), glob);
    }
    if (files.isEmpty()) {
      throw new NoSuchFileException(dir.toString(), null, "no CIFAR-10 " + split + " files: looked for " + glob
          + " in it and in its " + ARCHIVE_FOLDER + " subfolder");
    }
    return read(files, "cifar10:" + dir + " (" + split + ")");
  }

  /** Reads {@code files} one after the other into one dataset. */
  public static ImageDataset read(List<Path> files, String description) throws IOException {
    long records = 0;
    for (Path f : files) {
      records += recordCount(f);
    }
    long bytes = records * (RECORD_SIZE - 1);
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IOException(description + ": " + records + " images are more than one Java array can hold");
    }
    byte[] pixels = new byte[(int) bytes];
    int[] labels = new int[(int) records];
    byte[] record = new byte[RECORD_SIZE];
    int plane = SIDE * SIDE;
    int at = 0;
    for (Path f : files) {
      long n = recordCount(f);
      try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 1 << 20)) {
        for (long r = 0; r < n; r++) {
          int got = in.readNBytes(record, 0, RECORD_SIZE);
          if (got != RECORD_SIZE) {
            throw new IOException(f + ": record " + r + " ends after " + got + " of " + RECORD_SIZE
                + " bytes (file changed while reading?)");
          }
          int label = record[0] & 0xff;
          if (label >= CLASS_NAMES.size()) {
            throw new IOException(f + ": record " + r + " has label " + label
                + ", CIFAR-10 labels are 0..9 (is this a CIFAR-100 file?)");
          }
          labels[at] = label;
          int base = at * plane * CHANNELS;
          for (int p = 0; p < plane; p++) {
            for (int c = 0; c < CHANNELS; c++) {
              pixels[base + p * CHANNELS + c] = record[1 + c * plane + p];
            }
          }
          at++;
        }
      }
    }
    return new ImageDataset(pixels, labels.length, SIDE, SIDE, CHANNELS, labels, CLASS_NAMES, description);
  }

  /** The number of records in {@code file}, after checking that its length is a whole number of records. */
  private static long recordCount(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "not a CIFAR-10 binary file");
    }
    long length = Files.size(file);
    if (length == 0 || length % RECORD_SIZE != 0) {
      throw new IOException(file + ": length " + length + " bytes is not a " + (length == 0 ? "positive " : "")
          + "multiple of the CIFAR-10 record size " + RECORD_SIZE + " (1 label byte + 3072 pixel bytes; truncated?)");
    }
    return length / RECORD_SIZE;
  }

  private static List<Path> list(Path dir, String glob) throws IOException {
    var matcher = dir.getFileSystem().getPathMatcher("glob:" + glob);
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> matcher.matches(p.getFileName()) && Files.isRegularFile(p)).forEach(out::add);
    }
    out.sort((a, b) -> NaturalOrder.compare(a.getFileName().toString(), b.getFileName().toString()));
    return out;
  }
}
