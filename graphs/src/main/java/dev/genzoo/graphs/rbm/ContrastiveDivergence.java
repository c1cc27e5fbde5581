package dev.genzoo.graphs.rbm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Contrastive divergence CD-k (Hinton 2002, "Training Products of Experts by Minimizing Contrastive Divergence") and
 * its persistent variant PCD-k (Tieleman 2008, "Training Restricted Boltzmann Machines using Approximations to the
 * Likelihood Gradient") for the {@link Rbm}, as a surrogate loss whose gradient is the notes' update.
 *
 * <p>The log-likelihood gradient is d ln p(s)/dW_{i mu} = s_i <lambda_mu | s> - <s_i lambda_mu>_model and
 * d ln p(s)/dh_i = s_i - <s_i>_model. CD-k replaces the model average by the state (s^(k), lambda^(k)) of a Gibbs chain
 * run k sweeps from the data (PCD: from the chain's state at the previous update), so the update is
 *
 * <pre>
 *   dW_{i mu} = < s_i <lambda_mu | s> >_data - < s_i^(k) lambda_mu^(k) >_chain,   dh_i = < s_i >_data - < s_i^(k) >_chain.
 * </pre>
 *
 * That is minus the gradient of L = mean_data H(s, stopgrad E[lambda | s]) - mean_chain H(stopgrad s^(k),
 * stopgrad lambda^(k)), which an optimiser minimises: dH/dW_{i mu} = -s_i lambda_mu and dH/dh_i = -s_i.
 *
 * <p>Chain: s^(0) is the start; sweep t (t = 0 .. k-1) draws lambda^(t) ~ p(lambda | s^(t)) then
 * s^(t+1) ~ p(s | lambda^(t)), keyed by seed + [0, t] (see {@link Rbm#sweep}); lambda^(k) ~ p(lambda | s^(k)) is keyed
 * by (seed + [0, k]) * [1, 2]. All are sampled values (the notes' s^(k) lambda^(k)), not means.
 */
public final class ContrastiveDivergence {
  private ContrastiveDivergence() {}

  /**
   * The pieces of one CD-k update.
   *
   * @param data the data spins s, [B, N]
   * @param dataHidden E[lambda | s] = W^T s for the data (inside the stop-gradient), [B, p]
   * @param chainSpins s^(k), [C, N] (C = B for CD, the number of persistent chains for PCD)
   * @param chainHidden lambda^(k), [C, p]
   * @param loss the surrogate loss L (its gradient is minus the notes' update)
   * @param reconstructionError mean over examples and pixels of (p(s_i = +1 | lambda) - [s_i = +1])^2 after one Gibbs
   *     round trip s -> lambda -> p(s | lambda) from the data
   * @param freeEnergyGap mean_data F(s) - mean_chain F(s^(k)): negative when the model gives the data lower free
   *     energy (higher probability) than its own chain samples
   */
  public record Terms(Operand<TFloating> data, Operand<TFloating> dataHidden, Operand<TFloating> chainSpins,
      Operand<TFloating> chainHidden, Operand<TFloating> loss, Operand<TFloating> reconstructionError,
      Operand<TFloating> freeEnergyGap) {}

  /**
   * Builds the CD-k terms.
   *
   * @param s the data spins [B, N]
   * @param chainStart where the chain starts: null for CD-k (the data), the persistent chains' states for PCD-k
   * @param seed the step's [2] int64 seed
   * @param k the number of Gibbs sweeps (at least 1)
   */
  public static Terms build(Ops tf, Class<TFloating> dt, Rbm rbm, Operand<TFloating> s,
      Operand<TFloating> chainStart, Operand<TInt64> seed, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("cd.k (Gibbs sweeps per update) must be at least 1, got " + k);
    }
    Operand<TFloating> dataHidden = tf.stopGradient(rbm.hiddenMean(s));
    Operand<TFloating> cur = chainStart == null ? s : chainStart;
    Rbm.Sweep first = null;
    for (int t = 0; t < k; t++) {
      Rbm.Sweep sw = rbm.sweep(cur, tf.math.add(seed, tf.constant(new long[] {0, t})), null);
      if (t == 0) {
        first = sw;
      }
      cur = sw.spins();
    }
    Operand<TFloating> chainSpins = tf.stopGradient(cur);
    Operand<TFloating> chainHidden = tf.stopGradient(rbm.sampleHidden(chainSpins,
        tf.math.mul(tf.math.add(seed, tf.constant(new long[] {0, k})), tf.constant(new long[] {1, 2})), null));
    Operand<TFloating> positive = Tensors.mean(tf, rbm.energy(s, dataHidden), 0);
    Operand<TFloating> negative = Tensors.mean(tf, rbm.energy(chainSpins, chainHidden), 0);
    Operand<TFloating> loss = tf.math.sub(positive, negative);

    // One Gibbs round trip from the data: the chain's first sweep for CD, a separate one (keyed seed + [0, k + 1]) for
    // PCD, whose chain does not start at the data.
    Rbm.Sweep roundTrip = chainStart == null ? first
        : rbm.sweep(s, tf.math.add(seed, tf.constant(new long[] {0, k + 1})), null);
    Operand<TFloating> on = tf.math.mul(tf.math.add(s, c(tf, dt, 1)), c(tf, dt, 0.5));
    Operand<TFloating> recon = Tensors.mean(tf, tf.math.square(tf.math.sub(tf.stopGradient(roundTrip.probability()),
        on)), 0, 1);
    Operand<TFloating> gap = tf.stopGradient(tf.math.sub(Tensors.mean(tf, rbm.freeEnergy(s), 0),
        Tensors.mean(tf, rbm.freeEnergy(chainSpins), 0)));
    return new Terms(s, dataHidden, chainSpins, chainHidden, loss, recon, gap);
  }

  private static Operand<TFloating> c(Ops tf, Class<TFloating> dt, double v) {
    return Tensors.constant(tf, dt, v);
  }
}
