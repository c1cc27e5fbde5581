package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Maximum-likelihood training of an energy-based model p_theta = exp(-U_theta) / Z_theta by its contrastive gradient
 * (Hinton 2002): the log-likelihood's gradient is grad_theta E_data[log p_theta] = E_theta[grad_theta U_theta] -
 * E_data[grad_theta U_theta], so descending
 * <pre>
 *   L = mean_i U(x+_i) - mean_j U(stopgrad(x-_j)) + alpha (mean_i U(x+_i)^2 + mean_j U(x-_j)^2)
 * </pre>
 * with positives x+ from the data and negatives x- from (an approximation of) the model pulls the energy of the data
 * down and that of the model's samples up. The negatives are held constant (stop-gradient): the gradient flows only
 * through the energy's parameters, never back through the sampler. The alpha term is the L2 energy regulariser of
 * Du and Mordatch (2019), which keeps the energies near zero; alpha = 0 gives the plain objective.
 *
 * <p>Where the negatives come from decides the method:
 * <ul>
 *   <li>exact samples of p_theta: maximum likelihood proper; {@link #exact} draws them in the graph by rejection
 *       sampling, whose accepted candidates enter through a masked (weighted) mean;
 *   <li>k MCMC steps started at the data batch: contrastive divergence CD-k (Hinton 2002), {@link #contrastiveDivergence};
 *   <li>k MCMC steps continuing persistent chains: PCD (Tieleman 2008), {@link PersistentChains};
 *   <li>a replay buffer (Du and Mordatch 2019): the IGEBM model.
 * </ul>
 * Each energy is evaluated separately on the positives and the negatives.
 */
public final class MaximumLikelihood {
  private MaximumLikelihood() {}

  /**
   * The parts of one loss.
   *
   * @param loss the scalar to minimise
   * @param positiveEnergy mean U(x+)
   * @param negativeEnergy the (weighted) mean U(x-)
   * @param negatives the negatives used, held constant [M, ...]
   * @param negativeWeights the weights of the negatives [M], or null for equal weights
   */
  public record Loss(Operand<TFloating> loss, Operand<TFloating> positiveEnergy, Operand<TFloating> negativeEnergy,
      Operand<TFloating> negatives, Operand<TFloating> negativeWeights) {}

  /** The contrastive loss with equally weighted negatives (see the class comment). */
  public static Loss contrastive(Ops tf, Energy energy, Operand<TFloating> positives, Operand<TFloating> negatives,
      double alpha) {
    return contrastive(tf, energy, positives, negatives, null, alpha);
  }

  /**
   * The contrastive loss with weighted negatives: every mean over the negatives is sum_j w_j f(x-_j) / sum_j w_j (0
   * when every weight is 0), e.g. a 0/1 mask of the candidates a rejection sampler accepted. The weights are held
   * constant.
   *
   * @param weights [M] non-negative weights, or null for the plain mean
   * @param alpha the L2 energy regulariser's coefficient (0: none)
   */
  public static Loss contrastive(Ops tf, Energy energy, Operand<TFloating> positives, Operand<TFloating> negatives,
      Operand<TFloating> weights, double alpha) {
    if (!(alpha >= 0) || !Double.isFinite(alpha)) {
      throw new IllegalArgumentException("the energy regulariser alpha must be non-negative and finite, got " + alpha);
    }
    Class<TFloating> dt = positives.type();
    Operand<TFloating> xNeg = tf.stopGradient(negatives);
    Operand<TFloating> w = weights == null ? null : tf.stopGradient(weights);
    Operand<TFloating> uPos = energy.apply(tf, positives);
    Operand<TFloating> uNeg = energy.apply(tf, xNeg);
    Operand<TFloating> ePos = Tensors.mean(tf, uPos, 0);
    Operand<TFloating> eNeg = w == null ? Tensors.mean(tf, uNeg, 0) : weightedMean(tf, uNeg, w);
    Operand<TFloating> loss = tf.math.sub(ePos, eNeg);
    if (alpha > 0) {
      Operand<TFloating> sqPos = Tensors.mean(tf, tf.math.square(uPos), 0);
      Operand<TFloating> sqNeg = w == null ? Tensors.mean(tf, tf.math.square(uNeg), 0)
          : weightedMean(tf, tf.math.square(uNeg), w);
      loss = tf.math.add(loss, tf.math.mul(Tensors.constant(tf, dt, alpha), tf.math.add(sqPos, sqNeg)));
    }
    return new Loss(loss, ePos, eNeg, xNeg, w);
  }

  /**
   * Contrastive divergence CD-k (Hinton 2002): the negatives are {@code k} steps of {@code kernel} started at the data
   * batch itself (step i drawing from seed + [0, i + 1], see {@link McmcKernel#unroll}).
   */
  public static Loss contrastiveDivergence(Ops tf, Energy energy, McmcKernel kernel, Operand<TFloating> data,
      Operand<TInt64> seed, int k, double alpha) {
    McmcKernel.Move move = kernel.unroll(tf, energy, tf.stopGradient(data), seed, k);
    return contrastive(tf, energy, data, move.x(), alpha);
  }

  /**
   * Maximum likelihood with exact negatives: {@code proposals} rejection-sampling candidates of p_theta on the
   * sampler's box, drawn in the graph at every step, enter the loss through the masked mean over the accepted ones
   * (a ratio estimate of E_theta, consistent as the number of candidates grows). The sampler's bound must hold for
   * every theta the training visits: a violation fails the run.
   */
  public static Loss exact(Ops tf, Energy energy, RejectionSampler sampler, Operand<TFloating> positives,
      int proposals, Operand<TInt64> seed, double alpha) {
    RejectionSampler.Proposals p = sampler.propose(tf, energy, proposals, seed, positives.type());
    return contrastive(tf, energy, positives, p.candidates(), p.accepted(), alpha);
  }

  /** sum_j w_j v_j / sum_j w_j, or 0 when the weights sum to 0: [M] values -> scalar. */
  static Operand<TFloating> weightedMean(Ops tf, Operand<TFloating> v, Operand<TFloating> w) {
    return tf.math.divNoNan(Tensors.sum(tf, tf.math.mul(w, v), 0), Tensors.sum(tf, w, 0));
  }
}
