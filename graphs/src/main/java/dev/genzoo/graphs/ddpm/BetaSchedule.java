package dev.genzoo.graphs.ddpm;

/**
 * Named noise schedules beta_1..beta_T of the forward process q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I).
 * A schedule, once named and committed, never changes: every checkpoint trained with it depends on its exact values.
 */
public enum BetaSchedule {
  /**
   * Ho et al. 2020 ("Denoising Diffusion Probabilistic Models", section 4): betas evenly spaced from
   * {@code betaStart} (1e-4) to {@code betaEnd} (0.02), {@code numpy.linspace} in double precision.
   */
  LINEAR,
  /**
   * Nichol & Dhariwal 2021 ("Improved Denoising Diffusion Probabilistic Models", eq. 17): alphaBar(t) =
   * cos^2(((t / T) + s) / (1 + s) * pi / 2) with s = 0.008, beta_t = min(1 - alphaBar(t + 1) / alphaBar(t), 0.999).
   * {@code betaStart}/{@code betaEnd} are ignored.
   */
  COSINE;

  /** The offset s of the cosine schedule. */
  public static final double COSINE_S = 0.008;
  /** The cap on the cosine schedule's betas, which keeps the last steps from being singular. */
  public static final double COSINE_MAX_BETA = 0.999;

  /** beta_t for t = 0..T-1 (index t is the paper's t + 1). */
  public double[] betas(int timesteps, double betaStart, double betaEnd) {
    if (timesteps < 2) {
      throw new IllegalArgumentException("diffusion.timesteps must be at least 2, got " + timesteps);
    }
    double[] b = new double[timesteps];
    switch (this) {
      case LINEAR -> {
        if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
          throw new IllegalArgumentException("diffusion.betaStart and betaEnd must satisfy 0 < start <= end < 1, got "
              + betaStart + " and " + betaEnd);
        }
        double step = (betaEnd - betaStart) / (timesteps - 1);
        for (int t = 0; t < timesteps; t++) {
          b[t] = betaStart + t * step;
        }
        b[timesteps - 1] = betaEnd;
      }
      case COSINE -> {
        for (int t = 0; t < timesteps; t++) {
          b[t] = Math.min(1 - cosineAlphaBar((t + 1.0) / timesteps) / cosineAlphaBar((double) t / timesteps),
              COSINE_MAX_BETA);
        }
      }
    }
    return b;
  }

  private static double cosineAlphaBar(double u) {
    double c = Math.cos((u + COSINE_S) / (1 + COSINE_S) * Math.PI / 2);
    return c * c;
  }
}
