package dev.genzoo.data;

import dev.genzoo.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives ({@code numpy.savez} / {@code numpy.savez_compressed}): a zip file
 * whose entries {@code <key>.npy} are {@link Npy} images, stored or deflated. Entries whose names do not end in
 * {@code .npy} are not arrays and are left out.
 */
public final class Npz {
  private static final String SUFFIX = ".npy";

  private Npz() {}

  /** All arrays of {@code file}, by key (the entry name without {@code .npy}), in the archive's order. */
  public static Map<String, NpyArray> readAll(Path file) throws IOException {
    Map<String, NpyArray> out = new LinkedHashMap<>();
    try (ZipFile zip = open(file)) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        if (!e.isDirectory() && e.getName().endsWith(SUFFIX)) {
          out.put(key(e), readEntry(zip, e, file));
        }
      }
    }
    return out;
  }

  /** The keys of the arrays in {@code file}, in the archive's order. */
  public static List<String> keys(Path file) throws IOException {
    List<String> keys = new ArrayList<>();
    try (ZipFile zip = open(file)) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        if (!e.isDirectory() && e.getName().endsWith(SUFFIX)) {
          keys.add(key(e));
        }
      }
    }
    return keys;
  }

  /** The array {@code key} of {@code file}; fails listing the keys there are when it has no such array. */
  public static NpyArray read(Path file, String key) throws IOException {
    try (ZipFile zip = open(file)) {
      ZipEntry e = zip.getEntry(key + SUFFIX);
      if (e == null) {
        List<String> keys = new ArrayList<>();
        for (ZipEntry z : Collections.list(zip.entries())) {
          if (z.getName().endsWith(SUFFIX)) {
            keys.add(key(z));
          }
        }
        throw new IOException(file + ": no array '" + key + "' in the archive; it has " + keys);
      }
      return readEntry(zip, e, file);
    }
  }

  /**
   * Writes {@code arrays} (key to array, in the map's order) to {@code file} atomically (keys may hold '/', as
   * TensorFlow variable names do: numpy reads {@code a/b.npy} back as key {@code a/b}), each entry deflated when
   * {@code compress} is set (like {@code numpy.savez_compressed}) or stored (like {@code numpy.savez}).
   */
  public static void write(Path file, Map<String, NpyArray> arrays, boolean compress) throws IOException {
    for (String key : arrays.keySet()) {
      if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.contains("\\")
          || ("/" + key + "/").contains("/../") || ("/" + key + "/").contains("/./")) {
        throw new IllegalArgumentException("bad .npz key '" + key + "' for " + file + ": keys must be non-empty "
            + "relative names ('/' separates folders, as numpy.savez writes them) without . or .. segments, a "
            + "trailing / or a backslash");
      }
    }
    AtomicFiles.write(file, raw -> {
      ZipOutputStream zip = new ZipOutputStream(raw);
      for (Map.Entry<String, NpyArray> a : arrays.entrySet()) {
        byte[] bytes = Npy.toBytes(a.getValue());
        ZipEntry e = new ZipEntry(a.getKey() + SUFFIX);
        if (compress) {
          e.setMethod(ZipEntry.DEFLATED);
        } else {
          CRC32 crc = new CRC32();
          crc.update(bytes);
          e.setMethod(ZipEntry.STORED);
          e.setSize(bytes.length);
          e.setCompressedSize(bytes.length);
          e.setCrc(crc.getValue());
        }
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
      }
      zip.finish();
    });
  }

  private static ZipFile open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "not a NumPy .npz file");
    }
    try {
      return new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new IOException(file + ": not a NumPy .npz file (not a readable zip archive: " + e.getMessage() + ")", e);
    }
  }

  private static String key(ZipEntry e) {
    return e.getName().substring(0, e.getName().length() - SUFFIX.length());
  }

  private static NpyArray readEntry(ZipFile zip, ZipEntry e, Path file) throws IOException {
    String source = file + "!" + e.getName();
    try (InputStream in = new BufferedInputStream(zip.getInputStream(e), 1 << 16)) {
      return Npy.read(in, source);
    } catch (ZipException ex) {
      throw new IOException(source + ": corrupt zip entry (" + ex.getMessage() + ")", ex);
    }
  }
}
