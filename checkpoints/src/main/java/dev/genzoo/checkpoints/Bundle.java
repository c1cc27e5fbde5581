package dev.genzoo.checkpoints;

import dev.genzoo.io.AtomicFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An opened genzoo bundle: a folder whose {@code model.json} was read and whose files were all checked against it
 * (present, regular, with the stated size and SHA-256; nothing unlisted) when it was opened. See {@link Bundles} for
 * the layout.
 *
 * <p>Where the folder lives is explicit:
 * <ul>
 *   <li>{@link #open(Path)} on a folder opens it in place; {@link #close()} leaves it alone.
 *   <li>{@link #open(Path)} on a {@code .tar.gz} extracts it ({@link Bundles#unpack}) into a fresh temporary folder
 *       under {@code java.io.tmpdir}, which {@link #close()} deletes ({@link #isTemporary()} is then true).
 *   <li>{@link #openArchive} extracts a {@code .tar.gz} into a folder the caller names, which is kept.
 * </ul>
 * A closed bundle answers {@link IllegalStateException} to {@link #dir()}, {@link #checkpointPrefix()} and
 * {@link #file(String)}.
 */
public final class Bundle implements Closeable {
  private final Path dir;
  private final BundleManifest manifest;
  private final String manifestSha256;
  /** The temporary folder to delete on close (the parent of {@code dir}), or null. */
  private final Path temporary;
  private boolean closed;

  private Bundle(BundleFolder.Verified verified, Path temporary) {
    this.dir = verified.dir();
    this.manifest = verified.manifest();
    this.manifestSha256 = verified.manifestSha256();
    this.temporary = temporary;
  }

  /** {@link #open(Path, UnpackLimits)} with {@link UnpackLimits#DEFAULT}. */
  public static Bundle open(Path path) throws IOException {
    return open(path, UnpackLimits.DEFAULT);
  }

  /**
   * Opens a bundle folder in place, or extracts a bundle archive (any regular file is read as a {@code .tar.gz})
   * into a fresh temporary folder that {@link #close()} deletes.
   *
   * @param limits bounds on the extraction of an archive (unused for a folder)
   * @throws BundleException if the manifest is malformed, a file is missing, unlisted or differs from the manifest,
   *     or the archive is unsafe, truncated or corrupt
   */
  public static Bundle open(Path path, UnpackLimits limits) throws IOException {
    if (Files.isDirectory(path)) {
      return new Bundle(BundleFolder.verify(path), null);
    }
    if (!Files.isRegularFile(path)) {
      throw new BundleException("bundle " + path + ": " + (Files.exists(path)
          ? "neither a folder nor a .tar.gz file" : "no such folder or file"));
    }
    Path temporary = Files.createTempDirectory("genzoo-bundle-");
    try {
      BundleFolder.Verified verified = Bundles.unpackVerified(path, temporary.resolve("bundle"), false, limits);
      return new Bundle(verified, temporary);
    } catch (IOException | RuntimeException e) {
      try {
        AtomicFiles.deleteRecursively(temporary);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Extracts a bundle archive into {@code targetDir} ({@link Bundles#unpack(Path, Path, boolean, UnpackLimits)})
   * and opens it there; the folder is kept when the bundle is closed.
   */
  public static Bundle openArchive(Path tarGz, Path targetDir, boolean replace, UnpackLimits limits)
      throws IOException {
    return new Bundle(Bundles.unpackVerified(tarGz, targetDir, replace, limits), null);
  }

  /** The verified manifest. */
  public BundleManifest manifest() {
    return manifest;
  }

  /**
   * The SHA-256 of the {@code model.json} bytes: one digest that pins every file of the bundle (the manifest lists
   * each one's SHA-256). Fine-tuned bundles record it as {@link BundleManifest.Parent#sha256()}.
   */
  public String manifestSha256() {
    return manifestSha256;
  }

  /** The bundle folder. */
  public Path dir() {
    checkOpen();
    return dir;
  }

  /** The TensorFlow checkpoint prefix, {@code dir()/variables}, as the tensor bundle reader and Saver expect it. */
  public Path checkpointPrefix() {
    return dir().resolve(BundleFolder.CHECKPOINT_PREFIX);
  }

  /**
   * A file of the bundle by its relative path as listed in the manifest ({@code "samples.png"}), or
   * {@code "model.json"}.
   *
   * @throws IllegalArgumentException if the manifest does not list it
   */
  public Path file(String relativePath) {
    if (!relativePath.equals(BundleManifest.FILE_NAME) && !manifest.files().containsKey(relativePath)) {
      throw new IllegalArgumentException("bundle '" + manifest.name() + "' (" + dir + ") has no file '"
          + relativePath + "'; its files are " + manifest.files().keySet());
    }
    return dir().resolve(relativePath);
  }

  /** True when {@link #close()} deletes the folder (an archive opened with {@link #open(Path)}). */
  public boolean isTemporary() {
    return temporary != null;
  }

  /** Deletes the temporary folder of an archive opened with {@link #open(Path)}; otherwise only marks it closed. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (temporary != null) {
      AtomicFiles.deleteRecursively(temporary);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("bundle '" + manifest.name() + "' is closed");
    }
  }
}
