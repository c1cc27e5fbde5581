package dev.genzoo.tools.metrics;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A tiny stand-in for {@code classify_image_graph_def.pb} with the reference graph's names and structure, written as
 * GraphDef protos for TensorFlow to import:
 *
 * <pre>
 * Cast (Placeholder float [?, ?, 3], the decoded JPEG of the real graph)
 *   -> ExpandDims (dim 0: static shape [1, ?, ?, 3], batch 1 like the real graph)
 *   -> ResizeBilinear (to SIZE x SIZE, align_corners=false) -> Sub (128) -> Mul (1/128)
 *   -> conv/Conv2D (1x1, 3 -> DIM) -> conv (Relu)
 *   -> pool_3 (AvgPool SIZE x SIZE, VALID: [N, 1, 1, DIM])
 *   -> pool_3/_reshape (Reshape to [1, DIM], hard-coded batch 1 like the real graph)
 *   -> softmax/logits/MatMul (x softmax/weights [DIM, CLASSES]) -> softmax/logits (+ softmax/biases) -> softmax
 * </pre>
 *
 * {@link #reference} computes the same features and probabilities in plain Java (double precision) from the known
 * weights, independently of TensorFlow: the legacy bilinear resize, the 1x1 convolution, the average, and the softmax
 * of {@code pool_3 · W} without the bias, as the reference Inception Score code computes it.
 */
public final class TinyInceptionGraph {
  /** The side the graph resizes to (299 in the real graph). */
  public static final int SIZE = 5;
  /** The pool_3 width (2048 in the real graph). */
  public static final int DIM = 8;
  /** The number of classes (1008 in the real graph). */
  public static final int CLASSES = 6;
  /** The seed of the default weights. */
  public static final long SEED = 20151205L;

  private TinyInceptionGraph() {}

  /**
   * The weights of a tiny graph.
   *
   * @param conv the 1x1 convolution, [3][dim] row-major
   * @param w the logits weight, [dim][classes] row-major
   * @param bias the logits bias (which the reference softmax leaves out)
   */
  public record Weights(int size, int dim, int classes, float[] conv, float[] w, float[] bias) {}

  /** Deterministic weights from {@code seed}. */
  public static Weights weights(int size, int dim, int classes, long seed) {
    Random r = new Random(seed);
    float[] conv = new float[3 * dim];
    for (int i = 0; i < conv.length; i++) {
      conv[i] = (float) (r.nextGaussian() * 0.8 + 0.3);
    }
    float[] w = new float[dim * classes];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * 1.5);
    }
    float[] b = new float[classes];
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (r.nextGaussian() * 2.0);
    }
    return new Weights(size, dim, classes, conv, w, b);
  }

  /** The default weights. */
  public static Weights weights() {
    return weights(SIZE, DIM, CLASSES, SEED);
  }

  /** The serialised GraphDef with the default weights. */
  public static byte[] graphDef() {
    return graphDef(weights(), true);
  }

  /** The serialised GraphDef; without {@code pool_3} the pooling op is named {@code avg_pool} instead. */
  public static byte[] graphDef(Weights wt, boolean withPool3) {
    String pool = withPool3 ? "pool_3" : "avg_pool";
    GraphDef.Builder g = GraphDef.newBuilder();
    g.addNode(node("Cast", "Placeholder").putAttr("dtype", type(DataType.DT_FLOAT))
        .putAttr("shape", shape(-1, -1, 3)));
    g.addNode(constInt("ExpandDims/dim", new long[0], 0));
    g.addNode(node("ExpandDims", "ExpandDims", "Cast", "ExpandDims/dim").putAttr("T", type(DataType.DT_FLOAT))
        .putAttr("Tdim", type(DataType.DT_INT32)));
    g.addNode(constInt("ResizeBilinear/size", new long[] {2}, wt.size(), wt.size()));
    g.addNode(node("ResizeBilinear", "ResizeBilinear", "ExpandDims", "ResizeBilinear/size")
        .putAttr("T", type(DataType.DT_FLOAT)).putAttr("align_corners", AttrValue.newBuilder().setB(false).build()));
    g.addNode(constFloat("Sub/y", new long[0], 128f));
    g.addNode(node("Sub", "Sub", "ResizeBilinear", "Sub/y").putAttr("T", type(DataType.DT_FLOAT)));
    g.addNode(constFloat("Mul/y", new long[0], 1f / 128f));
    g.addNode(node("Mul", "Mul", "Sub", "Mul/y").putAttr("T", type(DataType.DT_FLOAT)));
    g.addNode(constFloat("conv/conv2d_params", new long[] {1, 1, 3, wt.dim()}, wt.conv()));
    g.addNode(node("conv/Conv2D", "Conv2D", "Mul", "conv/conv2d_params").putAttr("T", type(DataType.DT_FLOAT))
        .putAttr("strides", ints(1, 1, 1, 1)).putAttr("padding", str("VALID"))
        .putAttr("data_format", str("NHWC")));
    g.addNode(node("conv", "Relu", "conv/Conv2D").putAttr("T", type(DataType.DT_FLOAT)));
    g.addNode(node(pool, "AvgPool", "conv").putAttr("T", type(DataType.DT_FLOAT))
        .putAttr("ksize", ints(1, wt.size(), wt.size(), 1)).putAttr("strides", ints(1, 1, 1, 1))
        .putAttr("padding", str("VALID")).putAttr("data_format", str("NHWC")));
    g.addNode(constInt(pool + "/_reshape/shape", new long[] {2}, 1, wt.dim()));
    g.addNode(node(pool + "/_reshape", "Reshape", pool, pool + "/_reshape/shape")
        .putAttr("T", type(DataType.DT_FLOAT)).putAttr("Tshape", type(DataType.DT_INT32)));
    g.addNode(constFloat("softmax/weights", new long[] {wt.dim(), wt.classes()}, wt.w()));
    g.addNode(constFloat("softmax/biases", new long[] {wt.classes()}, wt.bias()));
    g.addNode(node("softmax/logits/MatMul", "MatMul", pool + "/_reshape", "softmax/weights")
        .putAttr("T", type(DataType.DT_FLOAT)).putAttr("transpose_a", AttrValue.newBuilder().setB(false).build())
        .putAttr("transpose_b", AttrValue.newBuilder().setB(false).build()));
    g.addNode(node("softmax/logits", "BiasAdd", "softmax/logits/MatMul", "softmax/biases")
        .putAttr("T", type(DataType.DT_FLOAT)).putAttr("data_format", str("NHWC")));
    g.addNode(node("softmax", "Softmax", "softmax/logits").putAttr("T", type(DataType.DT_FLOAT)));
    return g.build().toByteArray();
  }

  /** Writes the default graph as {@code dir/classify_image_graph_def.pb}. */
  public static Path write(Path dir) throws IOException {
    return write(dir, graphDef());
  }

  /** Writes {@code graphDef} as {@code dir/classify_image_graph_def.pb}. */
  public static Path write(Path dir, byte[] graphDef) throws IOException {
    Files.createDirectories(dir);
    Path p = dir.resolve(InceptionNetwork.GRAPH_FILE);
    Files.write(p, graphDef);
    return p;
  }

  /**
   * The graph's outputs in plain Java for {@code n} RGB images {@code [n, h, w, 3]} with values 0..255: element 0 the
   * pool_3 features {@code [n, dim]}, element 1 the probabilities {@code [n, classes]} of
   * {@code softmax(pool_3 · W + (withBias ? b : 0))}.
   */
  public static double[][] reference(Weights wt, float[] images255, int n, int h, int w, boolean withBias) {
    int s = wt.size();
    int d = wt.dim();
    int k = wt.classes();
    double[] pool = new double[n * d];
    double[] probs = new double[n * k];
    double scaleY = (double) h / s;
    double scaleX = (double) w / s;
    for (int img = 0; img < n; img++) {
      int base = img * h * w * 3;
      double[] sum = new double[d];
      for (int y = 0; y < s; y++) {
        // TensorFlow's legacy ResizeBilinear (align_corners=false, half_pixel_centers=false): in = out * scale
        double iny = y * scaleY;
        int y0 = (int) Math.floor(iny);
        int y1 = Math.min(y0 + 1, h - 1);
        double dy = iny - y0;
        for (int x = 0; x < s; x++) {
          double inx = x * scaleX;
          int x0 = (int) Math.floor(inx);
          int x1 = Math.min(x0 + 1, w - 1);
          double dx = inx - x0;
          double[] v = new double[3];
          for (int c = 0; c < 3; c++) {
            double tl = images255[base + (y0 * w + x0) * 3 + c];
            double tr = images255[base + (y0 * w + x1) * 3 + c];
            double bl = images255[base + (y1 * w + x0) * 3 + c];
            double br = images255[base + (y1 * w + x1) * 3 + c];
            double top = tl + (tr - tl) * dx;
            double bottom = bl + (br - bl) * dx;
            v[c] = ((top + (bottom - top) * dy) - 128.0) * (1.0 / 128.0);
          }
          for (int j = 0; j < d; j++) {
            double a = 0;
            for (int c = 0; c < 3; c++) {
              a += v[c] * wt.conv()[c * d + j];
            }
            sum[j] += Math.max(0, a);
          }
        }
      }
      for (int j = 0; j < d; j++) {
        pool[img * d + j] = sum[j] / (s * s);
      }
      double[] logits = new double[k];
      double max = Double.NEGATIVE_INFINITY;
      for (int m = 0; m < k; m++) {
        double a = withBias ? wt.bias()[m] : 0;
        for (int j = 0; j < d; j++) {
          a += pool[img * d + j] * wt.w()[j * k + m];
        }
        logits[m] = a;
        max = Math.max(max, a);
      }
      double z = 0;
      for (int m = 0; m < k; m++) {
        z += Math.exp(logits[m] - max);
      }
      for (int m = 0; m < k; m++) {
        probs[img * k + m] = Math.exp(logits[m] - max) / z;
      }
    }
    return new double[][] {pool, probs};
  }

  // ------------------------------------------------------------------------------------------------ protos

  private static NodeDef.Builder node(String name, String op, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op);
    for (String in : inputs) {
      b.addInput(in);
    }
    return b;
  }

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private static AttrValue str(String s) {
    return AttrValue.newBuilder().setS(ByteString.copyFromUtf8(s)).build();
  }

  private static AttrValue ints(long... values) {
    AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
    for (long v : values) {
      l.addI(v);
    }
    return AttrValue.newBuilder().setList(l).build();
  }

  private static AttrValue shape(long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return AttrValue.newBuilder().setShape(s).build();
  }

  private static TensorShapeProto shapeProto(long[] dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return s.build();
  }

  private static NodeDef.Builder constFloat(String name, long[] dims, float... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    TensorProto t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shapeProto(dims))
        .setTensorContent(ByteString.copyFrom(buf.array())).build();
    return node(name, "Const").putAttr("dtype", type(DataType.DT_FLOAT))
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build());
  }

  private static NodeDef.Builder constInt(String name, long[] dims, int... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32).setTensorShape(shapeProto(dims));
    for (int v : values) {
      t.addIntVal(v);
    }
    return node(name, "Const").putAttr("dtype", type(DataType.DT_INT32))
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build());
  }
}
