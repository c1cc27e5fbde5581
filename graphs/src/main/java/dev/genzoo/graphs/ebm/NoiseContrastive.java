package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Noise-contrastive estimation (Gutmann and Hyvarinen 2010, 2012): learn an unnormalised model exp(-U_theta(x)) by
 * logistic regression between data x ~ p_data and noise y ~ q, a distribution whose log-density is known, with the
 * classifier's logit
 * <pre>
 *   G(x) = -U_theta(x) - log q(x) - log nu,    D(x) = sigmoid(G(x)) = exp(-U) / (exp(-U) + nu q),
 * </pre>
 * nu = (number of noise samples) / (number of data samples). The loss is the classifier's negative log-likelihood per
 * data sample,
 * <pre>
 *   J = -(1 / T_d) [ sum_data log D(x) + sum_noise log(1 - D(y)) ]
 *     = (1 / T_d) [ sum_data softplus(-G(x)) + sum_noise softplus(G(y)) ],
 * </pre>
 * whose minimiser over an unrestricted function gives exp(-U) = p_data: the model learns its own normalisation.
 * A model exp(-U_theta - c) with a trainable log-normaliser c therefore recovers c = log Z (Gutmann and Hyvarinen
 * 2010).
 *
 * <p>The lecture notes' discriminator D = exp(-U_theta) / (exp(-U_theta) + exp(-U_mu)) uses the noise's
 * <i>unnormalised</i> density exp(-U_mu) = Z_mu q: that is this loss with log q replaced by log q + log Z_mu, which
 * {@link Noise#scaled} expresses.
 */
public final class NoiseContrastive {
  private NoiseContrastive() {}

  /** A noise distribution: exact samples and the log-density, as graph ops. */
  public interface Noise {
    /** {@code n} independent samples [n, ...] drawn with {@code seed} ([2] int64). */
    Operand<TFloating> sample(Ops tf, long n, Operand<TInt64> seed, Class<TFloating> dt);

    /** log q(x) for x [N, ...]: [N]. */
    Operand<TFloating> logDensity(Ops tf, Operand<TFloating> x);

    /**
     * The same samples with the "density" K q, i.e. log q + {@code logK}: the unnormalised noise density of the
     * lecture notes' NCE (K = Z_mu), or the noise-to-data ratio folded into the density.
     */
    default Noise scaled(double logK) {
      Noise self = this;
      return new Noise() {
        @Override
        public Operand<TFloating> sample(Ops tf, long n, Operand<TInt64> seed, Class<TFloating> dt) {
          return self.sample(tf, n, seed, dt);
        }

        @Override
        public Operand<TFloating> logDensity(Ops tf, Operand<TFloating> x) {
          return tf.math.add(self.logDensity(tf, x), Tensors.constant(tf, x.type(), logK));
        }
      };
    }
  }

  /**
   * A diagonal Gaussian N(mean, diag(std^2)) on R^d; samples have shape [n, d].
   *
   * @param mean the mean, length d
   * @param std the standard deviations, length d, positive
   */
  public record Gaussian(double[] mean, double[] std) implements Noise {
    public Gaussian {
      if (mean.length == 0 || mean.length != std.length) {
        throw new IllegalArgumentException("Gaussian noise: mean and std must have the same positive length");
      }
      for (double s : std) {
        if (!(s > 0) || !Double.isFinite(s)) {
          throw new IllegalArgumentException("Gaussian noise: standard deviations must be positive, got " + s);
        }
      }
      mean = mean.clone();
      std = std.clone();
    }

    /** N(mean, std^2 I) in d dimensions. */
    public static Gaussian isotropic(int d, double mean, double std) {
      double[] m = new double[d];
      double[] s = new double[d];
      java.util.Arrays.fill(m, mean);
      java.util.Arrays.fill(s, std);
      return new Gaussian(m, s);
    }

    @Override
    public Operand<TFloating> sample(Ops tf, long n, Operand<TInt64> seed, Class<TFloating> dt) {
      int d = mean.length;
      Operand<TFloating> z = tf.random.statelessRandomNormal(tf.constant(new long[] {n, d}), seed, dt);
      return tf.math.add(Tensors.constant(tf, dt, mean, Shape.of(1, d)),
          tf.math.mul(z, Tensors.constant(tf, dt, std, Shape.of(1, d))));
    }

    @Override
    public Operand<TFloating> logDensity(Ops tf, Operand<TFloating> x) {
      Class<TFloating> dt = x.type();
      int d = mean.length;
      double[] logStd = new double[d];
      for (int i = 0; i < d; i++) {
        logStd[i] = Math.log(std[i]);
      }
      Operand<TFloating> each = Tensors.gaussianLogDensity(tf, dt, x, Tensors.constant(tf, dt, mean, Shape.of(1, d)),
          Tensors.constant(tf, dt, logStd, Shape.of(1, d)));
      return Tensors.sum(tf, each, 1);
    }
  }

  /**
   * A one-dimensional Gaussian mixture sum_k w_k N(m_k, s_k^2); samples have shape [n, 1]. The component of each
   * sample is drawn with seed + [1, 0] and its Gaussian with seed + [2, 0].
   *
   * @param weights the mixture weights, positive (normalised here)
   * @param means the component means
   * @param stds the component standard deviations, positive
   */
  public record GaussianMixture1d(double[] weights, double[] means, double[] stds) implements Noise {
    public GaussianMixture1d {
      if (weights.length == 0 || weights.length != means.length || weights.length != stds.length) {
        throw new IllegalArgumentException("mixture noise: weights, means and stds must have the same positive length");
      }
      double total = 0;
      for (int k = 0; k < weights.length; k++) {
        if (!(weights[k] > 0) || !(stds[k] > 0) || !Double.isFinite(weights[k]) || !Double.isFinite(stds[k])
            || !Double.isFinite(means[k])) {
          throw new IllegalArgumentException("mixture noise: weights and stds must be positive and finite");
        }
        total += weights[k];
      }
      double[] w = new double[weights.length];
      for (int k = 0; k < w.length; k++) {
        w[k] = weights[k] / total;
      }
      weights = w;
      means = means.clone();
      stds = stds.clone();
    }

    /** The two-component mixture (1 - p) N(a, 1) + p N(b, 1). */
    public static GaussianMixture1d twoModes(double a, double b, double p) {
      if (!(p > 0 && p < 1)) {
        throw new IllegalArgumentException("mixture noise: the weight of the second mode must lie in (0, 1), got " + p);
      }
      return new GaussianMixture1d(new double[] {1 - p, p}, new double[] {a, b}, new double[] {1, 1});
    }

    @Override
    public Operand<TFloating> sample(Ops tf, long n, Operand<TInt64> seed, Class<TFloating> dt) {
      int k = weights.length;
      double[] upper = new double[k - 1];
      double c = 0;
      for (int i = 0; i < k - 1; i++) {
        c += weights[i];
        upper[i] = c;
      }
      Operand<TFloating> u = tf.random.statelessRandomUniform(tf.constant(new long[] {n, 1}),
          tf.math.add(seed, tf.constant(new long[] {1, 0})), dt);
      Operand<TFloating> z = tf.random.statelessRandomNormal(tf.constant(new long[] {n, 1}),
          tf.math.add(seed, tf.constant(new long[] {2, 0})), dt);
      // one-hot of the component: u in [F_{k-1}, F_k); F_0 = 0, F_K = 1
      Operand<TFloating> onehot;
      if (k == 1) {
        onehot = tf.onesLike(u);
      } else {
        // cdf indicators [n, k + 1]: 1, 1[u >= F_1], ..., 1[u >= F_{k-1}], 0; component i = ind_i - ind_{i+1}
        Operand<TFloating> above = tf.dtypes.cast(tf.math.greaterEqual(u,
            Tensors.constant(tf, dt, upper, Shape.of(1, k - 1))), dt);
        Operand<TFloating> ind = tf.concat(java.util.List.of(tf.onesLike(u), above, tf.zerosLike(u)), tf.constant(1));
        onehot = tf.math.sub(
            tf.slice(ind, tf.constant(new int[] {0, 0}), tf.constant(new int[] {-1, k})),
            tf.slice(ind, tf.constant(new int[] {0, 1}), tf.constant(new int[] {-1, k})));
      }
      Operand<TFloating> m = Tensors.sumKeep(tf, tf.math.mul(onehot, Tensors.constant(tf, dt, means, Shape.of(1, k))), 1);
      Operand<TFloating> s = Tensors.sumKeep(tf, tf.math.mul(onehot, Tensors.constant(tf, dt, stds, Shape.of(1, k))), 1);
      return tf.math.add(m, tf.math.mul(s, z));
    }

    @Override
    public Operand<TFloating> logDensity(Ops tf, Operand<TFloating> x) {
      Class<TFloating> dt = x.type();
      int k = weights.length;
      double[] logC = new double[k];
      double[] halfPrecision = new double[k];
      for (int i = 0; i < k; i++) {
        logC[i] = Math.log(weights[i]) - 0.5 * Math.log(2 * Math.PI * stds[i] * stds[i]);
        halfPrecision[i] = 1 / (2 * stds[i] * stds[i]);
      }
      // x [N, 1] - means [1, K] -> [N, K]
      Operand<TFloating> sq = tf.math.square(tf.math.sub(x, Tensors.constant(tf, dt, means, Shape.of(1, k))));
      Operand<TFloating> logits = tf.math.sub(Tensors.constant(tf, dt, logC, Shape.of(1, k)),
          tf.math.mul(sq, Tensors.constant(tf, dt, halfPrecision, Shape.of(1, k))));
      return Tensors.logSumExp(tf, logits, 1);
    }

    /** The mixture's density at {@code x}, on the host. */
    public double density(double x) {
      double p = 0;
      for (int i = 0; i < weights.length; i++) {
        double z = (x - means[i]) / stds[i];
        p += weights[i] * Math.exp(-0.5 * z * z) / (stds[i] * Math.sqrt(2 * Math.PI));
      }
      return p;
    }
  }

  /**
   * The parts of one NCE loss.
   *
   * @param loss J, the scalar to minimise
   * @param dataLogit the logits G on the data [N]
   * @param noiseLogit the logits G on the noise samples [M]
   * @param accuracy the fraction of data and noise samples the classifier labels correctly (G &gt; 0 for data)
   */
  public record Loss(Operand<TFloating> loss, Operand<TFloating> dataLogit, Operand<TFloating> noiseLogit,
      Operand<TFloating> accuracy) {}

  /**
   * The NCE loss of {@code energy} on {@code data} [N, ...] against {@code noiseSamples} [M, ...] drawn from
   * {@code noise}; nu = M / N, read from the batch shapes at run time.
   */
  public static Loss loss(Ops tf, Energy energy, Noise noise, Operand<TFloating> data, Operand<TFloating> noiseSamples) {
    Class<TFloating> dt = data.type();
    Operand<TFloating> y = tf.stopGradient(noiseSamples);
    Operand<TFloating> nData = tf.dtypes.cast(tf.shape(data, TInt64.class).asOutput(), dt);
    Operand<TFloating> nNoise = tf.dtypes.cast(tf.shape(y, TInt64.class).asOutput(), dt);
    Operand<TFloating> tD = tf.gather(nData, tf.constant(0), tf.constant(0));
    Operand<TFloating> tN = tf.gather(nNoise, tf.constant(0), tf.constant(0));
    Operand<TFloating> logNu = tf.math.log(tf.math.div(tN, tD));
    Operand<TFloating> gData = tf.math.sub(tf.math.neg(tf.math.add(energy.apply(tf, data), noise.logDensity(tf, data))),
        logNu);
    Operand<TFloating> gNoise = tf.math.sub(tf.math.neg(tf.math.add(energy.apply(tf, y), noise.logDensity(tf, y))),
        logNu);
    Operand<TFloating> total = tf.math.add(
        Tensors.sum(tf, tf.math.softplus(tf.math.neg(gData)), 0),
        Tensors.sum(tf, tf.math.softplus(gNoise), 0));
    Operand<TFloating> loss = tf.math.div(total, tD);
    Operand<TFloating> zero = Tensors.constant(tf, dt, 0.0);
    Operand<TFloating> correct = tf.math.add(
        Tensors.sum(tf, tf.dtypes.cast(tf.math.greater(gData, zero), dt), 0),
        Tensors.sum(tf, tf.dtypes.cast(tf.math.lessEqual(gNoise, zero), dt), 0));
    Operand<TFloating> accuracy = tf.math.div(correct, tf.math.add(tD, tN));
    return new Loss(loss, gData, gNoise, accuracy);
  }

  /** The loss with {@code m} noise samples drawn from {@code noise} in the graph with {@code seed}. */
  public static Loss loss(Ops tf, Energy energy, Noise noise, Operand<TFloating> data, long m, Operand<TInt64> seed) {
    return loss(tf, energy, noise, data, noise.sample(tf, m, seed, data.type()));
  }
}
