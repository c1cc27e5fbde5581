package dev.genzoo.checkpoints;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.Deflater;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * Deterministic packing and defensive extraction of bundle archives (POSIX tar, RFC 1952 gzip) with Apache Commons
 * Compress.
 */
final class TarGz {
  private static final int BUFFER = 1 << 16;
  /** "unknown" in the gzip header's OS field (RFC 1952 section 2.3.1), so the bytes do not depend on the OS. */
  private static final int GZIP_OS_UNKNOWN = 255;
  private static final int FILE_MODE = 0100644;

  private TarGz() {}

  /**
   * Writes the files of a listed bundle folder as a tar.gz to {@code out}: entries sorted by path, regular files
   * only, mode 0644, mtime 0, uid/gid 0, no owner names; gzip header with mtime 0, no file name, OS "unknown". Each
   * file's size and SHA-256 are checked against the manifest while it is copied.
   */
  static void pack(BundleFolder.Listing listing, OutputStream out) throws IOException {
    GzipParameters gzipParameters = new GzipParameters();
    gzipParameters.setModificationTime(0);
    gzipParameters.setOperatingSystem(GZIP_OS_UNKNOWN);
    gzipParameters.setCompressionLevel(Deflater.DEFAULT_COMPRESSION);
    Map<String, BundleManifest.FileEntry> files = new TreeMap<>(listing.manifest().files());
    files.put(BundleManifest.FILE_NAME, null);
    byte[] buffer = new byte[BUFFER];
    // Closing the tar stream finishes the archive, writes the gzip trailer, frees the Deflater and closes out.
    try (GzipCompressorOutputStream gzip = new GzipCompressorOutputStream(out, gzipParameters);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(gzip, "UTF-8")) {
      writeEntries(listing, files, tar, buffer);
    }
  }

