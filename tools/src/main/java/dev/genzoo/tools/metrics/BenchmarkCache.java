package dev.genzoo.tools.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.Progress;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Inception features of a benchmark's images, cached chunk by chunk in a folder as they are computed, so that an
 * interrupted run resumes where it stopped.
 *
 * <p>Images {@code [i * chunk, min((i + 1) * chunk, n))} form chunk {@code i}; its pool_3 features and softmax
 * probabilities are written as {@code features-NNNNN.npy} ({@code count x dim} float32) and {@code probs-NNNNN.npy}
 * ({@code count x classes} float32), then recorded in {@code state.json}, each file atomically. The state carries
 * the run's identity (the <em>key</em>: model SHA-256, seed, sampler, Inception graph, ...); a cache whose key
 * differs belongs to another run and is refused (or, for a reference, lives in another folder). A chunk is reused
 * only with the count the current run expects, so a larger {@code --samples} extends a run and recomputes at most
 * its last, partial chunk. The first images of the run (up to {@link #GRID_SIZE}) are kept in {@code grid.npy} for
 * the sample grid.
 */
public final class BenchmarkCache {
  /** The state file's name. */
  public static final String STATE = "state.json";

  /** How many images of the run {@code grid.npy} keeps. */
  public static final int GRID_SIZE = 64;

  static final String FORMAT = "genzoo-benchmark-cache";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * One cached chunk.
   *
   * @param index the chunk number
   * @param count its number of images
   * @param imageSeconds seconds spent making its images (sampling, or reading a dataset)
   * @param featureSeconds seconds spent in the Inception network
   * @param nonFinite images with a value that was not finite (NaN or infinite), fed with NaN as 0 and infinities
   *     clamped to [0, 1]
   */
  public record Chunk(int index, int count, double imageSeconds, double featureSeconds, int nonFinite) {}

  /** Makes the images of one chunk: {@code count} images from {@code start}, NHWC in [0, 1]. */
  @FunctionalInterface
  public interface ImageSource {
    /** Images {@code [start, start + count)}, which form chunk {@code chunk}. */
    float[] images(int chunk, int start, int count) throws IOException;
  }

  /** What {@link #fill} did: the chunks it computed and those it found in the cache. */
  public record FillResult(int computedChunks, int computedImages, int cachedChunks, int cachedImages) {}

  private final Path dir;
  private final Map<String, String> key;
  private final int dim;
  private final int classes;
  private final TreeMap<Integer, Chunk> chunks = new TreeMap<>();
  private int runs;
  private int gridCount;

  private BenchmarkCache(Path dir, Map<String, String> key, int dim, int classes) {
    this.dir = dir;
    this.key = new LinkedHashMap<>(key);
    this.dim = dim;
    this.classes = classes;
  }

  /**
   * Opens (or creates) the cache in {@code dir} for a run with identity {@code key} and features of {@code dim}
   * values with {@code classes} probabilities per image, and counts one more run in its state.
   *
   * @param fresh discard what the folder holds first
   * @param what the option that names the folder, for messages ({@code "--out DIR"})
   * @throws IllegalArgumentException if the folder holds another run's cache (its differing key fields are named)
   */
  public static BenchmarkCache open(Path dir, Map<String, String> key, int dim, int classes, boolean fresh,
      String what) throws IOException {
    BenchmarkCache c = new BenchmarkCache(dir, key, dim, classes);
    Files.createDirectories(dir);
    AtomicFiles.sweepTemporaries(dir);
    Path state = dir.resolve(STATE);
    if (fresh) {
      c.clear();
    } else if (Files.exists(state)) {
      c.readState(state, what);
    }
    c.runs++;
    c.writeState();
    return c;
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /** How many runs opened this cache, this one included. */
  public int runs() {
    return runs;
  }

  /** The cached chunks by number. */
  public Map<Integer, Chunk> chunks() {
    return java.util.Collections.unmodifiableMap(chunks);
  }

  /** The number of images of chunk {@code index} in a run of {@code n} images in chunks of {@code chunk}. */
  public static int expectedCount(int index, int chunk, int n) {
    return Math.max(0, Math.min(chunk, n - index * chunk));
  }

  /** The number of chunks of a run of {@code n} images. */
  public static int chunkCount(int chunk, int n) {
    return (n + chunk - 1) / chunk;
  }

  /** True when chunk {@code index} is cached with {@code count} images and its files are there. */
  public boolean has(int index, int count) {
    Chunk c = chunks.get(index);
    return c != null && c.count() == count && Files.isRegularFile(featuresFile(index))
        && Files.isRegularFile(probsFile(index));
  }

  /**
   * Makes sure chunks {@code 0 .. chunkCount(chunk, n) - 1} are cached, computing the missing ones from
   * {@code source} through {@code net} ({@code batch} images per Inception run), with a progress bar.
   *
   * @param afterImages called with every chunk's images as they are made (for the sample grid), may be null
   */
  public FillResult fill(int n, int chunk, ImageSource source, InceptionNetwork net, int h, int w, int c,
      int batch, String task, boolean progress, ChunkListener afterImages) throws IOException {
    int total = chunkCount(chunk, n);
    int cachedImages = 0;
    int cachedChunks = 0;
    for (int i = 0; i < total; i++) {
      if (has(i, expectedCount(i, chunk, n))) {
        cachedImages += expectedCount(i, chunk, n);
        cachedChunks++;
      }
    }
    int computedChunks = 0;
    int computedImages = 0;
    try (Progress p = Progress.start(task, cachedImages, n, "images", progress)) {
      int done = cachedImages;
      for (int i = 0; i < total; i++) {
        int count = expectedCount(i, chunk, n);
        if (has(i, count)) {
          continue;
        }
        p.message("chunk " + (i + 1) + "/" + total + ": images");
        long t0 = System.nanoTime();
        float[] x = source.images(i, i * chunk, count);
        long per = (long) h * w * c;
        if (x.length != count * per) {
          throw new IllegalStateException(task + ": chunk " + i + " has " + x.length + " values, expected " + count
              + " images of " + h + "x" + w + "x" + c);
        }
        double imageSeconds = (System.nanoTime() - t0) / 1e9;
        if (afterImages != null) {
          afterImages.accept(i, i * chunk, count, x);
        }
        int nonFinite = sanitize(x, count, (int) per);
        if (nonFinite > 0) {
          System.err.println("warning: " + task + " chunk " + i + ": " + nonFinite + " of " + count + " images have "
              + "values that are not finite; fed with NaN as 0 and infinities clamped to [0, 1]");
        }
        p.message("chunk " + (i + 1) + "/" + total + ": Inception features");
        long t1 = System.nanoTime();
        float[] features = new float[count * dim];
        float[] probs = new float[count * classes];
        for (int s = 0; s < count; s += batch) {
          int k = Math.min(batch, count - s);
          Features f = net.features(Arrays.copyOfRange(x, (int) (s * per), (int) ((s + k) * per)),
              k, h, w, c);
          if (f.pool3().length != k * dim || f.probs().length != k * classes) {
            throw new IllegalStateException("the Inception network returned " + f.pool3().length + " features and "
                + f.probs().length + " probabilities for " + k + " images, expected " + k * dim + " and "
                + k * classes);
          }
          System.arraycopy(f.pool3(), 0, features, s * dim, k * dim);
          System.arraycopy(f.probs(), 0, probs, s * classes, k * classes);
          p.stepTo(done + s + k);
        }
        double featureSeconds = (System.nanoTime() - t1) / 1e9;
        put(new Chunk(i, count, imageSeconds, featureSeconds, nonFinite), features, probs);
        computedChunks++;
        computedImages += count;
        done += count;
      }
      p.message("done");
    }
    return new FillResult(computedChunks, computedImages, cachedChunks, cachedImages);
  }

  /** Replaces NaN by 0 and infinities by 1 or 0; returns the number of images that had any such value. */
  static int sanitize(float[] x, int count, int per) {
    int bad = 0;
    for (int i = 0; i < count; i++) {
      boolean any = false;
      for (int j = i * per; j < (i + 1) * per; j++) {
        float v = x[j];
        if (!Float.isFinite(v)) {
          any = true;
          x[j] = v == Float.POSITIVE_INFINITY ? 1f : 0f;
        }
      }
      bad += any ? 1 : 0;
    }
    return bad;
  }

  /** The images with values that were not finite among the first {@code n}, by the chunks' records. */
  public int nonFinite(int n, int chunk) {
    int s = 0;
    for (int i = 0; i < chunkCount(chunk, n); i++) {
      Chunk c = chunks.get(i);
      s += c == null ? 0 : c.nonFinite();
    }
    return s;
  }

  /** Receives each chunk's images in {@link #fill}. */
  @FunctionalInterface
  public interface ChunkListener {
    void accept(int chunk, int start, int count, float[] images) throws IOException;
  }

  /** Stores one chunk: its two arrays, then the state that lists it. */
  public void put(Chunk chunk, float[] features, float[] probs) throws IOException {
    if (features.length != chunk.count() * dim || probs.length != chunk.count() * classes) {
      throw new IllegalArgumentException("chunk " + chunk.index() + " of " + chunk.count() + " images needs "
          + chunk.count() * dim + " features and " + chunk.count() * classes + " probabilities");
    }
    NpyArray f = NpyArray.ofFloats(features, chunk.count(), dim);
    NpyArray p = NpyArray.ofFloats(probs, chunk.count(), classes);
    AtomicFiles.write(featuresFile(chunk.index()), out -> Npy.write(out, f));
    AtomicFiles.write(probsFile(chunk.index()), out -> Npy.write(out, p));
    chunks.put(chunk.index(), chunk);
    writeState();
  }

  /** The pool_3 features of the first {@code n} images ({@code n x dim}, row-major). */
  public float[] features(int n, int chunk) throws IOException {
    return read(n, chunk, true);
  }

  /** The softmax probabilities of the first {@code n} images ({@code n x classes}, row-major). */
  public float[] probs(int n, int chunk) throws IOException {
    return read(n, chunk, false);
  }

  /** The cached chunks among the first {@code chunkCount(chunk, n)}: seconds spent making images, in total. */
  public double imageSeconds(int n, int chunk) {
    double s = 0;
    for (int i = 0; i < chunkCount(chunk, n); i++) {
      Chunk c = chunks.get(i);
      s += c == null ? 0 : c.imageSeconds();
    }
    return s;
  }

  /** As {@link #imageSeconds} for the Inception network. */
  public double featureSeconds(int n, int chunk) {
    double s = 0;
    for (int i = 0; i < chunkCount(chunk, n); i++) {
      Chunk c = chunks.get(i);
      s += c == null ? 0 : c.featureSeconds();
    }
    return s;
  }

  /** How many leading images {@code grid.npy} holds. */
  public int gridCount() {
    return gridCount;
  }

  /**
   * Adds the images {@code [start, start + count)} to the grid images where they continue it (images already
   * there, or past a gap, are ignored), up to {@link #GRID_SIZE}.
   */
  public void offerGrid(int start, int count, float[] images, int h, int w, int c) throws IOException {
    if (start > gridCount || gridCount >= GRID_SIZE || start + count <= gridCount) {
      return;
    }
    int per = h * w * c;
    int end = Math.min(GRID_SIZE, start + count);
    float[] old = gridCount == 0 ? new float[0] : grid(h, w, c);
    float[] merged = Arrays.copyOf(old, end * per);
    System.arraycopy(images, (gridCount - start) * per, merged, gridCount * per, (end - gridCount) * per);
    NpyArray a = NpyArray.ofFloats(merged, end, h, w, c);
    AtomicFiles.write(dir.resolve("grid.npy"), out -> Npy.write(out, a));
    gridCount = end;
    writeState();
  }

  /** The grid images ({@link #gridCount()} of them, NHWC in [0, 1]). */
  public float[] grid(int h, int w, int c) throws IOException {
    Path file = dir.resolve("grid.npy");
    NpyArray a = Npy.read(file);
    long[] s = a.shape();
    if (s.length != 4 || s[0] != gridCount || s[1] != h || s[2] != w || s[3] != c) {
      throw new IOException(file + ": grid images " + a + " are not " + gridCount + " images of " + h + "x" + w
          + "x" + c + "; delete the file (or pass --fresh) to remake it");
    }
    return a.asFloats();
  }

  private float[] read(int n, int chunk, boolean features) throws IOException {
    int width = features ? dim : classes;
    float[] out = new float[Math.multiplyExact(n, width)];
    for (int i = 0; i < chunkCount(chunk, n); i++) {
      int count = expectedCount(i, chunk, n);
      if (!has(i, count)) {
        throw new IllegalStateException("chunk " + i + " of " + count + " images is not in the cache " + dir);
      }
      Path file = features ? featuresFile(i) : probsFile(i);
      NpyArray a = Npy.read(file);
      long[] s = a.shape();
      if (s.length != 2 || s[0] != count || s[1] != width || !a.descr().equals("<f4")) {
        throw new IOException(file + ": " + a + " is not a " + count + " x " + width + " float32 array; delete "
            + "the folder (or pass --fresh) to recompute it");
      }
      float[] v = a.asFloats();
      System.arraycopy(v, 0, out, i * chunk * width, v.length);
    }
    return out;
  }

  private Path featuresFile(int index) {
    return dir.resolve(String.format(java.util.Locale.ROOT, "features-%05d.npy", index));
  }

  private Path probsFile(int index) {
    return dir.resolve(String.format(java.util.Locale.ROOT, "probs-%05d.npy", index));
  }

  private void clear() throws IOException {
    try (var list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String f = p.getFileName().toString();
        if (f.equals(STATE) || f.equals("grid.npy") || f.matches("(features|probs)-\\d+\\.npy")) {
          Files.delete(p);
        }
      }
    }
    chunks.clear();
    runs = 0;
    gridCount = 0;
  }

  private void readState(Path state, String what) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(state.toFile());
    } catch (IOException e) {
      throw new IOException(state + " is not a readable cache state (" + e.getMessage() + "); delete it or pass "
          + "--fresh", e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new IOException(state + " is not a " + FORMAT + " state file");
    }
    List<String> differ = new ArrayList<>();
    JsonNode k = root.path("key");
    java.util.Set<String> names = new java.util.LinkedHashSet<>(key.keySet());
    k.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      String cached = k.has(name) ? k.get(name).asText() : null;
      String now = key.get(name);
      if (!java.util.Objects.equals(cached, now)) {
        differ.add(name + ": cached " + (cached == null ? "(none)" : cached) + ", now " + (now == null ? "(none)"
            : now));
      }
    }
    if (!differ.isEmpty()) {
      throw new IllegalArgumentException(what + " holds the cached features of another run (" + String.join("; ",
          differ) + "); pass --fresh to discard them, or choose another folder");
    }
    if (root.path("dim").asInt() != dim || root.path("classes").asInt() != classes) {
      throw new IllegalArgumentException(what + " holds features of " + root.path("dim").asInt() + " values and "
          + root.path("classes").asInt() + " classes, the network gives " + dim + " and " + classes
          + "; pass --fresh to discard them");
    }
    runs = root.path("runs").asInt();
    gridCount = root.path("grid_count").asInt();
    if (gridCount > 0 && !Files.isRegularFile(dir.resolve("grid.npy"))) {
      gridCount = 0;
    }
    for (JsonNode c : root.path("chunks")) {
      Chunk chunk = new Chunk(c.path("index").asInt(), c.path("count").asInt(), c.path("image_seconds").asDouble(),
          c.path("feature_seconds").asDouble(), c.path("non_finite").asInt());
      chunks.put(chunk.index(), chunk);
    }
  }

  private void writeState() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", 1);
    ObjectNode k = root.putObject("key");
    key.forEach(k::put);
    root.put("dim", dim);
    root.put("classes", classes);
    root.put("runs", runs);
    root.put("grid_count", gridCount);
    ArrayNode list = root.putArray("chunks");
    for (Chunk c : chunks.values()) {
      ObjectNode o = list.addObject();
      o.put("index", c.index());
      o.put("count", c.count());
      o.put("image_seconds", c.imageSeconds());
      o.put("feature_seconds", c.featureSeconds());
      o.put("non_finite", c.nonFinite());
    }
    AtomicFiles.writeBytes(dir.resolve(STATE), JSON.writeValueAsBytes(root));
  }
}
