package dev.genzoo.tools.metrics;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.checkpoints.UnpackLimits;
import dev.genzoo.data.ImageDataset;
import dev.genzoo.graphs.Progress;
import dev.genzoo.graphs.RuntimeOptions;
import dev.genzoo.io.AtomicFiles;
import dev.genzoo.zoo.Archives;
import dev.genzoo.zoo.Cache;
import dev.genzoo.zoo.Fetcher;
import dev.genzoo.zoo.RegistryEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The Inception network of the reference FID and Inception Score code, run as it is: the GraphDef
 * {@code classify_image_graph_def.pb} from {@code inception-2015-12-05.tgz}, which TTUR's {@code fid.py}
 * (Heusel et al. 2017) and openai/improved-gan's {@code inception_score/model.py} (Salimans et al. 2016) load.
 *
 * <p>The GraphDef is imported unchanged. Images are fed the way that code feeds them: a float32 batch
 * {@code [N, H, W, 3]} of values 0..255 into the tensor {@code ExpandDims:0} (the graph then resizes it to 299 x 299
 * with its own {@code ResizeBilinear} op and normalises it as {@code (x - 128) / 128}); the features are
 * {@code pool_3:0} ({@code [N, 1, 1, 2048]}, squeezed to {@code [N, 2048]}); the class probabilities are
 * {@code softmax(squeeze(pool_3) · W)} over 1008 classes, where {@code W} is the second input of the op
 * {@code softmax/logits/MatMul}, without the graph's bias {@code softmax/biases} (improved-gan builds it this way, so
 * that the graph's hard-coded batch size 1 in {@code pool_3/_reshape} is bypassed; StyleGAN2-ADA's port matches it
 * with {@code no_output_bias}). That softmax is added to the imported graph under the scope
 * {@code genzoo_inception/}.
 *
 * <p>Inputs in [0, 1] are clamped and, by default, quantised to 8 bits ({@code round(255 x)}), as if the images had
 * been written to PNG files and read back, which is how samples reach the reference scripts; grayscale images are
 * tiled to three channels. Work goes in batches ({@link #batchSize(int)}, 50 like TTUR) with a progress bar (images
 * per second, ETA). The graph runs in float32 (no XLA, no bfloat16), on the GPU when the TensorFlow native library
 * has one.
 *
 * <p>Close the network when done (it owns a TensorFlow graph and session).
 */
public final class InceptionNetwork implements AutoCloseable {
  /** The op whose output 0 takes the images (float32 {@code [N, H, W, 3]}, 0..255). */
  public static final String INPUT_OP = "ExpandDims";
  /** The op whose output 0 is the pool features {@code [N, 1, 1, 2048]}. */
  public static final String POOL3_OP = "pool_3";
  /** The op whose input 1 is the logits weight {@code W [2048, 1008]}. */
  public static final String LOGITS_MATMUL_OP = "softmax/logits/MatMul";
  /** The graph's own resize op (reported in {@link #protocol()}). */
  public static final String RESIZE_OP = "ResizeBilinear";
  /** Where the reference code downloads the graph from. */
  public static final String REFERENCE_URL =
      "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz";
  /** The archive's file name. */
  public static final String REFERENCE_ARCHIVE = "inception-2015-12-05.tgz";
  /** The GraphDef inside the archive. */
  public static final String GRAPH_FILE = "classify_image_graph_def.pb";
  /**
   * The archive's SHA-256: not pinned yet (it could not be computed where this was written), so fetching it needs
   * {@code GENZOO_ALLOW_UNPINNED=1}, which prints the SHA-256 found.
   */
  public static final String REFERENCE_ARCHIVE_SHA256 = null;
  /** Environment variable naming a {@code classify_image_graph_def.pb} to use instead of downloading. */
  public static final String GRAPH_ENV = "GENZOO_INCEPTION_GRAPH";
  /** System property naming a {@code classify_image_graph_def.pb} (wins over {@link #GRAPH_ENV}). */
  public static final String GRAPH_PROPERTY = "genzoo.inceptionGraph";
  /** The batch size of TTUR's {@code get_activations}. */
  public static final int DEFAULT_BATCH_SIZE = 50;

  private static final String SCOPE = "genzoo_inception";
  private static final String HOW_TO_GET = "The archive's SHA-256 is not pinned in genzoo, so downloading it needs "
      + "GENZOO_ALLOW_UNPINNED=1 (the SHA-256 found is then printed); without a network, put "
      + REFERENCE_ARCHIVE + " in a folder and set GENZOO_MIRROR=file:///THAT/FOLDER together with "
      + "GENZOO_ALLOW_UNPINNED=1; or give the graph itself with --inception-graph FILE.pb or " + GRAPH_ENV
      + "=FILE.pb (" + GRAPH_FILE + " from " + REFERENCE_URL + ")";

  /** Images for {@link #features(ImageSource, int, int, int, int)}, produced a chunk at a time. */
  @FunctionalInterface
  public interface ImageSource {
    /**
     * Writes images {@code [from, from + count)} into {@code dst} (from index 0) as HWC floats with values 0..255,
     * with the channels given to {@code features}.
     */
    void fill(int from, int count, float[] dst) throws IOException;
  }

  private final Graph graph;
  private final Session session;
  private final String probsOp;
  private final Path source;
  private final String sha256;
  private final int featureDim;
  private final int classes;
  private final String resize;
  private int batchSize = DEFAULT_BATCH_SIZE;
  private boolean quantize = true;
  private boolean progress = true;
  private boolean closed;

  private InceptionNetwork(Graph graph, Session session, String probsOp, Path source, String sha256, int featureDim,
      int classes, String resize) {
    this.graph = graph;
    this.session = session;
    this.probsOp = probsOp;
    this.source = source;
    this.sha256 = sha256;
    this.featureDim = featureDim;
    this.classes = classes;
    this.resize = resize;
  }

  /** The reference network: {@link #referenceGraph()} loaded with {@link #load(Path)}. */
  public static InceptionNetwork reference() throws IOException {
    return load(referenceGraph());
  }

  /**
   * The reference {@code classify_image_graph_def.pb}: the file named by {@code -Dgenzoo.inceptionGraph} or
   * {@code GENZOO_INCEPTION_GRAPH} when set; otherwise {@code inception-2015-12-05.tgz} fetched through the zoo's
   * {@link Fetcher} (cache, resume, offline mode, mirrors) and extracted once into
   * {@code $GENZOO_HOME/metrics/inception-2015-12-05-SHA12/}.
   *
   * @throws IOException saying how to provide the graph when it cannot be had
   */
  public static Path referenceGraph() throws IOException {
    String configured = System.getProperty(GRAPH_PROPERTY);
    String origin = "-D" + GRAPH_PROPERTY;
    if (configured == null || configured.isBlank()) {
      configured = System.getenv(GRAPH_ENV);
      origin = GRAPH_ENV;
    }
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured.trim());
      if (!Files.isRegularFile(p)) {
        throw new NoSuchFileException(p.toString(), null, origin + " names no file (expected " + GRAPH_FILE
            + " from " + REFERENCE_ARCHIVE + ")");
      }
      return p;
    }
    return referenceGraph(Fetcher.create());
  }

  /** {@link #referenceGraph()} through the given fetcher, ignoring the graph settings. */
  public static Path referenceGraph(Fetcher fetcher) throws IOException {
    RegistryEntry.FileRef ref = new RegistryEntry.FileRef(REFERENCE_URL, REFERENCE_ARCHIVE_SHA256, 0,
        REFERENCE_ARCHIVE);
    Path archive;
    try {
      archive = fetcher.fetch(ref, "inception-2015-12-05");
    } catch (IOException e) {
      throw new IOException("cannot get the reference Inception graph: " + e.getMessage() + ". " + HOW_TO_GET, e);
    }
    String archiveSha = archive.getParent().getFileName().toString();
    Cache cache = fetcher.cache();
    String name = "inception-2015-12-05-" + archiveSha.substring(0, Math.min(12, archiveSha.length()));
    Path dir = cache.home().resolve("metrics").resolve(name);
    Path pb = dir.resolve(GRAPH_FILE);
    if (Files.isRegularFile(pb, LinkOption.NOFOLLOW_LINKS)) {
      return pb;
    }
    Files.createDirectories(dir.getParent());
    try (Cache.Lock lock = cache.lock("metrics-" + name)) {
      if (Files.isRegularFile(pb, LinkOption.NOFOLLOW_LINKS)) {
        return pb;
      }
      try (var old = Files.newDirectoryStream(dir.getParent(), ".tmp-" + name + "*")) {
        for (Path p : old) {
          AtomicFiles.deleteRecursively(p); // left by an extraction that was killed
        }
      }
      AtomicFiles.deleteRecursively(dir); // extraction is atomic: a folder without the graph is not genzoo's
      Archives.extract(archive, dir, UnpackLimits.DEFAULT);
      if (!Files.isRegularFile(pb, LinkOption.NOFOLLOW_LINKS)) {
        AtomicFiles.deleteRecursively(dir);
        throw new IOException(archive + " (" + REFERENCE_URL + ") has no " + GRAPH_FILE + "; " + HOW_TO_GET);
      }
    }
    return pb;
  }

  /** Loads a GraphDef with the reference's tensors, with the default threads and device. */
  public static InceptionNetwork load(Path graphDefPb) throws IOException {
    return load(graphDefPb, RuntimeOptions.defaults());
  }

  /**
   * Loads a GraphDef with the reference's tensor names ({@code ExpandDims:0}, {@code pool_3:0},
   * {@code softmax/logits/MatMul}), imported unchanged, and adds the softmax on top of its weights. Only the threads
   * and the device of {@code runtime} are used: the graph always runs in float32, without XLA.
   *
   * @throws IOException when the file cannot be read or is not a GraphDef
   * @throws IllegalArgumentException naming every tensor the graph lacks (or has with an unusable type or shape)
   */
  public static InceptionNetwork load(Path graphDefPb, RuntimeOptions runtime) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(graphDefPb);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(graphDefPb.toString(), null, "no Inception graph (" + GRAPH_FILE + ") here");
    }
    String sha = Sha256.hex(bytes);
    GraphDef def;
    try {
      def = GraphDef.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("Inception graph " + graphDefPb + " is not a TensorFlow GraphDef (.pb): "
          + e.getMessage(), e);
    }
    if (def.getNodeCount() == 0) {
      throw new IOException("Inception graph " + graphDefPb + " is not a TensorFlow GraphDef (.pb): no nodes");
    }
    Graph g = new Graph();
    Session s = null;
    try {
      try {
        g.importGraphDef(def);
      } catch (IllegalArgumentException | TensorFlowException e) {
        throw new IOException("cannot import the Inception graph " + graphDefPb + " into TensorFlow: "
            + e.getMessage(), e);
      }
      String what = "Inception graph " + graphDefPb + " (sha256 " + sha + ")";
      Checked c = check(g, what);
      Ops tf = Ops.create(g).withSubScope(SCOPE);
      Operand<TFloat32> flat = tf.squeeze(c.pool3, Squeeze.axis(1L, 2L));
      Operand<TFloat32> logits = tf.linalg.matMul(flat, c.weight);
      Operand<TFloat32> probs = tf.nn.softmax(logits);
      RuntimeOptions fp32 = new RuntimeOptions(runtime.intraOpThreads(), runtime.interOpThreads(), false, false,
          runtime.device());
      s = new Session(g, fp32.toConfigProto());
      String resize = describeResize(g, s);
      return new InceptionNetwork(g, s, probs.op().name(), graphDefPb, sha, c.dim, c.classes, resize);
    } catch (IOException | RuntimeException | Error e) {
      if (s != null) {
        s.close();
      }
      g.close();
      throw e;
    }
  }

  private record Checked(Output<TFloat32> pool3, Output<TFloat32> weight, int dim, int classes) {}

  /** Checks that the graph has what the reference code uses, collecting every problem into one message. */
  private static Checked check(Graph g, String what) {
    List<String> problems = new ArrayList<>();
    GraphOperation input = g.operation(INPUT_OP);
    if (input == null) {
      problems.add(INPUT_OP + ":0 (the image input, float32 [N, H, W, 3] with values 0..255) is missing");
    } else if (input.numOutputs() < 1 || input.output(0).dataType() != DataType.DT_FLOAT) {
      problems.add(INPUT_OP + ":0 (the image input) is not float32"
          + (input.numOutputs() < 1 ? "" : " but " + input.output(0).dataType()));
    }
    GraphOperation pool = g.operation(POOL3_OP);
    long dim = -1;
    Output<TFloat32> pool3 = null;
    if (pool == null) {
      problems.add(POOL3_OP + ":0 (the pool features [N, 1, 1, 2048]) is missing");
    } else if (pool.numOutputs() < 1 || pool.output(0).dataType() != DataType.DT_FLOAT) {
      problems.add(POOL3_OP + ":0 (the pool features) is not float32");
    } else {
      Shape shape = pool.output(0).shape();
      if (!shape.isUnknown() && (shape.numDimensions() != 4 || shape.get(1) > 1 || shape.get(2) > 1)) {
        problems.add(POOL3_OP + ":0 has shape " + shape + ", not [N, 1, 1, D]");
      } else {
        pool3 = pool.output(0).expect(TFloat32.class);
        dim = shape.isUnknown() ? -1 : shape.get(3);
      }
    }
    GraphOperation matmul = g.operation(LOGITS_MATMUL_OP);
    Output<TFloat32> weight = null;
    long classes = -1;
    if (matmul == null) {
      problems.add(LOGITS_MATMUL_OP + " (whose input 1 is the logits weight [2048, 1008]) is missing");
    } else if (matmul.numInputs() < 2 || matmul.input(1).dataType() != DataType.DT_FLOAT) {
      problems.add(LOGITS_MATMUL_OP + " has no float32 input 1 (the logits weight)");
    } else {
      Output<?> w = matmul.input(1);
      Shape shape = w.shape();
      if (shape.isUnknown() || shape.numDimensions() != 2 || shape.get(0) < 1 || shape.get(1) < 1) {
        problems.add("the logits weight (input 1 of " + LOGITS_MATMUL_OP + ", " + w.op().name() + ") has shape "
            + shape + ", not a known [D, classes]");
      } else if (dim > 0 && shape.get(0) != dim) {
        problems.add("the logits weight " + w.op().name() + " has shape " + shape + " but " + POOL3_OP
            + " has width " + dim);
      } else {
        weight = w.expect(TFloat32.class);
        dim = shape.get(0);
        classes = shape.get(1);
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(what + " is not the reference Inception graph: " + String.join("; ",
          problems) + ". Expected " + GRAPH_FILE + " from " + REFERENCE_ARCHIVE + " (" + REFERENCE_URL + ")");
    }
    return new Checked(pool3, weight, (int) dim, (int) classes);
  }

  /** How the graph resizes: its ResizeBilinear op's size and flags, when it has one with a constant size. */
  private static String describeResize(Graph g, Session s) {
    GraphOperation op = g.operation(RESIZE_OP);
    if (op == null || !op.type().equals("ResizeBilinear") || op.numInputs() < 2) {
      return "the graph has no " + RESIZE_OP + " op; images reach " + INPUT_OP + ":0 at their own size";
    }
    String size = "?";
    Output<?> sizeInput = op.input(1);
    if (sizeInput.op().type().equals("Const") && sizeInput.dataType() == DataType.DT_INT32) {
      try (Result r = s.runner().fetch(sizeInput).run()) {
        TInt32 t = (TInt32) r.get(0);
        if (t.shape().size() == 2) {
          size = t.getInt(0) + "x" + t.getInt(1);
        }
      } catch (RuntimeException e) {
        size = "?";
      }
    }
    boolean align = attr(op, "align_corners");
    boolean halfPixel = attr(op, "half_pixel_centers");
    return "resized to " + size + " by the graph's own " + RESIZE_OP + " (align_corners=" + align
        + ", half_pixel_centers=" + halfPixel + ")";
  }

  private static boolean attr(GraphOperation op, String name) {
    try {
      return op.attributes().getAttrBool(name);
    } catch (RuntimeException e) {
      return false; // absent in old graphs: TensorFlow's default, false
    }
  }

  // ------------------------------------------------------------------------------------------------ settings

  /** Images per session run (default 50); returns this network. */
  public InceptionNetwork batchSize(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("Inception batch size must be at least 1, got " + n);
    }
    this.batchSize = n;
    return this;
  }

  /** The images per session run. */
  public int batchSize() {
    return batchSize;
  }

  /**
   * Whether {@link #features(float[], int, int, int, int)} quantises [0, 1] inputs to 8 bits (default true, as a PNG
   * round trip would) or feeds {@code 255 x} unrounded; returns this network.
   */
  public InceptionNetwork quantize(boolean on) {
    this.quantize = on;
    return this;
  }

  /** Whether [0, 1] inputs are quantised to 8 bits. */
  public boolean quantize() {
    return quantize;
  }

  /** Whether to show a progress bar (default true; plain lines when standard error is not a terminal). */
  public InceptionNetwork showProgress(boolean on) {
    this.progress = on;
    return this;
  }

  /** Whether a progress bar is shown. */
  public boolean showsProgress() {
    return progress;
  }

  // ------------------------------------------------------------------------------------------------ facts

  /** The width of the pool features (2048 for the reference graph). */
  public int featureDim() {
    return featureDim;
  }

  /** The number of classes of the softmax (1008 for the reference graph). */
  public int classes() {
    return classes;
  }

  /** The SHA-256 of the GraphDef file. */
  public String graphSha256() {
    return sha256;
  }

  /** The GraphDef file. */
  public Path graphFile() {
    return source;
  }

  /**
   * How features are computed, for reports: the graph file and its SHA-256, how images are fed, resized and
   * normalised, and which tensors give the features and the probabilities.
   */
  public String protocol() {
    return "Inception graph " + source.getFileName() + " (sha256 " + sha256 + ", " + featureDim + "-d "
        + POOL3_OP + ", " + classes + " classes; the reference is " + GRAPH_FILE + " from " + REFERENCE_ARCHIVE
        + ", as in TTUR fid.py and improved-gan inception_score), imported unchanged into TensorFlow Java and run "
        + "in float32; images fed to " + INPUT_OP + ":0 as float32 [N, H, W, 3] with values 0..255"
        + (quantize ? " (inputs in [0, 1] clamped and rounded to 8 bits, as a PNG round trip)"
            : " (inputs in [0, 1] clamped and multiplied by 255, not rounded)")
        + ", grayscale tiled to 3 channels, in batches of " + batchSize + "; " + resize
        + ", normalised in the graph ((x - 128) / 128); features " + POOL3_OP + ":0 squeezed to [N, " + featureDim
        + "]; probabilities softmax(" + POOL3_OP + " · W), W = input 1 of " + LOGITS_MATMUL_OP + ", without the "
        + "output bias (as improved-gan)";
  }

  // ------------------------------------------------------------------------------------------------ running

  /**
   * Features of {@code n} images in [0, 1], row-major {@code [n, h, w, c]} with {@code c} 1 (tiled to RGB) or 3:
   * clamped, scaled to 0..255 (and rounded to 8 bits unless {@link #quantize(boolean)} is off) and fed in batches.
   *
   * @throws IllegalArgumentException for a wrong array length, channel count or a value that is not finite
   */
  public Features features(float[] images01, int n, int h, int w, int c) throws IOException {
    checkImages(images01, n, h, w, c);
    int size = h * w * c;
    boolean q = quantize;
    return features((from, count, dst) -> {
      int base = from * size;
      for (int i = 0; i < count * size; i++) {
        float v = images01[base + i];
        float x = v < 0f ? 0f : v > 1f ? 1f : v;
        dst[i] = q ? Math.round(x * 255f) : x * 255f;
      }
    }, n, h, w, c);
  }

  /**
   * Features of {@code n} images whose values are already 0..255 (fed as they are, not clamped or rounded), row-major
   * {@code [n, h, w, c]}.
   */
  public Features features255(float[] images255, int n, int h, int w, int c) throws IOException {
    checkImages(images255, n, h, w, c);
    int size = h * w * c;
    return features((from, count, dst) -> System.arraycopy(images255, from * size, dst, 0, count * size), n, h, w,
        c);
  }

  /**
   * Features of images {@code [from, from + count)} of a dataset (its 8-bit values fed as 0..255); {@code done}
   * receives the number of images finished so far (for a progress display shared over several calls), or is null
   * for a progress display of this call.
   */
  public Features features(ImageDataset data, int from, int count, LongConsumer done) throws IOException {
    if (from < 0 || count < 0 || from + count > data.size()) {
      throw new IndexOutOfBoundsException("images [" + from + ", " + (from + count) + ") of " + data.description()
          + ", which has " + data.size());
    }
    int size = data.exampleSize();
    return features((start, k, dst) -> {
      for (int i = 0; i < k; i++) {
        data.copyTo(from + start + i, dst, i * size, false);
      }
    }, count, data.height(), data.width(), data.channels(), done);
  }

  /** Features of {@code n} images of {@code h x w x c} from {@code images}, in batches, with a progress display. */
  public Features features(ImageSource images, int n, int h, int w, int c) throws IOException {
    return features(images, n, h, w, c, null);
  }

  /**
   * Features of {@code n} images of {@code h x w x c} from {@code images}, in batches; {@code done} receives the
   * number of images finished so far after each batch (to drive a progress display shared over several calls), or
   * is null for a progress display of this call (images per second and ETA).
   */
  public Features features(ImageSource images, int n, int h, int w, int c, LongConsumer done) throws IOException {
    if (closed) {
      throw new IllegalStateException("the Inception network " + source + " is closed");
    }
    if (n < 0 || h < 1 || w < 1) {
      throw new IllegalArgumentException("cannot take features of " + n + " images of " + h + " x " + w);
    }
    if (c != 1 && c != 3) {
      throw new IllegalArgumentException("images must have 1 (grayscale, tiled to RGB) or 3 channels, got " + c);
    }
    float[] pool = new float[Math.multiplyExact(n, featureDim)];
    float[] probs = new float[Math.multiplyExact(n, classes)];
    int pixels = Math.multiplyExact(h, w);
    int b = Math.max(1, Math.min(batchSize, n));
    float[] raw = new float[Math.multiplyExact(b, pixels * c)];
    float[] rgb = c == 3 ? raw : new float[Math.multiplyExact(b, pixels * 3)];
    try (Progress own = done == null ? Progress.start("inception features", 0, n, "img", progress && n > 0)
        : null) {
      LongConsumer report = done != null ? done : own::stepTo;
      for (int at = 0; at < n; at += b) {
        int k = Math.min(b, n - at);
        images.fill(at, k, raw);
        if (c == 1) {
          for (int i = 0; i < k * pixels; i++) {
            float v = raw[i];
            rgb[3 * i] = v;
            rgb[3 * i + 1] = v;
            rgb[3 * i + 2] = v;
          }
        }
        run(rgb, k, h, w, pool, probs, at);
        report.accept(at + k);
      }
    }
    return new Features(pool, probs, n);
  }

  /** One session run over {@code k} RGB images; writes rows {@code [at, at + k)} of {@code pool} and {@code probs}. */
  private void run(float[] rgb, int k, int h, int w, float[] pool, float[] probs, int at) {
    int values = k * h * w * 3;
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(k, h, w, 3), DataBuffers.of(rgb, true, false).slice(0, values));
         Result r = session.runner().feed(INPUT_OP, 0, x).fetch(POOL3_OP, 0).fetch(probsOp, 0).run()) {
      copy((TFloat32) r.get(0), (long) k * featureDim, pool, at * featureDim, POOL3_OP + ":0");
      copy((TFloat32) r.get(1), (long) k * classes, probs, at * classes, "softmax");
    } catch (TensorFlowException e) {
      throw new IllegalStateException("the Inception graph " + source + " failed on a batch of " + k + " images of "
          + h + " x " + w + ": " + e.getMessage(), e);
    }
  }

  private static void copy(TFloat32 t, long expected, float[] dst, int offset, String name) {
    if (t.shape().size() != expected) {
      throw new IllegalStateException(name + " gave shape " + t.shape() + ", expected " + expected + " values");
    }
    t.copyTo(DataBuffers.of(dst, false, false).slice(offset, expected));
  }

  private static void checkImages(float[] images, int n, int h, int w, int c) {
    if (c != 1 && c != 3) {
      throw new IllegalArgumentException("images must have 1 (grayscale, tiled to RGB) or 3 channels, got " + c);
    }
    if (n < 0 || h < 1 || w < 1 || images == null || (long) n * h * w * c != images.length) {
      throw new IllegalArgumentException("image array of " + (images == null ? "null" : images.length + " values")
          + " is not " + n + " x " + h + " x " + w + " x " + c);
    }
    for (int i = 0; i < images.length; i++) {
      if (!Float.isFinite(images[i])) {
        int size = h * w * c;
        throw new IllegalArgumentException(String.format(Locale.ROOT, "image %d has a value that is not finite "
            + "(%s at offset %d)", i / size, images[i], i % size));
      }
    }
  }

  /** Closes the session and the graph. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      session.close();
      graph.close();
    }
  }

  @Override
  public String toString() {
    return "InceptionNetwork[" + source + ", sha256 " + sha256 + ", " + featureDim + "-d, " + classes + " classes]";
  }

}
