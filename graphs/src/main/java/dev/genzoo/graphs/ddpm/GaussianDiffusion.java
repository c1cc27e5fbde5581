package dev.genzoo.graphs.ddpm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The Gaussian diffusion process of Ho et al. 2020 ("Denoising Diffusion Probabilistic Models"), apart from any
 * network: the forward process q(x_t | x_0) = N(sqrt(alphaBar_t) x_0, (1 - alphaBar_t) I), its posterior
 * q(x_{t-1} | x_t, x_0) = N(posteriorMeanCoef1_t x_0 + posteriorMeanCoef2_t x_t, posteriorVariance_t I), the
 * reverse step of an epsilon-predicting model, the L_simple objective (eq. 14) and the terms of the variational bound
 * (eq. 5) with either a continuous Gaussian decoder (points) or the discretised Gaussian decoder of section 3.3
 * (8-bit images scaled to [-1, 1]).
 *
 * <p>The schedule's arrays are computed once on the host in double precision and enter graphs as constants; index t
 * runs 0..T-1 and stands for the paper's t + 1. The graph builders take the network's prediction (or a function of
 * x_t and t) as a parameter, so that the same process serves the U-Net, an MLP, or an analytic predictor in tests.
 */
public final class GaussianDiffusion {
  /** How the bound scores x_0 given x_1. */
  public enum Decoder {
    /** A continuous Gaussian N(mu_theta(x_1, 1), sigma_1^2): log-density of points. */
    GAUSSIAN,
    /** Ho et al.'s discretised Gaussian over the 256 bins of [-1, 1]: log-probability of an 8-bit image. */
    DISCRETIZED_GAUSSIAN
  }

  /** The mean and log-variance of a diagonal Gaussian, with the x_0 prediction they came from (or null). */
  public record Gaussian(Operand<TFloating> mean, Operand<TFloating> logVariance, Operand<TFloating> predXStart) {}

  private final int timesteps;
  private final double[] betas;
  private final double[] alphas;
  private final double[] alphasCumprod;
  private final double[] alphasCumprodPrev;
  private final double[] sqrtAlphasCumprod;
  private final double[] sqrtOneMinusAlphasCumprod;
  private final double[] sqrtRecipAlphasCumprod;
  private final double[] sqrtRecipm1AlphasCumprod;
  private final double[] posteriorVariance;
  private final double[] posteriorLogVarianceClipped;
  private final double[] posteriorMeanCoef1;
  private final double[] posteriorMeanCoef2;

  public GaussianDiffusion(double[] betas) {
    int n = betas.length;
    if (n < 2) {
      throw new IllegalArgumentException("a diffusion needs at least 2 timesteps, got " + n);
    }
    for (double b : betas) {
      if (!(b > 0 && b < 1)) {
        throw new IllegalArgumentException("betas must lie in (0, 1), got " + b);
      }
    }
    this.timesteps = n;
    this.betas = betas.clone();
    this.alphas = new double[n];
    this.alphasCumprod = new double[n];
    this.alphasCumprodPrev = new double[n];
    this.sqrtAlphasCumprod = new double[n];
    this.sqrtOneMinusAlphasCumprod = new double[n];
    this.sqrtRecipAlphasCumprod = new double[n];
    this.sqrtRecipm1AlphasCumprod = new double[n];
    this.posteriorVariance = new double[n];
    this.posteriorLogVarianceClipped = new double[n];
    this.posteriorMeanCoef1 = new double[n];
    this.posteriorMeanCoef2 = new double[n];
    double prod = 1;
    for (int t = 0; t < n; t++) {
      alphas[t] = 1 - betas[t];
      alphasCumprodPrev[t] = prod;
      prod *= alphas[t];
      alphasCumprod[t] = prod;
      sqrtAlphasCumprod[t] = Math.sqrt(prod);
      sqrtOneMinusAlphasCumprod[t] = Math.sqrt(1 - prod);
      sqrtRecipAlphasCumprod[t] = Math.sqrt(1 / prod);
      sqrtRecipm1AlphasCumprod[t] = Math.sqrt(1 / prod - 1);
      posteriorVariance[t] = betas[t] * (1 - alphasCumprodPrev[t]) / (1 - prod);
      posteriorMeanCoef1[t] = betas[t] * Math.sqrt(alphasCumprodPrev[t]) / (1 - prod);
      posteriorMeanCoef2[t] = (1 - alphasCumprodPrev[t]) * Math.sqrt(alphas[t]) / (1 - prod);
    }
    // The posterior variance is 0 at t = 0: its log is clipped to the value at t = 1, as in the DDPM code.
    for (int t = 0; t < n; t++) {
      posteriorLogVarianceClipped[t] = Math.log(t == 0 ? posteriorVariance[1] : posteriorVariance[t]);
    }
  }

