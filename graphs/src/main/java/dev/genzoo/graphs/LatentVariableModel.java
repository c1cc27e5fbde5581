package dev.genzoo.graphs;

import dev.genzoo.data.Batch;

/**
 * A generative model with latent variables whose likelihood is bounded from below: the evidence lower bound and the
 * importance-weighted bound of Burda, Grosse & Salakhutdinov 2016, log (1/k sum_i p(x, z_i) / q(z_i | x)), which rises
 * towards log p(x) as k grows. {@link #logProb} is the ELBO; evaluations report both bounds.
 */
public interface LatentVariableModel extends GenerativeModel {
  /**
   * Both bounds per example, in nats, for the examples as {@link #logProb} takes them.
   *
   * @param elbo the ELBO, averaged over the k posterior draws
   * @param importanceWeighted the k-sample importance-weighted bound (from the same draws)
   * @param k the number of draws
   */
  record Bounds(double[] elbo, double[] importanceWeighted, int k) {}

  /** The ELBO and the k-sample importance-weighted bound of each example, from draws seeded by {@code seed}. */
  Bounds bounds(Batch batch, int k, long seed);

  /** The k that evaluations use unless told otherwise (the family's protocol). */
  int defaultImportanceSamples();
}
