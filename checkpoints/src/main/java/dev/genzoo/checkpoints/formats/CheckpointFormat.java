package dev.genzoo.checkpoints.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/** The checkpoint formats genzoo reads, and detection of a file's format from its content. */
public enum CheckpointFormat {
  /** TensorFlow's tensor bundle ({@code prefix.index} + {@code prefix.data-*}), see {@link TensorBundle}. */
  TF_BUNDLE(".index"),
  /** safetensors, see {@link Safetensors}. */
  SAFETENSORS(".safetensors"),
  /** A NumPy zip of arrays, see {@link NumpyFiles}. */
  NPZ(".npz"),
  /** One NumPy array, see {@link NumpyFiles}. */
  NPY(".npy"),
  /** A PyTorch {@code torch.save} file (zip or legacy), read only. */
  PYTORCH(".pt");

  private static final byte[] NUMPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private final String extension;

  CheckpointFormat(String extension) {
    this.extension = extension;
  }

  /** The usual file extension ({@code .safetensors}; {@code .index} for a bundle's index). */
  public String extension() {
    return extension;
  }

  /**
   * The format named {@code name}, case-insensitive: an enum name or one of {@code tf}, {@code tensorflow},
   * {@code bundle}, {@code torch}, {@code pt}, {@code pth}, {@code st}.
   */
  public static CheckpointFormat parse(String name) {
    String n = name.strip().toLowerCase(Locale.ROOT).replace('-', '_');
    return switch (n) {
      case "tf", "tensorflow", "bundle", "tf_bundle", "index", "ckpt" -> TF_BUNDLE;
      case "safetensors", "st" -> SAFETENSORS;
      case "npz" -> NPZ;
      case "npy" -> NPY;
      case "pytorch", "torch", "pt", "pth" -> PYTORCH;
      default -> throw new IllegalArgumentException("unknown checkpoint format '" + name
          + "' (known: tf_bundle, safetensors, npz, npy, pytorch)");
    };
  }

  /** The format that {@code file}'s extension suggests, or null. Only a hint: {@link #detect} reads the content. */
  public static CheckpointFormat fromExtension(Path file) {
    String n = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".safetensors")) {
      return SAFETENSORS;
    }
    if (n.endsWith(".npz")) {
      return NPZ;
    }
    if (n.endsWith(".npy")) {
      return NPY;
    }
    if (n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".bin")) {
      return PYTORCH;
    }
    if (n.endsWith(".index") || n.matches(".*\\.data-\\d{5}-of-\\d{5}")) {
      return TF_BUNDLE;
    }
    return null;
  }

  /**
   * The format of {@code path}, from its content: a TensorFlow bundle prefix (whose {@code .index} exists), an
   * index (the LevelDB table magic at its end) or data shard; a zip holding {@code *.npy} entries (NPZ) or a
   * {@code data.pkl} (PyTorch); a pickle (legacy PyTorch); the {@code \x93NUMPY} magic; an 8-byte length followed
   * by {@code '{'} (safetensors; a truncated one is detected too, and its reader says what is wrong). The
   * content wins over the extension, so renamed files are recognised.
   *
   * @throws IOException naming the file when it is missing or in none of these formats
   */
  public static CheckpointFormat detect(Path path) throws IOException {
    if (!Files.exists(path)) {
      if (TensorBundle.exists(path)) {
        return TF_BUNDLE;
      }
      throw new NoSuchFileException(path.toString(), null, "no such checkpoint file (nor a TensorFlow checkpoint "
          + "prefix with a .index file)");
    }
    if (Files.isDirectory(path)) {
      throw new IOException(path + " is a folder, not a checkpoint file (for a TensorFlow checkpoint give its "
          + "prefix, e.g. DIR/model.ckpt, or its .index file)");
    }
    String name = path.getFileName().toString();
    if (name.matches(".*\\.data-\\d{5}-of-\\d{5}") && TensorBundle.exists(path)) {
      return TF_BUNDLE;
    }
    byte[] head = new byte[16];
    long size;
    int got;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      size = ch.size();
      ByteBuffer b = ByteBuffer.wrap(head);
      got = 0;
      while (b.hasRemaining()) {
        int n = ch.read(b, got);
        if (n < 0) {
          break;
        }
        got += n;
      }
      if (size >= LevelDbTable.FOOTER_LENGTH) {
        ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long at = size - 8;
        while (tail.hasRemaining()) {
          int n = ch.read(tail, at);
          if (n < 0) {
            break;
          }
          at += n;
        }
        if (!tail.hasRemaining() && tail.getLong(0) == LevelDbTable.MAGIC) {
          return TF_BUNDLE;
        }
      }
    }
    boolean zip = got >= 4 && head[0] == 'P' && head[1] == 'K'
        && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)); // a local header, or an empty zip
    if (zip) {
      return zipFormat(path);
    }
    if (got >= 6 && startsWith(head, NUMPY_MAGIC)) {
      return NPY;
    }
    if (got >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
      return PYTORCH;
    }
    if (got >= 9) {
      long n = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      if (n >= 2 && n <= Safetensors.MAX_HEADER && head[8] == '{') {
        return SAFETENSORS;
      }
    }
    CheckpointFormat hint = fromExtension(path);
    throw new IOException(path + ": unrecognised checkpoint format"
        + (hint == null ? "" : " (the name suggests " + hint + " but the content does not match: corrupt or "
        + "truncated?)") + "; genzoo reads TensorFlow bundles, safetensors, .npz, .npy and PyTorch files");
  }

  private static CheckpointFormat zipFormat(Path path) throws IOException {
    boolean allNpy = true;
    try (ZipFile zip = new ZipFile(path.toFile())) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        if (e.isDirectory()) {
          continue;
        }
        String n = e.getName();
        if (n.equals("data.pkl") || n.endsWith("/data.pkl")) {
          return PYTORCH;
        }
        allNpy &= n.endsWith(".npy");
      }
    } catch (ZipException e) {
      throw new IOException(path + ": a zip archive that cannot be read (" + e.getMessage() + ")", e);
    }
    if (allNpy) {
      return NPZ;
    }
    throw new IOException(path + ": a zip archive that is neither an .npz (only *.npy entries) nor a PyTorch "
        + "checkpoint (a .../data.pkl entry)");
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    for (int i = 0; i < prefix.length; i++) {
      if (b[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
