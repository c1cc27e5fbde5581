package dev.genzoo.graphs.ebm;

/**
 * Monte Carlo standard errors of an MCMC run's mean and covariance from its independent parallel chains: each chain's
 * time average of a statistic is one independent draw (whatever the autocorrelation within the chain), so the
 * standard error of the grand mean is the spread of the chain averages over sqrt(N). With chains started in strata
 * (a mixture's components), the stratified form SE^2 = sum_k n_k s_k^2 / N^2 is used, s_k^2 the variance of the
 * chain averages within stratum k.
 */
final class ChainStats {
  final double[] seMean;
  final double[] seCov;

  /**
   * @param run a run that kept its samples
   * @param mu the true mean, about which the second moments are taken
   * @param stratum each chain's stratum, or null for one
   */
  ChainStats(McmcChain.Run run, double[] mu, int[] stratum) {
    int n = run.chains();
    int d = run.dim();
    int draws = run.draws();
    double[] s = run.samples();
    // Per-chain averages of x_a and of (x_a - mu_a)(x_b - mu_b).
    double[][] first = new double[d][n];
    double[][] second = new double[d * d][n];
    for (int t = 0; t < draws; t++) {
      for (int i = 0; i < n; i++) {
        int off = (t * n + i) * d;
        for (int a = 0; a < d; a++) {
          first[a][i] += s[off + a] / draws;
          for (int b = 0; b < d; b++) {
            second[a * d + b][i] += (s[off + a] - mu[a]) * (s[off + b] - mu[b]) / draws;
          }
        }
      }
    }
    int[] strata = stratum == null ? new int[n] : stratum;
    seMean = new double[d];
    seCov = new double[d * d];
    for (int a = 0; a < d; a++) {
      seMean[a] = stratifiedSe(first[a], strata);
    }
    for (int k = 0; k < d * d; k++) {
      seCov[k] = stratifiedSe(second[k], strata);
    }
  }

  static double stratifiedSe(double[] perChain, int[] stratum) {
    int groups = 0;
    for (int g : stratum) {
      groups = Math.max(groups, g + 1);
    }
    double[] sum = new double[groups];
    int[] count = new int[groups];
    for (int i = 0; i < perChain.length; i++) {
      sum[stratum[i]] += perChain[i];
      count[stratum[i]]++;
    }
    double[] ss = new double[groups];
    for (int i = 0; i < perChain.length; i++) {
      double dev = perChain[i] - sum[stratum[i]] / count[stratum[i]];
      ss[stratum[i]] += dev * dev;
    }
    double var = 0;
    for (int g = 0; g < groups; g++) {
      if (count[g] > 1) {
        var += count[g] * (ss[g] / (count[g] - 1));
      }
    }
    return Math.sqrt(var) / perChain.length;
  }
}
