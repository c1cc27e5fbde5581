package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The noise levels sigma_1 > ... > sigma_L of a noise-conditional score network (Song & Ermon 2019), a geometric
 * sequence, and the denoising score matching objective across them.
 */
public final class NoiseLevels {
  private final double[] sigmas;

  public NoiseLevels(double[] sigmas) {
    if (sigmas.length < 1) {
      throw new IllegalArgumentException("noise.numScales must be at least 1");
    }
    for (int i = 0; i < sigmas.length; i++) {
      if (!(sigmas[i] > 0) || (i > 0 && sigmas[i] > sigmas[i - 1])) {
        throw new IllegalArgumentException("noise levels must be positive and decreasing, got sigma_" + (i + 1) + " = "
            + sigmas[i]);
      }
    }
    this.sigmas = sigmas.clone();
  }

  /** sigma_i = sigmaBegin (sigmaEnd / sigmaBegin)^((i - 1) / (L - 1)), i = 1..L ({@code numpy.geomspace}). */
  public static NoiseLevels geometric(double sigmaBegin, double sigmaEnd, int numScales) {
    if (!(sigmaBegin >= sigmaEnd && sigmaEnd > 0) || numScales < 1) {
      throw new IllegalArgumentException("noise: need sigmaBegin >= sigmaEnd > 0 and numScales >= 1, got "
          + sigmaBegin + ", " + sigmaEnd + ", " + numScales);
    }
    double[] s = new double[numScales];
    for (int i = 0; i < numScales; i++) {
      s[i] = numScales == 1 ? sigmaBegin
          : Math.exp(Math.log(sigmaBegin) + i * (Math.log(sigmaEnd) - Math.log(sigmaBegin)) / (numScales - 1));
    }
    s[0] = sigmaBegin;
    s[numScales - 1] = sigmaEnd;
    return new NoiseLevels(s);
  }

  public double[] sigmas() {
    return sigmas.clone();
  }

  public int size() {
    return sigmas.length;
  }

  public double sigma(int i) {
    return sigmas[i];
  }

  public double last() {
    return sigmas[sigmas.length - 1];
  }

  /** sigma[index] as [N, 1, ..., 1] for a rank-{@code rank} batch. */
  public Operand<TFloating> gather(Ops tf, Class<TFloating> dt, Operand<TInt32> index, int rank) {
    Operand<TFloating> table = Tensors.constant(tf, dt, sigmas, Shape.of(sigmas.length));
    long[] shape = new long[rank];
    java.util.Arrays.fill(shape, 1);
    shape[0] = -1;
    return tf.reshape(tf.gather(table, index, tf.constant(0)), tf.constant(shape));
  }

  /**
   * Denoising score matching (Vincent 2011) across the levels, weighted by lambda(sigma) = sigma^2 (Song & Ermon 2019,
   * eq. 6), per example: with x~ = x + sigma z, l = 1/2 sigma^2 ||s(x~, sigma) + (x~ - x) / sigma^2||^2
   * = 1/2 ||sigma s(x~, sigma) + z||^2, summed over dimensions.
   *
   * @param x clean data [N, ...]
   * @param index the level of each example [N]
   * @param z standard normal noise shaped like x
   */
  public Operand<TFloating> dsmLoss(Ops tf, ScoreFunction score, Operand<TFloating> x, Operand<TInt32> index,
      Operand<TFloating> z) {
    int rank = x.shape().numDimensions();
    Operand<TFloating> sigma = gather(tf, x.type(), index, rank);
    Operand<TFloating> perturbed = tf.math.add(x, tf.math.mul(sigma, z));
    Operand<TFloating> s = score.apply(tf, perturbed, index);
    Operand<TFloating> r = tf.math.add(tf.math.mul(sigma, s), z);
    return tf.math.mul(Tensors.constant(tf, x.type(), 0.5), Tensors.sumPerExample(tf, tf.math.square(r), rank));
  }
}
