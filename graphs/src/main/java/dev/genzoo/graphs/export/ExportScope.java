package dev.genzoo.graphs.export;

import dev.genzoo.graphs.Exportable.ExportedSignature;
import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The shared inputs of one export, as placeholders in a model's graph under a fresh {@code export} name scope: the
 * {@code seed} (int64 scalar) and the sample count {@code n} (int32 scalar; a constant when the export fixes the
 * batch), and the signature builders that give every family the same input and output names
 * (see {@link dev.genzoo.graphs.Exportable}).
 */
public final class ExportScope {
  /** The method name TF Serving's Predict API expects. */
  public static final String PREDICT = "tensorflow/serving/predict";

  private final Ops tf;
  private final int batch;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt32> nInput;
  private final Operand<TInt32> n;

  /**
   * @param modelOps the model graph's root ops
   * @param batch the fixed sample count, or 0 for an {@code n} input
   */
  public ExportScope(Ops modelOps, int batch) {
    if (batch < 0) {
      throw new IllegalArgumentException("--batch must be positive (or 0 for an n input), got " + batch);
    }
    this.tf = modelOps.withSubScope("export");
    this.batch = batch;
    this.seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    if (batch > 0) {
      this.nInput = null;
      this.n = tf.constant(batch);
    } else {
      this.nInput = tf.withName("n").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      this.n = nInput;
    }
  }

  /** Ops under this export's scope. */
  public Ops tf() {
    return tf;
  }

  /** The {@code seed} input: genzoo's sampling seed. */
  public Placeholder<TInt64> seed() {
    return seed;
  }

  /** The number of samples: the {@code n} input, or the fixed batch. */
  public Operand<TInt32> n() {
    return n;
  }

  /** The fixed batch, or 0. */
  public int batch() {
    return batch;
  }

  /** The seed of genzoo's first sampling chunk, {@code Seeds.mix(seed, 0)}, which every one-chunk sample uses. */
  public Operand<TInt64> chunkSeed() {
    return GraphSeeds.mix(tf, seed, 0);
  }

  /**
   * The {@code sample} signature: inputs {@code seed} (and {@code n}), output {@code x} (float32, shape
   * [n, example...]).
   */
  public ExportedSignature sample(Operand<TFloat32> x, long[] exampleShape, String description) {
    Operand<TFloat32> shaped = tf.withName("x").ensureShape(x, Shape.of(Tensors.batchShape(batch > 0 ? batch : -1,
        exampleShape)));
    Signature.Builder b = Signature.builder().key("sample").methodName(PREDICT).input("seed", seed);
    if (nInput != null) {
      b.input("n", nInput);
    }
    return new ExportedSignature(b.output("x", shaped).build(), description);
  }

  /** A float32 input {@code label} of shape [N, example...], for the per-example signatures. */
  public Placeholder<TFloat32> examples(String label, long[] exampleShape) {
    return tf.withName(label).placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(Tensors.batchShape(-1, exampleShape))));
  }

  /** A per-example signature {@code key}: input {@code inputName}, output {@code outputName} of shape [N]. */
  public ExportedSignature perExample(String key, String inputName, Operand<?> input, String outputName,
      Operand<TFloat32> output, String description) {
    Operand<TFloat32> shaped = tf.withName(outputName).ensureShape(output, Shape.of(-1));
    Signature s = Signature.builder().key(key).methodName(PREDICT).input(inputName, input).output(outputName, shaped)
        .build();
    return new ExportedSignature(s, description);
  }
}
