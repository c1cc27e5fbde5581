package dev.genzoo.tools.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.data.CifarReader;
import dev.genzoo.data.ImageDataset;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.Progress;
import dev.genzoo.io.AtomicFiles;
import dev.genzoo.zoo.Cache;
import dev.genzoo.zoo.Datasets;
import dev.genzoo.zoo.Zoo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reference statistics for FID: the mean and covariance of the pool_3 features of the CIFAR-10 training split
 * (50,000 images, the split TTUR's {@code fid_stats_cifar10_train.npz} and most CIFAR-10 FIDs use), computed once
 * with a given {@link InceptionNetwork} and cached as {@code .npz} ({@code mu}, {@code sigma}) under
 * {@code $GENZOO_HOME/stats/}, keyed by the SHA-256 of the Inception graph (and, for a CIFAR-10 folder given by hand,
 * the SHA-256 of its files), with a JSON sidecar recording the protocol. CIFAR-10's 8-bit pixels are fed as they
 * are (0..255), so no rounding question arises for the reference.
 *
 * <p>The features are computed in chunks that are kept in a work folder until the statistics are written, so an
 * interrupted computation resumes where it stopped. Precomputed statistics (e.g. TTUR's published
 * {@code fid_stats_cifar10_train.npz}) are read with {@link #load(Path, InceptionNetwork)}.
 */
public final class ReferenceStats {
  /** The format name in the sidecar. */
  public static final String FORMAT = "genzoo-reference-stats";
  /** Images per cached chunk of features. */
  public static final int CHUNK = 5000;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ReferenceStats() {}

  /** {@code $GENZOO_HOME/stats}. */
  public static Path statsDir() {
    return Zoo.home().resolve("stats");
  }

  /**
   * The statistics of the official CIFAR-10 training split under {@code net}: from the cache when present, otherwise
   * computed (downloading CIFAR-10 first if needed, {@link Datasets#cifar10Dir()}) and cached in
   * {@link #statsDir()}.
   */
  public static FeatureStats cifar10Train(InceptionNetwork net) throws IOException {
    Path dir = statsDir();
    Path npz = dir.resolve(officialName(net));
    if (isCached(npz, net)) {
      return FeatureStats.readNpz(npz);
    }
    return compute(net, Datasets.cifar10Dir(), "cifar10 (official, md5 " + Datasets.CIFAR10_MD5 + ")", npz);
  }

  /**
   * The statistics of the training split of the CIFAR-10 binary files in {@code cifarDir} ({@code cifar10:DIR})
   * under {@code net}, cached in {@code statsDir} under a name made of the files' SHA-256 and the graph's.
   */
  public static FeatureStats cifar10Train(InceptionNetwork net, Path cifarDir, Path statsDir) throws IOException {
    String dataSha = filesSha256(cifarDir);
    Path npz = statsDir.resolve("cifar10-train-" + dataSha.substring(0, 12) + "-inception-"
        + net.graphSha256().substring(0, 16) + ".npz");
    if (isCached(npz, net)) {
      return FeatureStats.readNpz(npz);
    }
    return compute(net, cifarDir, "cifar10:" + cifarDir + " (files sha256 " + dataSha + ")", npz);
  }

  /** The file name of the official split's statistics for {@code net}. */
  static String officialName(InceptionNetwork net) {
    return "cifar10-train-inception-" + net.graphSha256().substring(0, 16) + ".npz";
  }

  /**
   * Precomputed statistics ({@code mu}, {@code sigma}), checked against the width of {@code net}'s features when
   * {@code net} is given.
   *
   * @throws IllegalArgumentException naming the file when its width differs from the network's
   */
  public static FeatureStats load(Path npz, InceptionNetwork net) throws IOException {
    FeatureStats s = FeatureStats.readNpz(npz);
    if (net != null && s.dim() != net.featureDim()) {
      throw new IllegalArgumentException("statistics " + npz + " are " + s.dim() + "-dimensional but the Inception "
          + "graph " + net.graphFile() + " gives " + net.featureDim() + "-d features");
    }
    return s;
  }

  /** The sidecar of a statistics file: {@code NAME.npz.json}. */
  public static Path sidecar(Path npz) {
    return npz.resolveSibling(npz.getFileName() + ".json");
  }

  /** Whether {@code npz} and its sidecar exist and were made with {@code net}'s graph. */
  private static boolean isCached(Path npz, InceptionNetwork net) throws IOException {
    Path side = sidecar(npz);
    if (!Files.isRegularFile(npz, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(side)) {
      return false;
    }
    try {
      JsonNode n = JSON.readTree(Files.readAllBytes(side));
      return FORMAT.equals(n.path("format").asText()) && net.graphSha256().equals(n.path("graph_sha256").asText())
          && n.path("dim").asInt() == net.featureDim();
    } catch (IOException e) {
      return false; // an unreadable sidecar: computed again
    }
  }

  /** Computes the statistics of the training split in {@code cifarDir} and writes {@code npz} and its sidecar. */
  private static FeatureStats compute(InceptionNetwork net, Path cifarDir, String dataDescription, Path npz)
      throws IOException {
    Files.createDirectories(npz.getParent());
    Path parent = npz.getParent().getParent();
    Cache locks = Cache.at(parent != null ? parent : npz.getParent()); // $GENZOO_HOME/locks for the default folder
    try (Cache.Lock lock = locks.lock("stats-" + npz.getFileName())) {
      if (isCached(npz, net)) {
        return FeatureStats.readNpz(npz);
      }
      ImageDataset data = CifarReader.readDir(cifarDir, "train");
      long t0 = System.nanoTime();
      float[] pool = features(net, data, npz.resolveSibling(".work-" + npz.getFileName()));
      double seconds = (System.nanoTime() - t0) / 1e9;
      FeatureStats stats = FeatureStats.of(pool, data.size(), net.featureDim());
      stats.writeNpz(npz); // atomic; the sidecar written after it marks the pair complete
      ObjectNode side = JSON.createObjectNode();
      side.put("format", FORMAT);
      side.put("version", 1);
      side.put("data", dataDescription);
      side.put("split", "train");
      side.put("count", data.size());
      side.put("dim", net.featureDim());
      side.put("graph_sha256", net.graphSha256());
      side.put("protocol", net.protocol());
      side.put("seconds", seconds);
      side.put("created", Instant.now().toString());
      AtomicFiles.writeBytes(sidecar(npz), JSON.writeValueAsBytes(side));
      AtomicFiles.deleteRecursively(npz.resolveSibling(".work-" + npz.getFileName()));
      return stats;
    }
  }

  /**
   * The pool features of every image of {@code data}, row-major {@code [n, dim]}, computed in chunks of
   * {@link #CHUNK} images that are kept in {@code work} (as {@code chunk-NNNNN.npy}) so that an interrupted run
   * resumes; one progress bar over all images.
   */
  static float[] features(InceptionNetwork net, ImageDataset data, Path work) throws IOException {
    return features(net, data, work, CHUNK);
  }

  /** {@link #features(InceptionNetwork, ImageDataset, Path)} with chunks of {@code chunk} images. */
  static float[] features(InceptionNetwork net, ImageDataset data, Path work, int chunk) throws IOException {
    int n = data.size();
    int d = net.featureDim();
    float[] pool = new float[Math.multiplyExact(n, d)];
    Files.createDirectories(work);
    int chunks = (n + chunk - 1) / chunk;
    List<Integer> missing = new ArrayList<>();
    int done = 0;
    for (int i = 0; i < chunks; i++) {
      int from = i * chunk;
      int count = Math.min(chunk, n - from);
      float[] cached = readChunk(work.resolve(chunkName(i)), count, d);
      if (cached != null) {
        System.arraycopy(cached, 0, pool, from * d, count * d);
        done += count;
      } else {
        missing.add(i);
      }
    }
    boolean show = net.showsProgress();
    try (Progress p = Progress.start("reference features (" + data.description() + ")", done, n, "img",
        show && !missing.isEmpty())) {
      for (int i : missing) {
        int from = i * chunk;
        int count = Math.min(chunk, n - from);
        long base = done;
        Features f = net.features(data, from, count, k -> p.stepTo(base + k));
        System.arraycopy(f.pool3(), 0, pool, from * d, count * d);
        Npy.write(work.resolve(chunkName(i)), NpyArray.ofFloats(f.pool3(), count, d));
        done += count;
      }
    }
    return pool;
  }

  private static String chunkName(int i) {
    return String.format("chunk-%05d.npy", i);
  }

  /** A cached chunk if it is there with the expected shape; null otherwise (it is then computed again). */
  private static float[] readChunk(Path file, int count, int d) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      NpyArray a = Npy.read(file);
      long[] s = a.shape();
      if (s.length != 2 || s[0] != count || s[1] != d) {
        return null;
      }
      return a.asFloats();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The SHA-256 over the training files of a CIFAR-10 folder (names and contents, in reading order). */
  static String filesSha256(Path cifarDir) throws IOException {
    List<Path> files = trainFiles(cifarDir);
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buffer = new byte[1 << 16];
    for (Path f : files) {
      md.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      md.update((byte) 0);
      try (InputStream in = Files.newInputStream(f)) {
        int k;
        while ((k = in.read(buffer)) >= 0) {
          md.update(buffer, 0, k);
        }
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** The {@code data_batch_*.bin} files as {@link CifarReader#readDir} finds them. */
  private static List<Path> trainFiles(Path dir) throws IOException {
    Path d = dir;
    if (!Files.isDirectory(d)) {
      throw new NoSuchFileException(dir.toString(), null, "not a folder (expected the CIFAR-10 binary files)");
    }
    List<Path> files = list(d);
    if (files.isEmpty() && Files.isDirectory(d.resolve("cifar-10-batches-bin"))) {
      files = list(d.resolve("cifar-10-batches-bin"));
    }
    if (files.isEmpty()) {
      throw new NoSuchFileException(dir.toString(), null, "no CIFAR-10 train files (data_batch_*.bin) in it or in "
          + "its cifar-10-batches-bin subfolder");
    }
    return files;
  }

  private static List<Path> list(Path dir) throws IOException {
    var matcher = dir.getFileSystem().getPathMatcher("glob:data_batch_*.bin");
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> matcher.matches(p.getFileName()) && Files.isRegularFile(p))
          .sorted((a, b) -> naturalCompare(a.getFileName().toString(), b.getFileName().toString()))
          .toList();
    }
  }

  /** Compares names with runs of digits compared as numbers ({@code data_batch_2} before {@code data_batch_10}). */
  static int naturalCompare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char x = a.charAt(i);
      char y = b.charAt(j);
      if (Character.isDigit(x) && Character.isDigit(y)) {
        int i2 = i;
        int j2 = j;
        while (i2 < a.length() && Character.isDigit(a.charAt(i2))) {
          i2++;
        }
        while (j2 < b.length() && Character.isDigit(b.charAt(j2))) {
          j2++;
        }
        int c = new java.math.BigInteger(a.substring(i, i2)).compareTo(new java.math.BigInteger(b.substring(j, j2)));
        if (c != 0) {
          return c;
        }
        i = i2;
        j = j2;
      } else {
        if (x != y) {
          return Character.compare(x, y);
        }
        i++;
        j++;
      }
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
