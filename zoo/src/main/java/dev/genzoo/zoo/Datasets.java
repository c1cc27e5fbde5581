package dev.genzoo.zoo;

import dev.genzoo.checkpoints.UnpackLimits;
import dev.genzoo.data.Batch;
import dev.genzoo.data.DataSpec;
import dev.genzoo.data.ImageBatches;
import dev.genzoo.data.LoadedData;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Data by SPEC ({@code toy:8gaussians}, {@code mnist:DIR}, {@code cifar10:DIR}, {@code folder:DIR},
 * {@code npy:FILE}; see {@link DataSpec}), and evaluation passes over it.
 *
 * <p>A plain {@code cifar10} is the official CIFAR-10 (Krizhevsky 2009), binary version: downloaded once through
 * the zoo's {@link Fetcher} (resume, retries, offline mode, mirrors; {@code GENZOO_MIRROR} bases are tried as
 * {@code <base>/cifar-10-binary.tar.gz}), verified by the MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html
 * and its size, cached under {@code files/}, and extracted safely ({@link Archives#extract}) into
 * {@code $GENZOO_HOME/data/cifar10}, which is then read as {@code cifar10:DIR}.
 */
public final class Datasets {
  /** The official binary archive of CIFAR-10. */
  public static final String CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
  /** The MD5 of {@link #CIFAR10_URL} as published on the dataset's page. */
  public static final String CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
  /** The size of {@link #CIFAR10_URL} in bytes. */
  public static final long CIFAR10_SIZE = 170_052_171L;
  /** The archive as a file reference (pinned by its MD5; no SHA-256 is published). */
  public static final RegistryEntry.FileRef CIFAR10_ARCHIVE = RegistryEntry.FileRef.md5Pinned(CIFAR10_URL,
      CIFAR10_MD5, CIFAR10_SIZE, "cifar-10-binary.tar.gz");
  /** The name the archive is recorded under in the cache ({@code genzoo cache list}). */
  static final String CIFAR10_ENTRY = "cifar10";
  /** The files of the official archive that must be present after extraction. */
  private static final List<String> CIFAR10_FILES = List.of("data_batch_1.bin", "data_batch_2.bin",
      "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin");
  private static final String CIFAR10_FOLDER = "cifar-10-batches-bin";

  private Datasets() {}

  /** Opens a SPEC; a plain {@code cifar10} is downloaded first if the cache lacks it ({@link #cifar10Dir()}). */
  public static LoadedData open(String spec, DataSpec.Options options) throws IOException {
    DataSpec parsed = DataSpec.parse(spec);
    if (parsed.needsDownload()) {
      return new DataSpec("cifar10", cifar10Dir().toString()).open(options);
    }
    return parsed.open(options);
  }

  /**
   * The folder of the official CIFAR-10 binary files, {@code $GENZOO_HOME/data/cifar10} (the archive's
   * {@code cifar-10-batches-bin} inside it), downloaded, verified and extracted first if needed. Concurrent
   * processes extract it once (under a cache lock, with an atomic rename).
   *
   * @throws IOException naming the URL and the MD5 when the download fails or does not match
   */
  public static Path cifar10Dir() throws IOException {
    return cifar10Dir(Fetcher.create());
  }

  /** {@link #cifar10Dir()} with the given fetcher (its cache and options). */
  public static Path cifar10Dir(Fetcher fetcher) throws IOException {
    return cifar10Dir(fetcher, CIFAR10_ARCHIVE);
  }

  /** {@link #cifar10Dir(Fetcher)} from another archive (tests). */
  static Path cifar10Dir(Fetcher fetcher, RegistryEntry.FileRef archiveRef) throws IOException {
    Cache cache = fetcher.cache();
    Path dir = cache.home().resolve("data").resolve("cifar10");
    if (isCifar10(dir)) {
      return dir;
    }
    Files.createDirectories(dir.getParent());
    try (Cache.Lock lock = cache.lock("data-cifar10")) {
      if (isCifar10(dir)) {
        return dir;
      }
      Path archive;
      try {
        archive = fetcher.fetch(archiveRef, CIFAR10_ENTRY);
      } catch (IOException e) {
        throw new IOException("cannot get CIFAR-10 (" + archiveRef.uri() + ", md5 " + archiveRef.md5() + "): "
            + e.getMessage() + ". Alternatively download and extract it yourself and pass cifar10:DIR", e);
      }
      try (var old = Files.newDirectoryStream(dir.getParent(), ".tmp-" + dir.getFileName() + "*")) {
        for (Path p : old) {
          AtomicFiles.deleteRecursively(p); // left by an extraction that was killed
        }
      }
      // Archives.extract renames a complete folder into place, so a folder here without the files is not genzoo's.
      AtomicFiles.deleteRecursively(dir);
      Archives.extract(archive, dir, UnpackLimits.DEFAULT);
      if (!isCifar10(dir)) {
        AtomicFiles.deleteRecursively(dir);
        throw new IOException(archive + " (" + archiveRef.uri() + ") does not hold " + CIFAR10_FOLDER + "/"
            + String.join(", ", CIFAR10_FILES) + "; the extracted folder was removed");
      }
    }
    return dir;
  }

  /** Whether {@code dir} holds the extracted archive: every batch file, each a whole number of records. */
  private static boolean isCifar10(Path dir) throws IOException {
    Path batches = dir.resolve(CIFAR10_FOLDER);
    for (String f : CIFAR10_FILES) {
      Path p = batches.resolve(f);
      if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) == 0
          || Files.size(p) % dev.genzoo.data.CifarReader.RECORD_SIZE != 0) {
        return false;
      }
    }
    return true;
  }

  /** Options for data that must match a model's example shape ([H, W, C] images or [d] points). */
  public static DataSpec.Options optionsFor(long[] dataShape, String split) {
    DataSpec.Options o = DataSpec.Options.defaults().withSplit(split);
    if (dataShape.length == 3) {
      o = o.withSize((int) dataShape[0], (int) dataShape[1], (int) dataShape[2]);
    }
    return o;
  }

  /**
   * A fixed evaluation pass: every image (or the first {@code limit}) once in dataset order, dequantised with noise
   * from {@code seed} when asked; {@code limit} samples (default 10,000) of a toy distribution; every point of a
   * point set.
   */
  public static Iterable<Batch> evalBatches(LoadedData data, int batchSize, int limit, long seed, boolean dequantize) {
    if (data instanceof LoadedData.Images images) {
      var ds = images.dataset();
      if (limit > 0 && limit < ds.size()) {
        ds = ds.subset(0, limit);
      }
      return ImageBatches.evalBatches(ds, batchSize, seed, dequantize);
    }
    if (data instanceof LoadedData.Toy toy) {
      int n = limit > 0 ? limit : 10_000;
      float[] x = toy.distribution().sample(new SplittableRandom(seed), n);
      return split(x, n, toy.distribution().dim(), batchSize);
    }
    LoadedData.Points p = (LoadedData.Points) data;
    int n = limit > 0 ? Math.min(limit, p.size()) : p.size();
    float[] x = java.util.Arrays.copyOf(p.values(), n * p.dim());
    return split(x, n, p.dim(), batchSize);
  }

  /** The number of examples {@link #evalBatches} yields. */
  public static int evalCount(LoadedData data, int limit) {
    int size;
    if (data instanceof LoadedData.Images images) {
      size = images.dataset().size();
    } else if (data instanceof LoadedData.Toy) {
      return limit > 0 ? limit : 10_000;
    } else {
      size = ((LoadedData.Points) data).size();
    }
    return limit > 0 ? Math.min(limit, size) : size;
  }

  private static Iterable<Batch> split(float[] x, int n, int dim, int batchSize) {
    List<Batch> out = new ArrayList<>();
    for (int s = 0; s < n; s += batchSize) {
      int k = Math.min(batchSize, n - s);
      out.add(new Batch(java.util.Arrays.copyOfRange(x, s * dim, (s + k) * dim), new long[] {k, dim}, null));
    }
    return out;
  }
}
