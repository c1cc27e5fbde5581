package dev.genzoo.zoo;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.Bundles;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Pretrained models in one line: {@code try (GenerativeModel m = Zoo.load("flow-mnist")) { m.sample(64, ...); }}.
 *
 * <p>A name is a registry entry or a path to a bundle (a folder or a {@code .tar.gz}). Registry bundles are unpacked
 * and verified once into the cache, {@code $GENZOO_HOME/models/NAME-SHA} (default {@code ~/.genzoo}); embedded
 * models come from inside the jar, so they load with no network.
 */
public final class Zoo {
  private Zoo() {}

  /** The registry's models. */
  public static List<RegistryEntry> list() {
    return Registry.load().entries();
  }

  /** Loads a model for inference. */
  public static GenerativeModel load(String nameOrPath) {
    return load(nameOrPath, ModelOptions.inference());
  }

  /** Loads a model built with {@code options} (e.g. for training, to fine-tune it). */
  public static GenerativeModel load(String nameOrPath, ModelOptions options) {
    try (Bundle bundle = open(nameOrPath)) {
      return load(bundle, options);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  /** Builds the bundle's family from its config and restores its weights. */
  public static GenerativeModel load(Bundle bundle, ModelOptions options) {
    BundleManifest m = bundle.manifest();
    ModelFamily family = Families.get(m.family());
    GenerativeModel model = family.create(m.config(), options);
    try {
      model.restoreWeights(bundle.checkpointPrefix());
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw new IllegalArgumentException("bundle " + bundle.dir() + " (" + m.name() + "): " + e.getMessage(), e);
    }
  }

  /**
   * Opens a verified bundle: a path (folder or .tar.gz), or a registry name resolved through the cache. Close it
   * when done (a temporary extraction is then deleted; cached ones stay).
   */
  public static Bundle open(String nameOrPath) throws IOException {
    Path path = Path.of(nameOrPath);
    if (Files.exists(path)) {
      return Bundle.open(path);
    }
    if (nameOrPath.endsWith(".tar.gz") || nameOrPath.contains("/")) {
      throw new IllegalArgumentException("no bundle at " + nameOrPath);
    }
    return Bundle.open(resolve(Registry.load().get(nameOrPath)));
  }

  /** The cache root: {@code $GENZOO_HOME}, the {@code genzoo.home} property, or {@code ~/.genzoo}. */
  public static Path home() {
    String h = System.getProperty("genzoo.home", System.getenv("GENZOO_HOME"));
    return h != null && !h.isBlank() ? Path.of(h) : Path.of(System.getProperty("user.home"), ".genzoo");
  }

  /** The cached, unpacked bundle folder of a registry entry, fetching it into the cache first if needed. */
  public static Path resolve(RegistryEntry e) throws IOException {
    RegistryEntry.FileRef ref = e.bundle();
    Path dir = home().resolve("models").resolve(e.name() + "-" + ref.sha256().substring(0, 12));
    if (Files.isRegularFile(dir.resolve(BundleManifest.FILE_NAME))) {
      return dir;
    }
    if (!e.isEmbedded()) {
      throw new IOException("model " + e.name() + " is not in the cache (" + dir + ") and downloading "
          + ref.uri() + " is not available in this version of genzoo");
    }
    Files.createDirectories(dir.getParent());
    Path archive = Files.createTempFile(dir.getParent(), ".tmp-" + e.name(), ".tar.gz");
    try {
      String resource = "/dev/genzoo/zoo/embedded/" + ref.uri().substring("embedded:".length());
      try (InputStream in = Zoo.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IOException("the zoo jar lacks the embedded model " + resource);
        }
        Files.copy(in, archive, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      String sha = Sha256.hex(archive);
      if (!sha.equals(ref.sha256()) || Files.size(archive) != ref.size()) {
        throw new IOException("embedded model " + e.name() + " has sha256 " + sha + " and size " + Files.size(archive)
            + " but the registry says " + ref.sha256() + " and " + ref.size());
      }
      try {
        Bundles.unpack(archive, dir);
      } catch (FileAlreadyExistsException raced) {
        // another process unpacked it first; its copy was verified the same way
      }
    } finally {
      AtomicFiles.deleteRecursively(archive);
    }
    return dir;
  }
}
