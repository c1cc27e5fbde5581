package dev.genzoo.zoo;

import dev.genzoo.checkpoints.BundlePaths;
import dev.genzoo.checkpoints.CappedInputStream;
import dev.genzoo.checkpoints.UnpackLimits;
import dev.genzoo.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Defensive extraction of the archives upstream projects publish: {@code .zip}, {@code .tar.gz} / {@code .tgz} and
 * plain {@code .tar} (told apart by their first bytes, not their names).
 *
 * <p>Refused, with an error naming the archive and the entry: names that are absolute, start with a drive letter,
 * contain a {@code ..} segment, a backslash or a control character; symbolic and hard links (tar link entries, zip
 * entries whose Unix mode says link), devices, fifos, sockets, sparse files; encrypted zip entries; duplicate names;
 * more than {@code limits.maxEntries()} entries; a file of more than {@code limits.maxEntryBytes()} or more than
 * {@code limits.maxTotalBytes()} in all, counted on the bytes actually decompressed (not the sizes the archive
 * declares, which a hostile archive can understate).
 *
 * <p>Atomic: everything is extracted into a temporary sibling of the target ({@code .tmp-*}, in the same folder),
 * which is renamed to the target only when the whole archive was read; on any error the temporary folder is removed.
 * Nothing is written outside that temporary folder.
 *
 * <p>(The checks follow those of the bundle unpacker in dev.genzoo.checkpoints, whose tar extraction is
 * package-private there and specific to bundles.)
 */
public final class Archives {
  private static final int BUFFER = 1 << 16;

  private Archives() {}

  /** The formats {@link #extract} reads. */
  public enum Format {
    ZIP,
    TAR_GZ,
    TAR
  }

