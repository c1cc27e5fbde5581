package dev.genzoo.graphs.ddpm;

/**
 * The reverse-process variance sigma_t^2 of p(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I), fixed rather than
 * learned, as in Ho et al. 2020 (section 3.2): both choices give similar sample quality; they are the two extremes of
 * the reverse variance (Sohl-Dickstein et al. 2015).
 */
public enum VarianceType {
  /**
   * sigma_t^2 = beta_t: optimal for x_0 ~ N(0, I) (Ho et al. report it for their CIFAR-10 samples). In the
   * discretised decoder at t = 1 the DDPM code uses the posterior variance of t = 2 instead (log of 0 is avoided and
   * the decoder likelihood improves); genzoo does the same there, and only there.
   */
  FIXED_LARGE,
  /** sigma_t^2 = beta~_t = (1 - alphaBar_{t-1}) / (1 - alphaBar_t) beta_t: optimal for x_0 deterministic. */
  FIXED_SMALL
}
