package dev.genzoo.checkpoints;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The checks on a bundle folder shared by {@link Bundle}, {@link Bundles#write}, pack and unpack. */
final class BundleFolder {
  /** The TensorFlow checkpoint prefix inside a bundle. */
  static final String CHECKPOINT_PREFIX = "variables";
  static final String INDEX_FILE = CHECKPOINT_PREFIX + ".index";
  /** Tensor bundle data shards: {@code <prefix>.data-%05d-of-%05d} (tensorflow/core/util/tensor_bundle). */
  private static final Pattern DATA_SHARD = Pattern.compile(Pattern.quote(CHECKPOINT_PREFIX)
      + "\\.data-(\\d{5})-of-(\\d{5})");

  /** A folder whose manifest was read and whose files were all checked against it. */
  record Verified(Path dir, BundleManifest manifest, String manifestSha256) {}

  /** A folder whose manifest was read and whose file set matches it; contents not yet hashed. */
  record Listing(Path dir, byte[] manifestBytes, BundleManifest manifest) {}

  private BundleFolder() {}

  /** Reads the manifest, checks the file set, and checks every file's size and SHA-256. */
  static Verified verify(Path folder) throws IOException {
    Listing listing = list(folder);
    Path dir = listing.dir();
    for (Map.Entry<String, BundleManifest.FileEntry> e : listing.manifest().files().entrySet()) {
      Path file = dir.resolve(e.getKey());
      long size = Files.size(file);
      checkSize(dir, e.getKey(), e.getValue().size(), size);
      checkSha(dir, e.getKey(), e.getValue().sha256(), Sha256.hex(file));
    }
    return new Verified(dir, listing.manifest(), Sha256.hex(listing.manifestBytes()));
  }

  /**
   * Reads the manifest and checks that the folder holds exactly the files it lists (plus {@code model.json}), all
   * regular files, no links, and that they include a TensorFlow checkpoint with prefix {@code variables}.
   */
  static Listing list(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new BundleException("bundle " + folder + ": not a folder");
    }
    // The folder itself may be reached through a link (a cache on another disk); nothing inside it may be a link.
    Path dir = Files.isSymbolicLink(folder) ? folder.toRealPath() : folder;
    Path manifestFile = dir.resolve(BundleManifest.FILE_NAME);
    byte[] bytes = BundleManifest.readBytes(manifestFile);
    BundleManifest manifest = BundleManifest.parse(bytes, manifestFile.toString());
    Set<String> present = new TreeSet<>(regularFiles(dir).keySet());
    present.remove(BundleManifest.FILE_NAME);
    for (String listed : manifest.files().keySet()) {
      if (!present.contains(listed)) {
        throw new BundleException("bundle " + dir + ": file '" + listed + "' is listed in "
            + BundleManifest.FILE_NAME + " but missing");
      }
    }
    for (String found : present) {
      if (!manifest.files().containsKey(found)) {
        throw new BundleException("bundle " + dir + ": file '" + found + "' is not listed in "
            + BundleManifest.FILE_NAME + " (every file of a bundle is listed with its sha256 and size)");
      }
    }
    checkCheckpointFiles(manifest.files().keySet(), "bundle " + dir);
    return new Listing(dir, bytes, manifest);
  }

  /**
   * The regular files under {@code dir} by canonical relative path; a link, a special file or a name that is not a
   * canonical bundle path is an error. Folders are walked, not followed through links.
   */
  static Map<String, Path> regularFiles(Path dir) throws IOException {
    Map<String, Path> files = new TreeMap<>();
    List<Path> all = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.forEach(all::add);
    }
    for (Path p : all) {
      if (p.equals(dir)) {
        continue;
      }
      String rel = relative(dir, p);
      BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (attrs.isSymbolicLink()) {
        throw new BundleException("bundle " + dir + ": '" + rel + "' is a symbolic link; a bundle holds regular "
            + "files only");
      }
      if (attrs.isDirectory()) {
        continue;
      }
      if (!attrs.isRegularFile()) {
        throw new BundleException("bundle " + dir + ": '" + rel + "' is not a regular file");
      }
      String problem = BundlePaths.problem(rel);
      if (problem != null) {
        throw new BundleException("bundle " + dir + ": file name '" + rel + "' " + problem);
      }
      files.put(rel, p);
    }
    return files;
  }

  /**
   * Checks that {@code names} include {@code variables.index} and every data shard
   * {@code variables.data-0000i-of-0000N}, i &lt; N, of one shard count N.
   */
  static void checkCheckpointFiles(Set<String> names, String where) throws BundleException {
    if (!names.contains(INDEX_FILE)) {
      throw new BundleException(where + ": no " + INDEX_FILE + " (a bundle holds a TensorFlow checkpoint with "
          + "prefix '" + CHECKPOINT_PREFIX + "')");
    }
    Integer shards = null;
    Set<Integer> seen = new TreeSet<>();
    for (String name : names) {
      Matcher m = DATA_SHARD.matcher(name);
      if (!m.matches()) {
        continue;
      }
      int index = Integer.parseInt(m.group(1));
      int count = Integer.parseInt(m.group(2));
      if (shards != null && shards != count) {
        throw new BundleException(where + ": checkpoint data shards disagree on the shard count (" + shards
            + " and " + count + ")");
      }
      if (index >= count) {
        throw new BundleException(where + ": checkpoint data shard '" + name + "' has index >= count");
      }
      shards = count;
      seen.add(index);
    }
    if (shards == null) {
      throw new BundleException(where + ": no " + CHECKPOINT_PREFIX + ".data-00000-of-0000N file (the "
          + "checkpoint's data)");
    }
    for (int i = 0; i < shards; i++) {
      if (!seen.contains(i)) {
        throw new BundleException(where + ": checkpoint data shard "
            + String.format("%s.data-%05d-of-%05d", CHECKPOINT_PREFIX, i, shards) + " is missing");
      }
    }
  }

  static void checkSize(Path dir, String file, long expected, long found) throws BundleException {
    if (expected != found) {
      throw new BundleException("bundle " + dir + ": file '" + file + "' size mismatch: " + BundleManifest.FILE_NAME
          + " says " + expected + " bytes, found " + found);
    }
  }

  static void checkSha(Path dir, String file, String expected, String found) throws BundleException {
    if (!expected.equals(found)) {
      throw new BundleException("bundle " + dir + ": file '" + file + "' checksum mismatch: "
          + BundleManifest.FILE_NAME + " says sha256 " + expected + ", found " + found);
    }
  }

  private static String relative(Path dir, Path p) {
    Path rel = dir.relativize(p);
    StringBuilder sb = new StringBuilder();
    for (Path part : rel) {
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(part);
    }
    return sb.toString();
  }
}
