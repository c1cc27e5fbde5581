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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

  /**
   * The cached bundle folder of a registry entry, {@code $GENZOO_HOME/models/NAME-SHA12}, made first if needed:
   * an embedded bundle is copied from the jar, verified and unpacked; a bundle at a URL is fetched into the cache
   * ({@link Fetcher}: verified, resumable, offline mode, mirrors) and unpacked; the upstream files of an entry that
   * {@link RegistryEntry#needsConversion() needs conversion} are fetched and converted to a bundle. Unpacking and
   * converting happen under the model's cache lock and appear with an atomic rename, so that concurrent processes
   * make the folder once and never see it half-written.
   */
  public static Path resolve(RegistryEntry e) throws IOException {
    return resolve(e, Fetcher.create());
  }

  /** {@link #resolve(RegistryEntry)} with the given fetcher (its cache and options). */
  static Path resolve(RegistryEntry e, Fetcher fetcher) throws IOException {
    Cache cache = fetcher.cache();
    RegistryEntry.FileRef ref = e.bundle();
    if (e.needsConversion()) {
      return converted(e, fetcher);
    }
    if (ref.sha256() != null) {
      Path dir = cache.modelDir(e.name(), ref.sha256());
      if (isBundle(dir)) {
        return dir;
      }
    }
    if (e.isEmbedded()) {
      return embedded(e, ref, cache);
    }
    Path archive = fetcher.fetch(ref, e.name());
    Path dir = cache.modelDir(e.name(), archive.getParent().getFileName().toString());
    Files.createDirectories(dir.getParent());
    try (Cache.Lock lock = cache.lock(Cache.modelLockKey(dir))) {
      if (isBundle(dir)) {
        return dir;
      }
      cache.sweepModelTemporaries(dir);
      AtomicFiles.deleteRecursively(dir); // a folder without model.json is not from genzoo's atomic unpack
      Bundles.unpack(archive, dir);
    }
    return dir;
  }

  /**
   * The entry's bundle folder if it is already in the cache (or inside the jar, for embedded entries), without any
   * download or conversion; empty otherwise (an entry with unpinned files is never found this way).
   */
  public static java.util.Optional<Path> cached(RegistryEntry e) {
    if (e.files().isEmpty()) {
      return java.util.Optional.empty();
    }
    Cache cache = Cache.open();
    Path dir = null;
    if (e.needsConversion()) {
      Map<String, String> shas = new LinkedHashMap<>();
      for (RegistryEntry.FileRef f : e.files()) {
        if (f.sha256() == null) {
          return java.util.Optional.empty();
        }
        shas.put(f.name(), f.sha256());
      }
      dir = cache.modelDir(e.name(), conversionKey(e, shas));
    } else if (e.bundle().sha256() != null) {
      dir = cache.modelDir(e.name(), e.bundle().sha256());
    }
    return dir != null && (isBundle(dir) || e.isEmbedded()) ? java.util.Optional.of(dir)
        : java.util.Optional.empty();
  }

  private static boolean isBundle(Path dir) {
    return Files.isRegularFile(dir.resolve(BundleManifest.FILE_NAME));
  }

  private static Path embedded(RegistryEntry e, RegistryEntry.FileRef ref, Cache cache) throws IOException {
    if (ref.sha256() == null) {
      throw new IOException("embedded model " + e.name() + " has no sha256 in the registry");
    }
    Path dir = cache.modelDir(e.name(), ref.sha256());
    Files.createDirectories(dir.getParent());
    try (Cache.Lock lock = cache.lock(Cache.modelLockKey(dir))) {
      if (isBundle(dir)) {
        return dir;
      }
      cache.sweepModelTemporaries(dir);
      Path archive = Files.createTempFile(dir.getParent(), ".tmp-" + dir.getFileName(), ".tar.gz");
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
          throw new IOException("embedded model " + e.name() + " has sha256 " + sha + " and size "
              + Files.size(archive) + " but the registry says " + ref.sha256() + " and " + ref.size());
        }
        try {
          Bundles.unpack(archive, dir);
        } catch (FileAlreadyExistsException raced) {
          // made by a genzoo without the cache lock; its copy was verified the same way
        }
      } finally {
        AtomicFiles.deleteRecursively(archive);
      }
    }
    return dir;
  }

  /**
   * Fetches the upstream files of {@code e} and converts them with {@link ZooConversion} into
   * {@code models/NAME-KEY12}, where KEY is the SHA-256 of the converter's name and the files' names and SHA-256s.
   */
  private static Path converted(RegistryEntry e, Fetcher fetcher) throws IOException {
    Cache cache = fetcher.cache();
    boolean pinned = e.files().stream().allMatch(f -> f.sha256() != null);
    if (pinned) {
      Map<String, String> shas = new LinkedHashMap<>();
      for (RegistryEntry.FileRef f : e.files()) {
        shas.put(f.name(), f.sha256());
      }
      Path dir = cache.modelDir(e.name(), conversionKey(e, shas));
      if (isBundle(dir)) {
        return dir;
      }
    }
    Map<String, Path> byName = new LinkedHashMap<>();
    Map<String, String> shas = new LinkedHashMap<>();
    for (RegistryEntry.FileRef f : e.files()) {
      if (byName.containsKey(f.name())) {
        throw new IOException("registry entry " + e.name() + " has two files named " + f.name()
            + "; give them distinct \"name\"s");
      }
      Path file = fetcher.fetch(f, e.name());
      byName.put(f.name(), file);
      shas.put(f.name(), file.getParent().getFileName().toString());
    }
    Path dir = cache.modelDir(e.name(), conversionKey(e, shas));
    Files.createDirectories(dir.getParent());
    try (Cache.Lock lock = cache.lock(Cache.modelLockKey(dir))) {
      if (isBundle(dir)) {
        return dir;
      }
      cache.sweepModelTemporaries(dir);
      AtomicFiles.deleteRecursively(dir); // a folder without model.json is not from an atomic write
      ZooConversion.convert(e, Collections.unmodifiableMap(byName), dir);
      if (!isBundle(dir)) {
        throw new IOException("converter " + e.source().converter() + " of " + e.name() + " wrote no bundle at "
            + dir);
      }
    }
    return dir;
  }

  /** The SHA-256 naming a converted model: of the converter's name and each file's name and SHA-256. */
  static String conversionKey(RegistryEntry e, Map<String, String> shaByName) {
    StringBuilder sb = new StringBuilder("genzoo-conversion\n").append(e.source().converter()).append('\n');
    shaByName.forEach((name, sha) -> sb.append(name).append(' ').append(sha).append('\n'));
    return Sha256.hex(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
