package dev.genzoo.checkpoints;

import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes, packs and unpacks genzoo bundles. A bundle is a folder holding {@code model.json} ({@link BundleManifest}),
 * a TensorFlow checkpoint with prefix {@code variables} ({@code variables.index} and
 * {@code variables.data-00000-of-00001}, the tensor bundle format of tensorflow/core/util/tensor_bundle) and
 * optionally other files (sample grids, ...), every one of them listed in the manifest with its SHA-256 and size.
 * The same folder travels packed as a {@code .tar.gz}.
 *
 * <p>Every operation is all-or-nothing: the result appears with an atomic rename ({@link AtomicFiles}) after it has
 * been written and checked completely, and a failure leaves no target and no temporary sibling behind.
 */
public final class Bundles {
  private Bundles() {}

  /**
   * Writes a bundle folder. {@code filler} writes the checkpoint files (and any others) into a fresh temporary
   * folder; then the SHA-256 and size of every file are recorded in the manifest, {@code model.json} is written and
   * the folder is renamed to {@code targetDir} ({@link AtomicFiles#writeFolder}).
   *
   * @param manifest the manifest without files (its {@code files} must be empty: they are computed here)
   * @param replace whether an existing {@code targetDir} is replaced; if false, an existing one is an error
   *     (detected before {@code filler} runs)
   * @param filler writes the files; it must write {@code variables.index} and the
   *     {@code variables.data-*} shards, and must not write {@code model.json}, links or special files
   * @return the manifest as written, with its files
   */
  public static BundleManifest write(Path targetDir, BundleManifest manifest, boolean replace,
      AtomicFiles.FolderWriter filler) throws IOException {
    if (!manifest.files().isEmpty()) {
      throw new IllegalArgumentException("Bundles.write computes the files of bundle '" + manifest.name()
          + "'; pass a manifest with no files (found " + manifest.files().keySet() + ")");
    }
    refuseExisting(targetDir, replace);
    BundleManifest[] written = new BundleManifest[1];
    removingCreatedParentsOnFailure(targetDir, () -> AtomicFiles.writeFolder(targetDir, replace, tmp -> {
      filler.write(tmp);
      String where = "bundle " + targetDir + " (as written)";
      Map<String, Path> present = BundleFolder.regularFiles(tmp);
      if (present.containsKey(BundleManifest.FILE_NAME)) {
        throw new BundleException(where + ": the filler wrote " + BundleManifest.FILE_NAME
            + ", which Bundles.write writes itself");
      }
      BundleFolder.checkCheckpointFiles(present.keySet(), where);
      Map<String, BundleManifest.FileEntry> files = new TreeMap<>();
      for (Map.Entry<String, Path> e : present.entrySet()) {
        files.put(e.getKey(), new BundleManifest.FileEntry(Sha256.hex(e.getValue()), Files.size(e.getValue())));
      }
      BundleManifest complete = manifest.withFiles(files);
      Files.write(tmp.resolve(BundleManifest.FILE_NAME), complete.toJsonBytes());
      written[0] = complete;
    }));
    return written[0];
  }

  /**
   * Packs a bundle folder as a deterministic {@code .tar.gz}, written atomically: entries sorted by path, regular
   * files only (no folder entries), mode 0644, mtime 0, uid and gid 0, no owner names, and a gzip header with mtime
   * 0 and no file name; the same folder always gives the same bytes. Entries sit at the archive's top level
   * ({@code model.json}, not {@code name/model.json}). The folder is verified against its manifest while it is
   * packed, so a damaged bundle is never packed.
   *
   * @throws IllegalArgumentException if {@code tarGz} lies inside {@code bundleDir}
   */
  public static void pack(Path bundleDir, Path tarGz) throws IOException {
    Path out = tarGz.toAbsolutePath().normalize();
    BundleFolder.Listing listing = BundleFolder.list(bundleDir.toAbsolutePath().normalize());
    Path dir = listing.dir();
    Path outParent = Files.isDirectory(out.getParent()) ? out.getParent().toRealPath() : out.getParent();
    if (out.startsWith(dir) || outParent.startsWith(dir.toRealPath())) {
      throw new IllegalArgumentException("cannot pack bundle " + dir + " into " + out + ", which lies inside it");
    }
    AtomicFiles.write(out, stream -> TarGz.pack(listing, stream));
  }

  /** {@link #unpack(Path, Path, boolean, UnpackLimits)} with the default limits, refusing an existing target. */
  public static BundleManifest unpack(Path tarGz, Path targetDir) throws IOException {
    return unpack(tarGz, targetDir, false, UnpackLimits.DEFAULT);
  }

