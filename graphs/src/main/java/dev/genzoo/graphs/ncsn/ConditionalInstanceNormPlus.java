package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.VarScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Conditional InstanceNorm++ (Song &amp; Ermon 2019, "Generative Modeling by Estimating Gradients of the Data
 * Distribution", appendix A.1): {@link InstanceNormPlus} whose gamma, alpha and beta depend on a class, in NCSN the
 * index i of the noise level sigma_i. They are rows of one embedding [numClasses, 3C] laid out as upstream's
 * {@code ConditionalInstanceNorm2dPlus.embed.weight}: columns [0, C) gamma, [C, 2C) alpha, [2C, 3C) beta; gamma and
 * alpha initialised N(1, 0.02^2), beta 0. Variable: {@code embedding}.
 */
public final class ConditionalInstanceNormPlus {
  private final Output<TFloating> embedding;
  private final long channels;
  private final long numClasses;

  public ConditionalInstanceNormPlus(VarScope scope, long channels, long numClasses) {
    InstanceNormPlus.checkChannels(channels);
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be at least 1, got " + numClasses);
    }
    this.channels = channels;
    this.numClasses = numClasses;
    Initializer scaleAndMix = InstanceNormPlus.normalAroundOne();
    this.embedding = scope.variable("embedding", new long[] {numClasses, 3 * channels}, c -> {
      Operand<TFloating> gammaAlpha = scaleAndMix.create(
          new Initializer.Context(c.tf(), c.dtype(), Shape.of(numClasses, 2 * channels), c.seed()));
      Operand<TFloating> beta = Initializer.zeros().create(
          new Initializer.Context(c.tf(), c.dtype(), Shape.of(numClasses, channels), c.seed()));
      return c.tf().concat(List.of(gammaAlpha, beta), c.tf().constant(1));
    });
  }

  /** x: [N, H, W, C]; classIndex: [N], each in [0, numClasses). */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> classIndex) {
    Operand<TFloating> rows = tf.gather(embedding, classIndex, tf.constant(0)); // [N, 3C]
    Operand<TFloating> perExample = tf.reshape(rows, tf.constant(new long[] {-1, 1, 1, 3 * channels}));
    List<Output<TFloating>> parts = tf.split(tf.constant(3), perExample, 3L).output();
    Operand<TFloating> gamma = parts.get(0);
    Operand<TFloating> alpha = parts.get(1);
    Operand<TFloating> beta = parts.get(2);
    return tf.math.add(tf.math.mul(gamma, InstanceNormPlus.normalize(tf, x, channels, alpha)), beta);
  }

  public long numClasses() {
    return numClasses;
  }
}
