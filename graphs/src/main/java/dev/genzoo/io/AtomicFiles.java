package dev.genzoo.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes files and folders so that a reader never sees them half-written: content goes to a hidden temporary
 * sibling first and is moved into place with an atomic rename. A crash mid-write leaves the previous version intact
 * (and at worst a {@code .tmp-*} sibling, which {@link #sweepTemporaries(Path)} removes).
 */
public final class AtomicFiles {
  /** Writes one file; {@code body} receives a stream to the temporary file. */
  @FunctionalInterface
  public interface StreamWriter {
    void write(OutputStream out) throws IOException;
  }

  /** Fills a temporary folder that is then moved into place as a whole. */
  @FunctionalInterface
  public interface FolderWriter {
    void write(Path tmpDir) throws IOException;
  }

  private AtomicFiles() {}

  /** Writes {@code target} atomically, replacing any previous file. */
  public static void write(Path target, StreamWriter body) throws IOException {
    Path dir = parentOf(target);
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".tmp-" + target.getFileName(), "");
    try {
      readableByAll(tmp, false);
      try (OutputStream out = Files.newOutputStream(tmp)) {
        body.write(out);
      }
      move(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  public static void writeBytes(Path target, byte[] bytes) throws IOException {
    write(target, out -> out.write(bytes));
  }

  public static void writeString(Path target, String text) throws IOException {
    writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Creates the folder {@code target} atomically: {@code body} fills a temporary sibling, which is then renamed to
   * {@code target}. Fails if {@code target} already exists unless {@code replace} is set, in which case the old
   * folder is swapped out and deleted after the new one is in place.
   */
  public static void writeFolder(Path target, boolean replace, FolderWriter body) throws IOException {
    Path dir = parentOf(target);
    Files.createDirectories(dir);
    Path tmp = Files.createTempDirectory(dir, ".tmp-" + target.getFileName());
    Path old = null;
    try {
      readableByAll(tmp, true);
      body.write(tmp);
      if (Files.exists(target)) {
        if (!replace) {
          throw new FileAlreadyExistsException(target.toString());
        }
        old = Files.createTempDirectory(dir, ".old-" + target.getFileName());
        Files.delete(old);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      if (Files.exists(tmp)) {
        deleteRecursively(tmp);
      }
      if (old != null && Files.exists(old)) {
        deleteRecursively(old);
      }
    }
  }

  /** Moves {@code source} onto {@code target} with an atomic rename (same file system). */
  public static void move(Path source, Path target) throws IOException {
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename atomically from " + source + " to " + target
          + " (different file systems?)", e);
    }
  }

  /** Deletes a file or a folder tree; a missing path is not an error. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Removes the {@code .tmp-*} and {@code .old-*} leftovers of interrupted writes directly inside {@code dir}. */
  public static void sweepTemporaries(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String n = p.getFileName().toString();
        if (n.startsWith(".tmp-") || n.startsWith(".old-")) {
          deleteRecursively(p);
        }
      }
    }
  }

  /**
   * Temporary files and folders are created private (0600 / 0700); what is moved into place gets the usual 0644 /
   * 0755, so that a cache or a model folder can be shared.
   */
  private static void readableByAll(Path p, boolean folder) throws IOException {
    try {
      Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(
          folder ? "rwxr-xr-x" : "rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: keep the platform default
    }
  }

  private static Path parentOf(Path target) {
    Path abs = target.toAbsolutePath();
    Path parent = abs.getParent();
    if (parent == null) {
      throw new IllegalArgumentException("no parent folder for " + target);
    }
    return parent;
  }
}