  private static void writeEntries(BundleFolder.Listing listing, Map<String, BundleManifest.FileEntry> files,
      TarArchiveOutputStream tar, byte[] buffer) throws IOException {
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    for (Map.Entry<String, BundleManifest.FileEntry> e : files.entrySet()) {
      String name = e.getKey();
      TarArchiveEntry entry = new TarArchiveEntry(name);
      entry.setMode(FILE_MODE);
      entry.setModTime(FileTime.fromMillis(0));
      entry.setUserId(0);
      entry.setGroupId(0);
      entry.setUserName("");
      entry.setGroupName("");
      if (e.getValue() == null) {
        byte[] manifest = listing.manifestBytes();
        entry.setSize(manifest.length);
        tar.putArchiveEntry(entry);
        tar.write(manifest);
        tar.closeArchiveEntry();
        continue;
      }
      long expectedSize = e.getValue().size();
      entry.setSize(expectedSize);
      tar.putArchiveEntry(entry);
      MessageDigest digest = Sha256.newDigest();
      long copied = 0;
      try (InputStream in = new DigestInputStream(Files.newInputStream(listing.dir().resolve(name)), digest)) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          copied += n;
          if (copied > expectedSize) {
            break;
          }
          tar.write(buffer, 0, n);
        }
      }
      BundleFolder.checkSize(listing.dir(), name, expectedSize, copied > expectedSize
          ? Files.size(listing.dir().resolve(name)) : copied);
      BundleFolder.checkSha(listing.dir(), name, e.getValue().sha256(), Sha256.hex(digest));
      tar.closeArchiveEntry();
    }
  }

  /**
   * Extracts {@code archive} into the empty folder {@code into}, refusing absolute names, ".." segments, links,
   * devices, fifos, sparse files, duplicate or conflicting names, and anything beyond {@code limits}. Writes only
   * below {@code into}. The caller deletes {@code into} on error.
   */
  static void extract(Path archive, Path into, UnpackLimits limits) throws IOException {
    Path root = into.toAbsolutePath().normalize();
    Set<String> files = new HashSet<>();
    Set<String> dirs = new HashSet<>();
    long total = 0;
    int count = 0;
    byte[] buffer = new byte[BUFFER];
    try (InputStream raw = Files.newInputStream(archive);
         GzipCompressorInputStream gzip = openGzip(archive, new BufferedInputStream(raw, BUFFER));
         InputStream capped = new CappedInputStream(gzip, decompressedCap(limits),
             cap -> new BundleException("archive " + archive + " decompresses to more than " + cap
                 + " bytes, beyond what the unpack limits allow"));
         TarArchiveInputStream tar = new TarArchiveInputStream(capped, "UTF-8")) {
      TarArchiveEntry entry;
      while ((entry = nextEntry(archive, tar)) != null) {
        count++;
        if (count > limits.maxEntries()) {
          throw new BundleException("archive " + archive + " has more than " + limits.maxEntries()
              + " entries (the limit)");
        }
        String rawName = entry.getName();
        String name;
        try {
          name = BundlePaths.canonicalEntry(rawName);
        } catch (IllegalArgumentException e) {
          throw unsafe(archive, rawName, e.getMessage());
        }
        checkType(archive, entry);
        Path target = root.resolve(name).normalize();
        if (!target.startsWith(root)) {
          throw unsafe(archive, rawName, "resolves outside the extraction folder");
        }
        checkConflicts(archive, rawName, name, entry.isDirectory(), files, dirs);
        if (entry.isDirectory()) {
          if (entry.getSize() != 0) {
            throw unsafe(archive, rawName, "is a folder that declares " + entry.getSize() + " bytes of data");
          }
          if (!name.isEmpty()) {
            dirs.add(name);
            Files.createDirectories(target);
          }
          continue;
        }
        long size = entry.getSize();
        if (size > limits.maxEntryBytes()) {
          throw new BundleException("archive " + archive + ": entry '" + rawName + "' is " + size
              + " bytes, more than the per-entry limit of " + limits.maxEntryBytes() + " bytes");
        }
        total += size;
        if (total > limits.maxTotalBytes()) {
          throw new BundleException("archive " + archive + " expands to more than " + limits.maxTotalBytes()
              + " bytes (the total limit), at entry '" + rawName + "'");
        }
        files.add(name);
        Files.createDirectories(target.getParent());
        long copied = 0;
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
          int n;
          while ((n = read(archive, tar, buffer)) >= 0) {
            copied += n;
            if (copied > size) {
              throw new BundleException("archive " + archive + ": entry '" + rawName + "' holds more than the "
                  + size + " bytes its header declares");
            }
            out.write(buffer, 0, n);
          }
        }
        if (copied != size) {
          throw corrupt(archive, "entry '" + rawName + "' ends after " + copied + " of " + size + " bytes",
              null);
        }
      }
      drain(archive, capped, buffer);
    }
  }

  /**
   * The most decompressed bytes an archive within {@code limits} can need: the file data plus, per entry, its
   * 512-byte header and room for PAX or long-name records, plus the end-of-archive blocks and padding. Reading
   * stops there, so that a tar stream cannot make the reader skip or parse unbounded data (a folder entry with a
   * huge size, a huge PAX record).
   */
  static long decompressedCap(UnpackLimits limits) {
    return CappedInputStream.capFor(limits);
  }

  private static GzipCompressorInputStream openGzip(Path archive, InputStream in) throws BundleException {
    try {
      return new GzipCompressorInputStream(in);
    } catch (IOException | RuntimeException e) {
      throw corrupt(archive, "not a gzip file", e);
    }
  }

  private static TarArchiveEntry nextEntry(Path archive, TarArchiveInputStream tar) throws BundleException {
    try {
      return tar.getNextEntry();
    } catch (BundleException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw corrupt(archive, "cannot read the next tar header", e);
    }
  }

  private static int read(Path archive, InputStream in, byte[] buffer) throws BundleException {
    try {
      return in.read(buffer);
    } catch (BundleException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw corrupt(archive, "cannot read entry data", e);
    }
  }

  /**
   * Reads the gzip stream to its end after the tar end-of-archive marker, so that a truncated or damaged gzip
   * trailer (CRC-32 and length, RFC 1952 section 2.3.1) is detected.
   */
  private static void drain(Path archive, InputStream gzip, byte[] buffer) throws BundleException {
    while (read(archive, gzip, buffer) >= 0) {
      // The trailer is checked when the inflater reaches it; the CappedInputStream bounds the loop.
    }
  }

  private static void checkType(Path archive, TarArchiveEntry entry) throws BundleException {
    String name = entry.getName();
    if (entry.isSymbolicLink()) {
      throw unsafe(archive, name, "is a symbolic link (to '" + entry.getLinkName() + "'); links are not allowed");
    }
    if (entry.isLink()) {
      throw unsafe(archive, name, "is a hard link (to '" + entry.getLinkName() + "'); links are not allowed");
    }
    if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      throw unsafe(archive, name, "is a device file");
    }
    if (entry.isFIFO()) {
      throw unsafe(archive, name, "is a fifo");
    }
    if (entry.isSparse()) {
      throw unsafe(archive, name, "is a sparse file");
    }
    if (entry.isDirectory()) {
      return;
    }
    byte flag = entry.getLinkFlag();
    if (flag != TarConstants.LF_NORMAL && flag != TarConstants.LF_OLDNORM) {
      throw unsafe(archive, name, "has the unsupported tar entry type '" + (char) flag + "'");
    }
  }

  private static void checkConflicts(Path archive, String rawName, String name, boolean directory,
      Set<String> files, Set<String> dirs) throws BundleException {
    if (name.isEmpty()) {
      if (!directory) {
        throw unsafe(archive, rawName, "names the archive root but is not a folder");
      }
      return;
    }
    if (files.contains(name)) {
      throw unsafe(archive, rawName, "appears twice");
    }
    if (!directory && dirs.contains(name)) {
      throw unsafe(archive, rawName, "is a file but an earlier entry made it a folder");
    }
    for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
      if (files.contains(name.substring(0, i))) {
        throw unsafe(archive, rawName, "lies under '" + name.substring(0, i) + "', which is a file");
      }
    }
  }

  private static BundleException unsafe(Path archive, String entry, String why) {
    return new BundleException("archive " + archive + ": refusing entry '" + entry + "': it " + why);
  }

  private static BundleException corrupt(Path archive, String what, Throwable cause) {
    String detail = cause == null ? ""
        : ": " + (cause instanceof EOFException ? "unexpected end of data"
            : cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : " " + cause.getMessage()));
    return new BundleException("archive " + archive + " is truncated or corrupt (" + what + detail + ")", cause);
  }
}
