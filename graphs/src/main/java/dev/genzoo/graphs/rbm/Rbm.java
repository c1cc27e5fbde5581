package dev.genzoo.graphs.rbm;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The restricted Boltzmann machine of the lecture notes (Smart, "Generative Modelling Intro"; Hinton 2002, "Training
 * Products of Experts by Minimizing Contrastive Divergence"; Hinton 2012, "A Practical Guide to Training Restricted
 * Boltzmann Machines"): N visible spins s_i in {-1, +1}, p Gaussian hidden units lambda_mu, and the energy
 *
 * <pre>
 *   H(s, lambda) = sum_mu lambda_mu^2 / 2 - sum_i h_i s_i - sum_{i, mu} W_{i mu} s_i lambda_mu.
 * </pre>
 *
 * <p>There are no hidden-hidden or visible-visible couplings, so both conditionals factorise:
 * p(lambda_mu | s) = N(sum_i W_{i mu} s_i, 1) and p(s_i = +1 | lambda) = 1 / (1 + exp(-2 x_i)) with the visible input
 * x_i = sum_mu W_{i mu} lambda_mu + h_i, hence E[s_i | lambda] = tanh(x_i). Integrating the Gaussian hidden units out
 * gives the marginal p(s) = exp(-F(s)) / Z with the free energy F(s) = -h.s - |W^T s|^2 / 2 (constants dropped): a
 * Hopfield network with couplings W W^T. Because H(s, E[lambda | s]) = F(s), the data term of the surrogate loss is
 * the free energy itself. A hidden bias would be redundant: for spins, |W^T s + b|^2 / 2 = |W^T s|^2 / 2 + (W b).s + c,
 * which the visible fields h absorb.
 *
 * <p>Sampling at temperature T uses the joint exp(-H / T), whose conditionals are N(W^T s, T) and
 * sigmoid(2 x_i / T) and whose s-marginal is exactly p(s)^{1/T} / Z_T.
 *
 * <p>Variables: {@code <scope>/kernel} is W ([N, p], initialised N(0, initStd^2), 0.01 in Hinton's guide; named
 * {@code kernel} so that {@code training.weightDecay} applies to it) and {@code <scope>/visible_bias} is h ([N], zero,
 * or set from the data by {@link #dataInitField}).
 *
 * <p>Randomness: every draw is a stateless op keyed by a [2] int64 key, so chains are pure functions of their start and
 * keys.
 */
public final class Rbm {
  private final Ops tf;
  private final Class<TFloating> dt;
  private final Operand<TFloating> w;
  private final Operand<TFloating> h;
  private final int visible;
  private final int hidden;

  /** The model with its weights W ([visible, hidden]) and visible fields h ([visible]) given as graph values. */
  public Rbm(Ops tf, Class<TFloating> dt, Operand<TFloating> w, Operand<TFloating> h, int visible, int hidden) {
    this.tf = tf;
    this.dt = dt;
    this.w = w;
    this.h = h;
    this.visible = visible;
    this.hidden = hidden;
  }

  /** Creates W ({@code kernel}, N(0, initStd^2)) and h ({@code visible_bias}, zero) under {@code scope}. */
  public static Rbm create(VarScope scope, int visible, int hidden, double initStd) {
    Operand<TFloating> w = scope.variable("kernel", new long[] {visible, hidden}, Initializer.normal(initStd));
    Operand<TFloating> h = scope.variable("visible_bias", new long[] {visible}, Initializer.zeros());
    return new Rbm(scope.tf(), scope.dtype(), w, h, visible, hidden);
  }

  /** N, the number of visible spins. */
  public int visible() {
    return visible;
  }

  /** p, the number of Gaussian hidden units. */
  public int hidden() {
    return hidden;
  }

  /** W, [N, p]. */
  public Operand<TFloating> weights() {
    return w;
  }

  /** h, [N]. */
  public Operand<TFloating> fields() {
    return h;
  }

  /** The hidden input h_mu = sum_i W_{i mu} s_i, which is E[lambda_mu | s]: [n, p] for spins s [n, N]. */
  public Operand<TFloating> hiddenMean(Operand<TFloating> s) {
    return tf.linalg.matMul(s, w);
  }

  /** A draw lambda ~ N(W^T s, T) for each row of s ([n, N] -> [n, p]); {@code temperature} null means T = 1. */
  public Operand<TFloating> sampleHidden(Operand<TFloating> s, Operand<TInt64> key, Operand<TFloating> temperature) {
    Operand<TFloating> mean = hiddenMean(s);
    Operand<TFloating> noise = tf.random.statelessRandomNormal(tf.shape(mean), key, dt);
    if (temperature != null) {
      noise = tf.math.mul(noise, tf.math.sqrt(temperature));
    }
    return tf.math.add(mean, noise);
  }

  /** The visible input x_i = sum_mu W_{i mu} lambda_mu + h_i: [n, N] for lambda [n, p]. */
  public Operand<TFloating> visibleField(Operand<TFloating> lambda) {
    return tf.math.add(tf.linalg.matMul(lambda, w, MatMul.transposeB(true)), h);
  }

  /** p(s_i = +1 | lambda) = 1 / (1 + exp(-2 x_i / T)); {@code temperature} null means T = 1. */
  public Operand<TFloating> visibleProbability(Operand<TFloating> lambda, Operand<TFloating> temperature) {
    Operand<TFloating> x = tf.math.mul(visibleField(lambda), c(2));
    if (temperature != null) {
      x = tf.math.div(x, temperature);
    }
    return tf.math.sigmoid(x);
  }

  /** Spins s_i = +1 with probability {@code probability}, else -1, drawn with {@code key}. */
  public Operand<TFloating> sampleSpins(Operand<TFloating> probability, Operand<TInt64> key) {
    Operand<TFloating> u = tf.random.statelessRandomUniform(tf.shape(probability), key, dt);
    return tf.math.sub(tf.math.mul(tf.dtypes.cast(tf.math.less(u, probability), dt), c(2)), c(1));
  }

  /** H(s, lambda) per example: [n] for s [n, N] and lambda [n, p]. */
  public Operand<TFloating> energy(Operand<TFloating> s, Operand<TFloating> lambda) {
    Operand<TFloating> quadratic = tf.math.mul(Tensors.sum(tf, tf.math.square(lambda), 1), c(0.5));
    Operand<TFloating> field = Tensors.sum(tf, tf.math.mul(s, h), 1);
    Operand<TFloating> coupling = Tensors.sum(tf, tf.math.mul(hiddenMean(s), lambda), 1);
    return tf.math.sub(tf.math.sub(quadratic, field), coupling);
  }

  /**
   * The free energy F(s) = -h.s - |W^T s|^2 / 2 per example ([n]), with p(s) = exp(-F(s)) / Z; it differs from
   * -log of the integral of exp(-H(s, lambda)) over lambda by the constant (p / 2) log(2 pi).
   */
  public Operand<TFloating> freeEnergy(Operand<TFloating> s) {
    Operand<TFloating> field = Tensors.sum(tf, tf.math.mul(s, h), 1);
    Operand<TFloating> coupling = tf.math.mul(Tensors.sum(tf, tf.math.square(hiddenMean(s)), 1), c(0.5));
    return tf.math.neg(tf.math.add(field, coupling));
  }

  /** One alternating Gibbs sweep s -> lambda ~ p(lambda | s) -> s' ~ p(s | lambda). */
  public record Sweep(Operand<TFloating> lambda, Operand<TFloating> probability, Operand<TFloating> spins) {}

  /**
   * One Gibbs sweep from spins s [n, N]: the hidden draw is keyed by key * [1, 2] and the visible draw by
   * key * [1, 2] + [0, 1], so sweeps keyed (a, 0), (a, 1), ... draw disjoint streams.
   */
  public Sweep sweep(Operand<TFloating> s, Operand<TInt64> key, Operand<TFloating> temperature) {
    Operand<TInt64> base = tf.math.mul(key, tf.constant(new long[] {1, 2}));
    Operand<TFloating> lambda = sampleHidden(s, base, temperature);
    Operand<TFloating> p = visibleProbability(lambda, temperature);
    Operand<TFloating> next = sampleSpins(p, tf.math.add(base, tf.constant(new long[] {0, 1})));
    return new Sweep(lambda, p, next);
  }

  /**
   * Hinton's initialisation of the visible biases from the data (Practical Guide, section 8): with W = 0 the model is
   * p(s_i = +1) = 1 / (1 + exp(-2 h_i)), so h_i = atanh(m_i) reproduces the data means m_i = E[s_i], clipped to
   * p_i in [0.01, 0.99] so that always-off pixels get a finite field. Returns the new h for data spins s [n, N].
   */
  public Operand<TFloating> dataInitField(Operand<TFloating> s) {
    Operand<TFloating> m = tf.clipByValue(Tensors.mean(tf, s, 0), c(-0.98), c(0.98));
    // atanh(m) = log((1 + m) / (1 - m)) / 2
    return tf.math.mul(tf.math.log(tf.math.div(tf.math.add(c(1), m), tf.math.sub(c(1), m))), c(0.5));
  }

  private Operand<TFloating> c(double v) {
    return Tensors.constant(tf, dt, v);
  }
}