  /**
   * Extracts a bundle archive defensively into {@code targetDir}. The archive is extracted into a temporary sibling
   * of {@code targetDir} (a {@code .tmp-*} folder in the same parent), its files are verified against its
   * {@code model.json}, and only then is the folder renamed to {@code targetDir}; on any error the temporary folder
   * is removed and {@code targetDir} is left as it was. Nothing is ever written outside that temporary folder.
   *
   * <p>Refused: names that are absolute, start with a drive letter or contain a ".." segment or a backslash;
   * symbolic and hard links, devices, fifos, sparse files; duplicate names; more than {@code limits.maxEntries()}
   * entries, a file larger than {@code limits.maxEntryBytes()}, more than {@code limits.maxTotalBytes()} in all.
   * (Commons Compress itself drops the leading '/' of names given in PAX or GNU long-name records; such entries are
   * extracted inside the target like relative ones.) A truncated or corrupt gzip or tar stream is reported as such,
   * naming the archive.
   *
   * <p>Layout: the archive may be flat ({@code model.json}, {@code variables.index}, ..., as {@link #pack} writes it,
   * optionally with a {@code ./} prefix) or have every entry under one top-level folder
   * ({@code flow-mnist/model.json}, ...), whose name is then dropped: {@code targetDir} always holds
   * {@code model.json} directly.
   *
   * @param replace whether an existing {@code targetDir} is replaced (after the new one is complete); if false, an
   *     existing one is an error (detected before extraction, and it is left untouched)
   * @return the verified manifest
   */
  public static BundleManifest unpack(Path tarGz, Path targetDir, boolean replace, UnpackLimits limits)
      throws IOException {
    return unpackVerified(tarGz, targetDir, replace, limits).manifest();
  }

  static BundleFolder.Verified unpackVerified(Path tarGz, Path targetDir, boolean replace, UnpackLimits limits)
      throws IOException {
    if (!Files.isRegularFile(tarGz)) {
      throw new BundleException("archive " + tarGz + ": " + (Files.exists(tarGz) ? "not a regular file"
          : "no such file"));
    }
    refuseExisting(targetDir, replace);
    Path target = targetDir.toAbsolutePath().normalize();
    BundleFolder.Verified[] verified = new BundleFolder.Verified[1];
    removingCreatedParentsOnFailure(target, () -> AtomicFiles.writeFolder(target, replace, tmp -> {
      TarGz.extract(tarGz, tmp, limits);
      hoistSingleTopFolder(tarGz, tmp);
      BundleFolder.Verified v = BundleFolder.verify(tmp);
      verified[0] = new BundleFolder.Verified(target, v.manifest(), v.manifestSha256());
    }));
    return verified[0];
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  /**
   * Runs {@code action}, which creates {@code target} and any missing parent folders; if it fails, removes the
   * parent folders that were missing before (those still empty), so that a failure leaves the disk as it was.
   */
  private static void removingCreatedParentsOnFailure(Path target, IoAction action) throws IOException {
    List<Path> missing = new ArrayList<>();
    for (Path p = target.toAbsolutePath().getParent(); p != null && !Files.exists(p); p = p.getParent()) {
      missing.add(p);
    }
    try {
      action.run();
    } catch (IOException | RuntimeException e) {
      for (Path p : missing) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException notEmpty) {
          break;
        }
      }
      throw e;
    }
  }

  private static void refuseExisting(Path targetDir, boolean replace) throws FileAlreadyExistsException {
    if (!replace && Files.exists(targetDir, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(targetDir.toString(), null,
          "target folder already exists (pass replace=true to replace it)");
    }
  }

  /**
   * If {@code dir} has no {@code model.json} but exactly one entry, a folder holding {@code model.json}, moves that
   * folder's contents up into {@code dir}. Otherwise leaves {@code dir} as it is; a missing manifest is then
   * reported by the verification.
   */
  private static void hoistSingleTopFolder(Path archive, Path dir) throws IOException {
    if (Files.exists(dir.resolve(BundleManifest.FILE_NAME), LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    List<Path> top = children(dir);
    if (top.size() != 1 || !Files.isDirectory(top.get(0), LinkOption.NOFOLLOW_LINKS)
        || !Files.exists(top.get(0).resolve(BundleManifest.FILE_NAME), LinkOption.NOFOLLOW_LINKS)) {
      throw new BundleException("archive " + archive + " has no " + BundleManifest.FILE_NAME
          + " at its top level or inside a single top-level folder");
    }
    Path folder = top.get(0);
    List<Path> inner = children(folder);
    // The folder may hold an entry with its own name ("a/a"): rename it first to a name none of its entries has.
    String free = ".hoist";
    for (int i = 0; containsName(inner, free); i++) {
      free = ".hoist" + i;
    }
    Path moved = Files.move(folder, dir.resolve(free));
    for (Path child : children(moved)) {
      Files.move(child, dir.resolve(child.getFileName().toString()));
    }
    Files.delete(moved);
  }

  private static boolean containsName(List<Path> paths, String name) {
    for (Path p : paths) {
      if (p.getFileName().toString().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private static List<Path> children(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return new ArrayList<>(list.sorted().toList());
    }
  }
}
