package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Split;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The discretised mixture of logistics of PixelCNN++ (Salimans, Karpathy, Chen &amp; Kingma 2017, "PixelCNN++:
 * Improving the PixelCNN with Discretized Logistic Mixture Likelihood and Other Modifications", section 2.1-2.2), in
 * the form NVAE uses as its image decoder (Vahdat &amp; Kautz 2020; upstream distributions.py, DiscMixLogistic).
 *
 * <p>Parameters per pixel, on the last (NHWC channel) axis, in the upstream NCHW channel order: M mixture logits,
 * then for each colour channel c a block of M means, M log-scales (clamped below at -7) and M raw coefficients
 * (coefficients = tanh(raw)): M + 3 C M values ({@link #paramChannels}). An 8-bit value k maps to
 * x = 2 k / 255 - 1 in [-1, 1]; each value owns the bin [x - 1/255, x + 1/255]. The channels are autoregressive
 * within a pixel through linear dependencies of the means: mean_1 += coeff_0 x_0, mean_2 += coeff_1 x_0 +
 * coeff_2 x_1 (coeff_j is the coefficient block stored under channel j). The pixel's probability is
 * sum_m softmax(logits)_m prod_c P_m(x_c | x_&lt;c); each channel term is the logistic mass of its bin, with the whole
 * lower tail given to k = 0 and the whole upper tail to k = 255, and PixelCNN++'s fallback log_pdf(x) - log(127.5)
 * where the bin mass is below 1e-5.
 *
 * <p>Departure from the upstream code (deliberate): upstream decides the upper edge by {@code x > 0.99}, which also
 * sends k = 254 (x = 0.992) to the upper tail, so its probabilities do not sum to 1 over the 256 values. Here the
 * edges are k = 0 and k = 255 exactly, compared on the integer value k, and the pmf sums to 1 (up to the fallback's
 * approximation of bins of mass below 1e-5).
 *
 * <p>C = 3 (RGB, upstream) or C = 1 (grey; then the coefficient block is present but unused). The parameters
 * broadcast against the images: params [N, H, W, M + 3CM] may be [1, 1, W, ...] against images [N, H, W, C].
 */
public final class DiscMixLogistic {
  /** The highest 8-bit value, 2^8 - 1. */
  private static final double MAX_VAL = 255.0;
  /** The clamp below of the log-scales. */
  private static final double MIN_LOG_SCALE = -7.0;

  private final Class<TFloating> dt;
  private final int numMix;
  private final int channels;
  private final Operand<TFloating> logits;
  private final List<Operand<TFloating>> means = new ArrayList<>();
  private final List<Operand<TFloating>> logScales = new ArrayList<>();
  private final List<Operand<TFloating>> coeffs = new ArrayList<>();

  /**
   * @param params [N, H, W, M + 3 C M] raw decoder outputs (NHWC)
   * @param numMix M, the number of logistic components
   * @param channels C, 1 or 3
   */
  public DiscMixLogistic(Ops tf, Class<TFloating> dt, Operand<TFloating> params, int numMix, int channels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }
    if (numMix < 1) {
      throw new IllegalArgumentException("numMix must be positive, got " + numMix);
    }
    Shape shape = params.shape();
    long last = shape.numDimensions() > 0 ? shape.size(shape.numDimensions() - 1) : -1;
    if ((shape.numDimensions() >= 0 && shape.numDimensions() != 4)
        || (last >= 0 && last != paramChannels(numMix, channels))) {
      throw new IllegalArgumentException("params must be [N, H, W, " + paramChannels(numMix, channels) + "] for M = "
          + numMix + ", C = " + channels + ", got " + shape);
    }
    this.dt = dt;
    this.numMix = numMix;
    this.channels = channels;
    Split<TFloating> blocks = tf.split(tf.constant(-1), params, (long) (1 + 3 * channels));
    this.logits = blocks.output().get(0);
    for (int c = 0; c < channels; c++) {
      means.add(blocks.output().get(1 + 3 * c));
      logScales.add(tf.math.maximum(blocks.output().get(2 + 3 * c), Tensors.constant(tf, dt, MIN_LOG_SCALE)));
      coeffs.add(tf.math.tanh(blocks.output().get(3 + 3 * c)));
    }
  }

  /** The number of parameters per pixel, M + 3 C M. */
  public static long paramChannels(int numMix, int channels) {
    return numMix + 3L * channels * numMix;
  }

  public int numMix() {
    return numMix;
  }

  public int channels() {
    return channels;
  }

  /** The mixture logits [N, H, W, M]. */
  public Operand<TFloating> logits() {
    return logits;
  }

  /**
   * log P(k) per pixel.
   *
   * @param k [N, H, W, C]: 8-bit values 0..255 as floats of the model dtype
   * @return [N, H, W]
   */
  public Operand<TFloating> logProb(Ops tf, Operand<TFloating> k) {
    Operand<TFloating> x = tf.math.sub(tf.math.mul(k, c(tf, 2 / MAX_VAL)), c(tf, 1));
    List<Operand<TFloating>> ks = split(tf, k);
    List<Operand<TFloating>> xs = split(tf, x);
    Operand<TFloating> total = null;
    for (int ch = 0; ch < channels; ch++) {
      Operand<TFloating> mean = means.get(ch);
      if (ch == 1) {
        mean = tf.math.add(mean, tf.math.mul(coeffs.get(0), xs.get(0)));
      } else if (ch == 2) {
        mean = tf.math.add(tf.math.add(mean, tf.math.mul(coeffs.get(1), xs.get(0))),
            tf.math.mul(coeffs.get(2), xs.get(1)));
      }
      Operand<TFloating> lp = channelLogProb(tf, ks.get(ch), xs.get(ch), mean, logScales.get(ch));
      total = total == null ? lp : tf.math.add(total, lp);
    }
    Operand<TFloating> joint = tf.math.add(total, logSoftmax(tf, logits));
    return Tensors.logSumExp(tf, joint, -1);
  }

  /**
   * log softmax over the last axis as x - logsumexp(x). Not tf.nn.logSoftmax / tf.nn.softmax: their registered C++
   * gradients (tensorflow/cc/gradients/nn_grad.cc) reduce over axis 1, which is only right for rank-2 inputs.
   */
  static Operand<TFloating> logSoftmax(Ops tf, Operand<TFloating> x) {
    Operand<TFloating> m = tf.stopGradient(tf.max(x, tf.constant(-1), org.tensorflow.op.core.Max.keepDims(true)));
    Operand<TFloating> shifted = tf.math.sub(x, m);
    Operand<TFloating> lse = tf.math.log(tf.sum(tf.math.exp(shifted), tf.constant(-1),
        org.tensorflow.op.core.Sum.keepDims(true)));
    return tf.math.sub(shifted, lse);
  }

  /** log P_m(x | mean, log-scale) of one channel for every component: [N, H, W, M]. */
  private Operand<TFloating> channelLogProb(Ops tf, Operand<TFloating> k, Operand<TFloating> x,
      Operand<TFloating> mean, Operand<TFloating> logScale) {
    // midIn, plusIn and minIn share one product; log(127.5) and -logScale are folded into one parameter-sized term
    Operand<TFloating> invStd = tf.math.exp(tf.math.neg(logScale));
    Operand<TFloating> halfBin = tf.math.mul(invStd, c(tf, 1 / MAX_VAL));
    Operand<TFloating> midIn = tf.math.mul(invStd, tf.math.sub(x, mean));
    Operand<TFloating> plusIn = tf.math.add(midIn, halfBin);
    Operand<TFloating> minIn = tf.math.sub(midIn, halfBin);
    Operand<TFloating> cdfDelta = tf.math.sub(tf.math.sigmoid(plusIn), tf.math.sigmoid(minIn));
    // log sigmoid(a) = a - softplus(a); log(1 - sigmoid(a)) = -softplus(a)
    Operand<TFloating> logCdfPlus = tf.math.sub(plusIn, tf.math.softplus(plusIn));
    Operand<TFloating> logOneMinusCdfMin = tf.math.neg(tf.math.softplus(minIn));
    // log pdf(x) - log(127.5) = midIn - 2 softplus(midIn) - logScale - log(127.5)
    Operand<TFloating> pdfOffset = tf.math.sub(tf.math.neg(logScale), c(tf, Math.log(MAX_VAL / 2)));
    Operand<TFloating> logPdfMidBin = tf.math.add(tf.math.sub(midIn, tf.math.mul(c(tf, 2), tf.math.softplus(midIn))),
        pdfOffset);
    Operand<TFloating> logProbMid = tf.select(tf.math.greater(cdfDelta, c(tf, 1e-5)),
        tf.math.log(tf.math.maximum(cdfDelta, c(tf, 1e-10))), logPdfMidBin);
    // the edges are decided on the integer value k ([N, H, W, 1]; SelectV2 broadcasts it over the components)
    return tf.select(tf.math.equal(k, c(tf, 0)), logCdfPlus,
        tf.select(tf.math.equal(k, c(tf, MAX_VAL)), logOneMinusCdfMin, logProbMid));
  }

  /**
   * A draw at temperature t, as upstream's sample(t): the component by argmax(logits / t + Gumbel noise), then
   * logistic noise u in [1e-5, 1 - 1e-5], x = mean + exp(log_scale) t (log u - log(1 - u)), the channels chained
   * through the coefficients and clamped to [-1, 1]. Not rounded to the 8-bit grid.
   *
   * <p>The noise has the shape of the parameters: broadcast them to the full [N, H, W, ...] shape for independent
   * draws per example.
   *
   * @param seed [2] int64 seed of the stateless random ops
   * @param temperature t &gt; 0 (t &lt; 1: sharper component choice and narrower logistics)
   * @return [N, H, W, C] in [0, 1]
   */
  public Operand<TFloating> sample(Ops tf, Operand<TInt64> seed, double temperature) {
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be positive, got " + temperature);
    }
    Operand<TFloating> u1 = uniform(tf, tf.shape(logits), tf.math.add(seed, tf.constant(new long[] {1, 0})));
    Operand<TFloating> gumbel = tf.math.neg(tf.math.log(tf.math.neg(tf.math.log(u1))));
    Operand<TFloating> scores = tf.math.add(tf.math.div(logits, c(tf, temperature)), gumbel);
    Operand<TFloating> sel = tf.oneHot(tf.math.argMax(scores, tf.constant(-1)), tf.constant(numMix), c(tf, 1),
        c(tf, 0));
    List<Operand<TFloating>> m = new ArrayList<>();
    List<Operand<TFloating>> co = new ArrayList<>();
    for (int ch = 0; ch < channels; ch++) {
      Operand<TFloating> mean = pick(tf, means.get(ch), sel);
      Operand<TFloating> u = uniform(tf, tf.shape(mean),
          tf.math.add(seed, tf.constant(new long[] {2 + ch, 0})));
      Operand<TFloating> logistic = tf.math.sub(tf.math.log(u), tf.math.log(tf.math.sub(c(tf, 1), u)));
      m.add(tf.math.add(mean, tf.math.mul(tf.math.mul(tf.math.exp(pick(tf, logScales.get(ch), sel)),
          c(tf, temperature)), logistic)));
      co.add(pick(tf, coeffs.get(ch), sel));
    }
    return chain(tf, m, co);
  }

  /**
   * Upstream's mean(): the softmax-weighted component means and coefficients, chained through the channels and
   * clamped (a point summary, not the mean of the mixture).
   *
   * @return [N, H, W, C] in [0, 1]
   */
  public Operand<TFloating> mean(Ops tf) {
    Operand<TFloating> sel = tf.math.exp(logSoftmax(tf, logits));
    List<Operand<TFloating>> m = new ArrayList<>();
    List<Operand<TFloating>> co = new ArrayList<>();
    for (int ch = 0; ch < channels; ch++) {
      m.add(pick(tf, means.get(ch), sel));
      co.add(pick(tf, coeffs.get(ch), sel));
    }
    return chain(tf, m, co);
  }

  /** x0 = clamp(x0), x1 = clamp(x1 + c0 x0), x2 = clamp(x2 + c1 x0 + c2 x1), stacked on a last axis, to [0, 1]. */
  private Operand<TFloating> chain(Ops tf, List<Operand<TFloating>> x, List<Operand<TFloating>> co) {
    List<Operand<TFloating>> out = new ArrayList<>();
    Operand<TFloating> x0 = clamp(tf, x.get(0));
    out.add(x0);
    if (channels == 3) {
      Operand<TFloating> x1 = clamp(tf, tf.math.add(x.get(1), tf.math.mul(co.get(0), x0)));
      Operand<TFloating> x2 = clamp(tf, tf.math.add(tf.math.add(x.get(2), tf.math.mul(co.get(1), x0)),
          tf.math.mul(co.get(2), x1)));
      out.add(x1);
      out.add(x2);
    }
    Operand<TFloating> stacked = tf.stack(out, org.tensorflow.op.core.Stack.axis(-1L));
    return tf.math.mul(tf.math.add(stacked, c(tf, 1)), c(tf, 0.5));
  }

  private Operand<TFloating> clamp(Ops tf, Operand<TFloating> v) {
    return tf.math.minimum(tf.math.maximum(v, c(tf, -1)), c(tf, 1));
  }

  /** sum_m v_m sel_m over the last axis: [N, H, W, M] -> [N, H, W]. */
  private static Operand<TFloating> pick(Ops tf, Operand<TFloating> v, Operand<TFloating> sel) {
    return tf.sum(tf.math.mul(v, sel), tf.constant(-1));
  }

  /** Uniform on [1e-5, 1 - 1e-5], as upstream's uniform_(1e-5, 1 - 1e-5). */
  private Operand<TFloating> uniform(Ops tf, Operand<org.tensorflow.types.TInt32> shape, Operand<TInt64> seed) {
    Operand<TFloating> u = tf.random.statelessRandomUniform(shape, seed, dt);
    return tf.math.add(c(tf, 1e-5), tf.math.mul(u, c(tf, 1 - 2e-5)));
  }

  /** The C channel slices [..., 1] of a [..., C] tensor. */
  private List<Operand<TFloating>> split(Ops tf, Operand<TFloating> v) {
    if (channels == 1) {
      return List.of(v);
    }
    return new ArrayList<>(tf.split(tf.constant(-1), v, (long) channels).output());
  }

  private Operand<TFloating> c(Ops tf, double v) {
    return Tensors.constant(tf, dt, v);
  }
}