  /**
   * Extracts {@code archive} into the new folder {@code targetDir} (which must not exist), atomically.
   *
   * @return the relative paths of the regular files extracted, sorted, with '/' separators
   * @throws FileAlreadyExistsException if {@code targetDir} exists (it is left untouched)
   * @throws IOException naming the archive and the entry when the archive is unsafe, over the limits, truncated or
   *     corrupt, or not a zip or tar file
   */
  public static List<String> extract(Path archive, Path targetDir, UnpackLimits limits) throws IOException {
    if (!Files.isRegularFile(archive)) {
      throw new IOException("archive " + archive + ": " + (Files.exists(archive) ? "not a regular file"
          : "no such file"));
    }
    Path target = targetDir.toAbsolutePath().normalize();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(target.toString(), null, "the extraction target already exists");
    }
    Format format = detect(archive);
    List<String> files = new ArrayList<>();
    AtomicFiles.writeFolder(target, false, tmp -> {
      Sink sink = new Sink(archive, tmp.toAbsolutePath().normalize(), limits);
      switch (format) {
        case ZIP -> extractZip(archive, sink);
        case TAR_GZ, TAR -> extractTar(archive, format == Format.TAR_GZ, sink, limits);
        default -> throw new IllegalStateException(format.toString());
      }
      files.addAll(sink.files);
    });
    files.sort(null);
    return files;
  }

  /** The format of {@code archive} by its magic bytes (zip: PK; gzip: 1f 8b; tar: "ustar" at offset 257). */
  public static Format detect(Path archive) throws IOException {
    byte[] head = new byte[263];
    int n;
    try (InputStream in = Files.newInputStream(archive)) {
      n = in.readNBytes(head, 0, head.length);
    }
    if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4
        || head[3] == 6)) {
      return Format.ZIP;
    }
    if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      return Format.TAR_GZ;
    }
    if (n >= 262 && new String(head, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar")) {
      return Format.TAR;
    }
    throw new IOException("archive " + archive + " is neither a zip, a gzip-compressed tar nor a tar file");
  }

  // ---------------------------------------------------------------------------------------------------- zip

  private static void extractZip(Path archive, Sink sink) throws IOException {
    ZipFile zip;
    try {
      zip = ZipFile.builder().setPath(archive).get();
    } catch (IOException | RuntimeException e) {
      throw corrupt(archive, "cannot read the zip directory", e);
    }
    try (ZipFile z = zip) {
      Enumeration<ZipArchiveEntry> entries = z.getEntriesInPhysicalOrder();
      while (entries.hasMoreElements()) {
        ZipArchiveEntry e = entries.nextElement();
        String name = sink.begin(e.getName());
        int type = e.getPlatform() == ZipArchiveEntry.PLATFORM_UNIX ? e.getUnixMode() & 0170000 : 0;
        if (e.isUnixSymlink() || type == 0120000) {
          throw sink.unsafe(e.getName(), "is a symbolic link; links are not allowed");
        }
        if (type == 0020000 || type == 0060000) {
          throw sink.unsafe(e.getName(), "is a device file");
        }
        if (type == 0010000 || type == 0140000) {
          throw sink.unsafe(e.getName(), "is a fifo or a socket");
        }
        if (e.isDirectory() || type == 0040000) {
          sink.directory(e.getName(), name);
          continue;
        }
        if (type != 0 && type != 0100000) {
          throw sink.unsafe(e.getName(), "has the unsupported Unix file type " + Integer.toOctalString(type));
        }
        if (!z.canReadEntryData(e)) {
          throw sink.unsafe(e.getName(), "is encrypted or uses an unsupported compression method ("
              + e.getMethod() + ")");
        }
        long copied;
        try (InputStream in = z.getInputStream(e)) {
          copied = sink.file(e.getName(), name, in);
        }
        if (e.getSize() >= 0 && copied != e.getSize()) {
          throw corrupt(archive, "entry '" + e.getName() + "' holds " + copied + " bytes but declares "
              + e.getSize(), null);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------- tar

  private static void extractTar(Path archive, boolean gzipped, Sink sink, UnpackLimits limits)
      throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive), BUFFER);
         InputStream plain = gzipped ? openGzip(archive, raw) : raw;
         InputStream capped = new CappedInputStream(plain, CappedInputStream.capFor(limits),
             cap -> new ArchiveLimitException("archive " + archive + " decompresses to more than " + cap
                 + " bytes, beyond what the unpack limits allow"));
         TarArchiveInputStream tar = new TarArchiveInputStream(capped, "UTF-8")) {
      TarArchiveEntry e;
      while ((e = nextEntry(archive, tar)) != null) {
        String name = sink.begin(e.getName());
        if (e.isSymbolicLink()) {
          throw sink.unsafe(e.getName(), "is a symbolic link (to '" + e.getLinkName() + "'); links are not allowed");
        }
        if (e.isLink()) {
          throw sink.unsafe(e.getName(), "is a hard link (to '" + e.getLinkName() + "'); links are not allowed");
        }
        if (e.isCharacterDevice() || e.isBlockDevice()) {
          throw sink.unsafe(e.getName(), "is a device file");
        }
        if (e.isFIFO()) {
          throw sink.unsafe(e.getName(), "is a fifo");
        }
        if (e.isSparse()) {
          throw sink.unsafe(e.getName(), "is a sparse file");
        }
        if (e.isDirectory()) {
          sink.directory(e.getName(), name);
          continue;
        }
        byte flag = e.getLinkFlag();
        if (flag != TarConstants.LF_NORMAL && flag != TarConstants.LF_OLDNORM && flag != TarConstants.LF_CONTIG) {
          throw sink.unsafe(e.getName(), "has the unsupported tar entry type '" + (char) flag + "'");
        }
        long copied = sink.file(e.getName(), name, new ReadErrors(archive, tar));
        if (copied != e.getSize()) {
          throw corrupt(archive, "entry '" + e.getName() + "' ends after " + copied + " of " + e.getSize()
              + " bytes", null);
        }
      }
      // Read to the end, so that a damaged gzip trailer (CRC-32, length) is detected; CappedInputStream bounds this.
      byte[] buffer = new byte[BUFFER];
      InputStream rest = new ReadErrors(archive, capped);
      while (rest.read(buffer) >= 0) {
        // drain
      }
    }
  }

  private static InputStream openGzip(Path archive, InputStream in) throws IOException {
    try {
      return new GzipCompressorInputStream(in);
    } catch (IOException | RuntimeException e) {
      throw corrupt(archive, "not a gzip file", e);
    }
  }

  private static TarArchiveEntry nextEntry(Path archive, TarArchiveInputStream tar) throws IOException {
    try {
      return tar.getNextEntry();
    } catch (ArchiveLimitException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw corrupt(archive, "cannot read the next tar header", e);
    }
  }

  // ---------------------------------------------------------------------------------------------------- shared

  /** Checks names and limits and writes entries below {@code root}. */
  private static final class Sink {
    final Path archive;
    final Path root;
    final UnpackLimits limits;
    final Set<String> dirs = new HashSet<>();
    final Set<String> seen = new HashSet<>();
    final List<String> files = new ArrayList<>();
    final byte[] buffer = new byte[BUFFER];
    long total;
    int count;

    Sink(Path archive, Path root, UnpackLimits limits) {
      this.archive = archive;
      this.root = root;
      this.limits = limits;
    }

    /** Counts the entry and returns its canonical name ("" for the root folder). */
    String begin(String rawName) throws IOException {
      count++;
      if (count > limits.maxEntries()) {
        throw new ArchiveLimitException("archive " + archive + " has more than " + limits.maxEntries()
            + " entries (the limit)");
      }
      try {
        return BundlePaths.canonicalEntry(rawName);
      } catch (IllegalArgumentException e) {
        throw unsafe(rawName, e.getMessage());
      }
    }

    void directory(String rawName, String name) throws IOException {
      if (name.isEmpty()) {
        return;
      }
      Path target = inside(rawName, name);
      checkParents(rawName, name);
      if (seen.contains(name) && !dirs.contains(name)) {
        throw unsafe(rawName, "is a folder but an earlier entry made it a file");
      }
      seen.add(name);
      dirs.add(name);
      Files.createDirectories(target);
    }

    long file(String rawName, String name, InputStream data) throws IOException {
      if (name.isEmpty()) {
        throw unsafe(rawName, "names the archive root but is not a folder");
      }
      Path target = inside(rawName, name);
      checkParents(rawName, name);
      if (dirs.contains(name)) {
        throw unsafe(rawName, "is a file but an earlier entry made it a folder");
      }
      if (!seen.add(name)) {
        throw unsafe(rawName, "appears twice (or is a folder too)");
      }
      files.add(name);
      for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
        dirs.add(name.substring(0, i));
      }
      Files.createDirectories(target.getParent());
      long copied = 0;
      try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        int n;
        while ((n = read(data)) >= 0) {
          copied += n;
          total += n;
          if (copied > limits.maxEntryBytes()) {
            throw new ArchiveLimitException("archive " + archive + ": entry '" + rawName + "' expands to more than "
                + limits.maxEntryBytes() + " bytes (the per-entry limit)");
          }
          if (total > limits.maxTotalBytes()) {
            throw new ArchiveLimitException("archive " + archive + " expands to more than " + limits.maxTotalBytes()
                + " bytes (the total limit), at entry '" + rawName + "'");
          }
          out.write(buffer, 0, n);
        }
      }
      return copied;
    }

    private int read(InputStream data) throws IOException {
      try {
        return data.read(buffer);
      } catch (ArchiveLimitException e) {
        throw e;
      } catch (IOException | RuntimeException e) {
        throw corrupt(archive, "cannot read entry data", e);
      }
    }

    private Path inside(String rawName, String name) throws IOException {
      Path target = root.resolve(name).normalize();
      if (!target.startsWith(root) || target.equals(root)) {
        throw unsafe(rawName, "resolves outside the extraction folder");
      }
      return target;
    }

    /** No prefix of {@code name} may be a file already extracted. */
    private void checkParents(String rawName, String name) throws IOException {
      for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
        String parent = name.substring(0, i);
        if (seen.contains(parent) && !dirs.contains(parent)) {
          throw unsafe(rawName, "lies under '" + parent + "', which is a file");
        }
      }
    }

    IOException unsafe(String rawName, String why) {
      return new IOException("archive " + archive + ": refusing entry '" + rawName + "': it " + why);
    }
  }

  /** An archive over the unpack limits. */
  static final class ArchiveLimitException extends IOException {
    private static final long serialVersionUID = 1L;

    ArchiveLimitException(String message) {
      super(message);
    }
  }

  /** Turns read errors of a decompressing stream into errors naming the archive. */
  private static final class ReadErrors extends FilterInputStream {
    private final Path archive;

    ReadErrors(Path archive, InputStream in) {
      super(in);
      this.archive = archive;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (ArchiveLimitException e) {
        throw e;
      } catch (IOException | RuntimeException e) {
        throw corrupt(archive, "cannot read entry data", e);
      }
    }

    @Override
    public void close() {
      // the tar stream is closed by its owner
    }
  }

  private static IOException corrupt(Path archive, String what, Throwable cause) {
    String detail = cause == null ? ""
        : ": " + (cause instanceof EOFException ? "unexpected end of data"
            : cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : " " + cause.getMessage()));
    return new IOException("archive " + archive + " is truncated or corrupt (" + what + detail + ")", cause);
  }
}