  public static GaussianDiffusion of(BetaSchedule schedule, int timesteps, double betaStart, double betaEnd) {
    return new GaussianDiffusion(schedule.betas(timesteps, betaStart, betaEnd));
  }

  public int timesteps() {
    return timesteps;
  }

  public double[] betas() {
    return betas.clone();
  }

  public double[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  public double[] alphasCumprodPrev() {
    return alphasCumprodPrev.clone();
  }

  public double[] posteriorVariance() {
    return posteriorVariance.clone();
  }

  public double[] posteriorLogVarianceClipped() {
    return posteriorLogVarianceClipped.clone();
  }

  public double[] posteriorMeanCoef1() {
    return posteriorMeanCoef1.clone();
  }

  public double[] posteriorMeanCoef2() {
    return posteriorMeanCoef2.clone();
  }

  /**
   * log sigma_t^2 of the reverse process for a variance type; with {@link Decoder#DISCRETIZED_GAUSSIAN} the
   * FIXED_LARGE value at t = 0 is the posterior variance at t = 1, as in the DDPM code (see {@link VarianceType}).
   */
  public double[] modelLogVariance(VarianceType type, Decoder decoder) {
    double[] out = new double[timesteps];
    for (int t = 0; t < timesteps; t++) {
      out[t] = switch (type) {
        case FIXED_LARGE -> Math.log(t == 0 && decoder == Decoder.DISCRETIZED_GAUSSIAN ? posteriorVariance[1]
            : betas[t]);
        case FIXED_SMALL -> posteriorLogVarianceClipped[t];
      };
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Graph builders. x tensors are [N, ...]; t is int32 [N].

  /** a[t] as a [N, 1, ..., 1] tensor that broadcasts against a rank-{@code rank} batch. */
  public static Operand<TFloating> extract(Ops tf, Class<TFloating> dt, double[] a, Operand<TInt32> t, int rank) {
    Operand<TFloating> table = Tensors.constant(tf, dt, a, Shape.of(a.length));
    Operand<TFloating> v = tf.gather(table, t, tf.constant(0));
    long[] shape = new long[rank];
    java.util.Arrays.fill(shape, 1);
    shape[0] = -1;
    return tf.reshape(v, tf.constant(shape));
  }

  private Operand<TFloating> at(Ops tf, Operand<TFloating> like, double[] a, Operand<TInt32> t) {
    return extract(tf, like.type(), a, t, like.shape().numDimensions());
  }

  /** x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) noise (eq. 4). */
  public Operand<TFloating> qSample(Ops tf, Operand<TFloating> x0, Operand<TInt32> t, Operand<TFloating> noise) {
    return tf.math.add(tf.math.mul(at(tf, x0, sqrtAlphasCumprod, t), x0),
        tf.math.mul(at(tf, x0, sqrtOneMinusAlphasCumprod, t), noise));
  }

  /** x_0 = (x_t - sqrt(1 - alphaBar_t) eps) / sqrt(alphaBar_t). */
  public Operand<TFloating> predictXStartFromEps(Ops tf, Operand<TFloating> xt, Operand<TInt32> t,
      Operand<TFloating> eps) {
    return tf.math.sub(tf.math.mul(at(tf, xt, sqrtRecipAlphasCumprod, t), xt),
        tf.math.mul(at(tf, xt, sqrtRecipm1AlphasCumprod, t), eps));
  }

  /** The posterior q(x_{t-1} | x_t, x_0) (eqs. 6-7), log-variance clipped at t = 0. */
  public Gaussian qPosterior(Ops tf, Operand<TFloating> x0, Operand<TFloating> xt, Operand<TInt32> t) {
    Operand<TFloating> mean = tf.math.add(tf.math.mul(at(tf, xt, posteriorMeanCoef1, t), x0),
        tf.math.mul(at(tf, xt, posteriorMeanCoef2, t), xt));
    Operand<TFloating> logVar = tf.math.add(tf.math.mul(xt, Tensors.constant(tf, xt.type(), 0)),
        at(tf, xt, posteriorLogVarianceClipped, t));
    return new Gaussian(mean, logVar, x0);
  }

  /**
   * The reverse step p(x_{t-1} | x_t) of an epsilon-predicting model: mu = posterior mean at the predicted x_0
   * (optionally clipped to [-1, 1], as the DDPM code does for images), variance by {@code type}.
   */
  public Gaussian pMeanVariance(Ops tf, Operand<TFloating> xt, Operand<TInt32> t, Operand<TFloating> eps,
      VarianceType type, Decoder decoder, boolean clipDenoised) {
    Class<TFloating> dt = xt.type();
    Operand<TFloating> x0 = predictXStartFromEps(tf, xt, t, eps);
    if (clipDenoised) {
      x0 = tf.clipByValue(x0, Tensors.constant(tf, dt, -1), Tensors.constant(tf, dt, 1));
    }
    Operand<TFloating> mean = qPosterior(tf, x0, xt, t).mean();
    Operand<TFloating> logVar = tf.math.add(tf.math.mul(xt, Tensors.constant(tf, dt, 0)),
        at(tf, xt, modelLogVariance(type, decoder), t));
    return new Gaussian(mean, logVar, x0);
  }

  /** One ancestral step (Algorithm 2): x_{t-1} = mu + sigma_t z, with no noise at t = 0. */
  public Operand<TFloating> ancestralStep(Ops tf, Operand<TFloating> xt, Operand<TInt32> t, Operand<TFloating> eps,
      VarianceType type, Decoder decoder, boolean clipDenoised, Operand<TFloating> z) {
    Gaussian p = pMeanVariance(tf, xt, t, eps, type, decoder, clipDenoised);
    Class<TFloating> dt = xt.type();
    Operand<TFloating> nonzero = tf.reshape(Tensors.cast(tf, tf.math.greater(t, tf.constant(0)), dt),
        tf.constant(broadcastShape(xt)));
    Operand<TFloating> sd = tf.math.exp(tf.math.mul(Tensors.constant(tf, dt, 0.5), p.logVariance()));
    return tf.math.add(p.mean(), tf.math.mul(nonzero, tf.math.mul(sd, z)));
  }

  /**
   * One DDIM step (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", eq. 12) from t to tPrev (tPrev =
   * -1 for the last step, where alphaBar = 1): x_prev = sqrt(alphaBar_prev) x0 + sqrt(1 - alphaBar_prev - s^2) eps
   * + s z with s = eta sqrt((1 - alphaBar_prev) / (1 - alphaBar_t)) sqrt(1 - alphaBar_t / alphaBar_prev). eta = 0 is
   * deterministic; eta = 1 with every step is the ancestral sampler with the FIXED_SMALL variance.
   */
  public Operand<TFloating> ddimStep(Ops tf, Operand<TFloating> xt, Operand<TInt32> t, Operand<TInt32> tPrev,
      Operand<TFloating> eps, Operand<TFloating> eta, boolean clipDenoised, Operand<TFloating> z) {
    Class<TFloating> dt = xt.type();
    Operand<TFloating> x0 = predictXStartFromEps(tf, xt, t, eps);
    if (clipDenoised) {
      x0 = tf.clipByValue(x0, Tensors.constant(tf, dt, -1), Tensors.constant(tf, dt, 1));
      // The DDIM code re-derives eps from the clipped x_0 so that both terms agree.
      eps = tf.math.div(tf.math.sub(tf.math.mul(at(tf, xt, sqrtRecipAlphasCumprod, t), xt), x0),
          at(tf, xt, sqrtRecipm1AlphasCumprod, t));
    }
    double[] withOne = new double[timesteps + 1];
    withOne[0] = 1;
    System.arraycopy(alphasCumprod, 0, withOne, 1, timesteps);
    Operand<TFloating> abT = at(tf, xt, alphasCumprod, t);
    Operand<TFloating> abPrev = at(tf, xt, withOne, tf.math.add(tPrev, tf.constant(1)));
    Operand<TFloating> one = Tensors.constant(tf, dt, 1);
    Operand<TFloating> sigma = tf.math.mul(eta, tf.math.sqrt(tf.math.mul(
        tf.math.div(tf.math.sub(one, abPrev), tf.math.sub(one, abT)),
        tf.math.sub(one, tf.math.div(abT, abPrev)))));
    Operand<TFloating> dir = tf.math.sqrt(tf.math.maximum(
        tf.math.sub(tf.math.sub(one, abPrev), tf.math.square(sigma)), Tensors.constant(tf, dt, 0)));
    return tf.math.add(tf.math.add(tf.math.mul(tf.math.sqrt(abPrev), x0), tf.math.mul(dir, eps)),
        tf.math.mul(sigma, z));
  }

  /** Ho et al.'s L_simple (eq. 14) per example: the mean over dimensions of (eps - eps_theta)^2. */
  public static Operand<TFloating> lossSimple(Ops tf, Operand<TFloating> noise, Operand<TFloating> eps) {
    return meanPerExample(tf, tf.math.square(tf.math.sub(noise, eps)));
  }

  /**
   * One term of the variational bound, in nats per example (eq. 5): for t > 0, L_{t-1} = KL(q(x_{t-1} | x_t, x_0) ||
   * p(x_{t-1} | x_t)); for t = 0, L_0 = -log p(x_0 | x_1) under the decoder.
   */
  public Operand<TFloating> vbTerm(Ops tf, Operand<TFloating> x0, Operand<TFloating> xt, Operand<TInt32> t,
      Operand<TFloating> eps, VarianceType type, Decoder decoder, boolean clipDenoised) {
    Gaussian q = qPosterior(tf, x0, xt, t);
    Gaussian p = pMeanVariance(tf, xt, t, eps, type, decoder, clipDenoised);
    Operand<TFloating> kl = sumPerExample(tf, normalKl(tf, q.mean(), q.logVariance(), p.mean(), p.logVariance()));
    Class<TFloating> dt = x0.type();
    Operand<TFloating> logScale = tf.math.mul(Tensors.constant(tf, dt, 0.5), p.logVariance());
    Operand<TFloating> decoderNll = tf.math.neg(sumPerExample(tf, decoder == Decoder.DISCRETIZED_GAUSSIAN
        ? discretizedGaussianLogLikelihood(tf, x0, p.mean(), logScale)
        : Tensors.gaussianLogDensity(tf, dt, x0, p.mean(), logScale)));
    Operand<TBool> first = tf.math.equal(t, tf.constant(0));
    return tf.select(first, decoderNll, kl);
  }

  /** L_T = KL(q(x_T | x_0) || N(0, I)) in nats per example: independent of the network. */
  public Operand<TFloating> priorKl(Ops tf, Operand<TFloating> x0) {
    Class<TFloating> dt = x0.type();
    int last = timesteps - 1;
    Operand<TFloating> mean = tf.math.mul(x0, Tensors.constant(tf, dt, sqrtAlphasCumprod[last]));
    Operand<TFloating> logVar = tf.math.add(tf.math.mul(x0, Tensors.constant(tf, dt, 0)),
        Tensors.constant(tf, dt, Math.log(1 - alphasCumprod[last])));
    Operand<TFloating> zero = tf.math.mul(x0, Tensors.constant(tf, dt, 0));
    return sumPerExample(tf, normalKl(tf, mean, logVar, zero, zero));
  }

  /** KL(N(m1, e^lv1) || N(m2, e^lv2)), elementwise. */
  public static Operand<TFloating> normalKl(Ops tf, Operand<TFloating> mean1, Operand<TFloating> logVar1,
      Operand<TFloating> mean2, Operand<TFloating> logVar2) {
    Class<TFloating> dt = mean1.type();
    Operand<TFloating> half = Tensors.constant(tf, dt, 0.5);
    Operand<TFloating> inner = tf.math.add(
        tf.math.add(Tensors.constant(tf, dt, -1), tf.math.sub(logVar2, logVar1)),
        tf.math.add(tf.math.exp(tf.math.sub(logVar1, logVar2)),
            tf.math.mul(tf.math.square(tf.math.sub(mean1, mean2)), tf.math.exp(tf.math.neg(logVar2)))));
    return tf.math.mul(half, inner);
  }

  /**
   * Ho et al.'s discretised Gaussian log-likelihood of x in [-1, 1] on the grid of 256 values (bin half-width 1/255;
   * the edge bins extend to +-infinity), with their tanh approximation of the normal CDF.
   */
  public static Operand<TFloating> discretizedGaussianLogLikelihood(Ops tf, Operand<TFloating> x,
      Operand<TFloating> mean, Operand<TFloating> logScale) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> centred = tf.math.sub(x, mean);
    Operand<TFloating> invStd = tf.math.exp(tf.math.neg(logScale));
    Operand<TFloating> cdfPlus = approxStandardNormalCdf(tf,
        tf.math.mul(invStd, tf.math.add(centred, Tensors.constant(tf, dt, 1.0 / 255))));
    Operand<TFloating> cdfMin = approxStandardNormalCdf(tf,
        tf.math.mul(invStd, tf.math.sub(centred, Tensors.constant(tf, dt, 1.0 / 255))));
    Operand<TFloating> tiny = Tensors.constant(tf, dt, 1e-12);
    Operand<TFloating> logCdfPlus = tf.math.log(tf.math.maximum(cdfPlus, tiny));
    Operand<TFloating> logOneMinusCdfMin = tf.math.log(tf.math.maximum(
        tf.math.sub(Tensors.constant(tf, dt, 1), cdfMin), tiny));
    Operand<TFloating> logDelta = tf.math.log(tf.math.maximum(tf.math.sub(cdfPlus, cdfMin), tiny));
    return tf.select(tf.math.less(x, Tensors.constant(tf, dt, -0.999)), logCdfPlus,
        tf.select(tf.math.greater(x, Tensors.constant(tf, dt, 0.999)), logOneMinusCdfMin, logDelta));
  }

  /** 0.5 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), the approximation of Page 1977 used by the DDPM code. */
  public static Operand<TFloating> approxStandardNormalCdf(Ops tf, Operand<TFloating> x) {
    Class<TFloating> dt = x.type();
    Operand<TFloating> cube = tf.math.mul(tf.math.square(x), x);
    Operand<TFloating> inner = tf.math.mul(Tensors.constant(tf, dt, Math.sqrt(2 / Math.PI)),
        tf.math.add(x, tf.math.mul(Tensors.constant(tf, dt, 0.044715), cube)));
    return tf.math.mul(Tensors.constant(tf, dt, 0.5), tf.math.add(Tensors.constant(tf, dt, 1), tf.math.tanh(inner)));
  }

  static Operand<TFloating> sumPerExample(Ops tf, Operand<TFloating> x) {
    return Tensors.sumPerExample(tf, x, x.shape().numDimensions());
  }

  static Operand<TFloating> meanPerExample(Ops tf, Operand<TFloating> x) {
    int rank = x.shape().numDimensions();
    if (rank == 1) {
      return x;
    }
    int[] axes = new int[rank - 1];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 1;
    }
    return Tensors.mean(tf, x, axes);
  }

  static long[] broadcastShape(Operand<?> like) {
    long[] shape = new long[like.shape().numDimensions()];
    java.util.Arrays.fill(shape, 1);
    shape[0] = -1;
    return shape;
  }
}
