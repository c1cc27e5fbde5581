package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Score matching of an energy-based model: fit the model's score s_theta(x) = grad_x log p_theta(x) = -grad_x U(x),
 * which does not involve the normalising constant, to the data's score.
 *
 * <p><b>Exact score matching</b> (Hyvarinen 2005). The Fisher divergence 1/2 E_data |s_theta - grad log p_data|^2
 * equals, up to a constant independent of theta, after an integration by parts,
 * <pre>
 *   J(theta) = E_data [ 1/2 |s_theta(x)|^2 + tr grad_x s_theta(x) ] = E_data [ 1/2 |grad U(x)|^2 - Laplacian U(x) ].
 * </pre>
 * The Laplacian takes one backward pass per coordinate (d passes for x in R^d), so this is for low dimensions, and
 * the parameter gradient of a Laplacian is a third derivative: the energy's ops must be three times differentiable in
 * TensorFlow, which {@link SecondOrderGradients#install()} (called here) provides for log, softplus, sigmoid, tanh and
 * the other ops it lists.
 *
 * <p><b>Denoising score matching</b> (Vincent 2011). With x~ = x + sigma z, z ~ N(0, I), the score of the noise
 * kernel is grad_x~ log N(x~; x, sigma^2 I) = -(x~ - x) / sigma^2 = -z / sigma, and
 * <pre>
 *   J_DSM(theta) = E [ 1/2 |s_theta(x~) - (-z / sigma)|^2 ] = E [ 1/2 |-grad U(x~) + z / sigma|^2 ]
 * </pre>
 * is minimised by the score of the noisy data distribution p_data * N(0, sigma^2 I) (not of p_data itself). The
 * weighted form multiplies by sigma^2, 1/2 |sigma s_theta(x~) + z|^2 (Song and Ermon 2019's lambda(sigma) = sigma^2).
 * No Laplacian is needed, but the parameter gradient of grad_x U is still a second derivative.
 */
public final class ScoreMatching {
  private ScoreMatching() {}

  /**
   * Hyvarinen's objective J = mean_n [ 1/2 |grad U(x_n)|^2 - Laplacian U(x_n) ] for {@code x} [N, ...] with a static
   * example shape of D elements (D backward passes for the Laplacian).
   */
  public static Operand<TFloating> exact(Ops tf, Energy energy, Operand<TFloating> x) {
    SecondOrderGradients.install();
    Class<TFloating> dt = x.type();
    long[] example = exampleShape(x.shape());
    int d = Math.toIntExact(Shape.of(example).size());
    Operand<TFloating> grad = energy.gradient(tf, x);
    Operand<TFloating> laplacian = null;
    for (int i = 0; i < d; i++) {
      Operand<TFloating> e = basis(tf, dt, example, i);
      Operand<TFloating> gi = perExampleSum(tf, tf.math.mul(grad, e)); // dU/dx_i, [N]
      Operand<TFloating> hii = perExampleSum(tf, tf.math.mul(Energy.gradientOf(tf, gi, x), e)); // d2U/dx_i2, [N]
      laplacian = laplacian == null ? hii : tf.math.add(laplacian, hii);
    }
    Operand<TFloating> half = Tensors.constant(tf, dt, 0.5);
    Operand<TFloating> perExample = tf.math.sub(tf.math.mul(half, perExampleSum(tf, tf.math.square(grad))), laplacian);
    return Tensors.mean(tf, perExample, 0);
  }

  /**
   * Vincent's denoising objective with given noise {@code z} (shape of {@code x}): mean_n 1/2 |-grad U(x_n + sigma
   * z_n) + z_n / sigma|^2, times sigma^2 when {@code weighted}.
   */
  public static Operand<TFloating> denoising(Ops tf, Energy energy, Operand<TFloating> x, Operand<TFloating> z,
      double sigma, boolean weighted) {
    if (!(sigma > 0) || !Double.isFinite(sigma)) {
      throw new IllegalArgumentException("denoising score matching needs a positive noise level, got " + sigma);
    }
    SecondOrderGradients.install();
    Class<TFloating> dt = x.type();
    Operand<TFloating> noise = tf.stopGradient(z);
    Operand<TFloating> noisy = tf.math.add(tf.stopGradient(x), tf.math.mul(Tensors.constant(tf, dt, sigma), noise));
    Operand<TFloating> score = tf.math.neg(energy.gradient(tf, noisy));
    Operand<TFloating> target = tf.math.neg(tf.math.div(noise, Tensors.constant(tf, dt, sigma)));
    Operand<TFloating> perExample = tf.math.mul(Tensors.constant(tf, dt, weighted ? 0.5 * sigma * sigma : 0.5),
        perExampleSum(tf, tf.math.square(tf.math.sub(score, target))));
    return Tensors.mean(tf, perExample, 0);
  }

  /** {@link #denoising(Ops, Energy, Operand, Operand, double, boolean)} with z ~ N(0, I) drawn with {@code seed}. */
  public static Operand<TFloating> denoising(Ops tf, Energy energy, Operand<TFloating> x, double sigma,
      Operand<TInt64> seed, boolean weighted) {
    Operand<TFloating> z = tf.random.statelessRandomNormal(tf.shape(x), seed, x.type());
    return denoising(tf, energy, x, z, sigma, weighted);
  }

  private static long[] exampleShape(Shape s) {
    if (s.isUnknown() || s.numDimensions() < 2) {
      throw new IllegalArgumentException("exact score matching needs x of static rank >= 2 ([N, ...]), got " + s);
    }
    long[] e = new long[s.numDimensions() - 1];
    for (int i = 0; i < e.length; i++) {
      e[i] = s.get(i + 1);
      if (e[i] < 1) {
        throw new IllegalArgumentException("exact score matching needs a static example shape, got " + s);
      }
    }
    return e;
  }

  /** The unit vector e_i of the example shape, as a [1, ...] constant. */
  private static Operand<TFloating> basis(Ops tf, Class<TFloating> dt, long[] example, int i) {
    double[] v = new double[(int) Shape.of(example).size()];
    v[i] = 1;
    return Tensors.constant(tf, dt, v, Shape.of(Tensors.batchShape(1, example)));
  }

  /** The sum over every axis but the first of an [N, ...] tensor: [N]. */
  private static Operand<TFloating> perExampleSum(Ops tf, Operand<TFloating> v) {
    return tf.reduceSum(v, tf.range(tf.constant(1), tf.rank(v), tf.constant(1)));
  }
}
