package dev.genzoo.data;

import java.util.SplittableRandom;

/** {@code toy:rings}: four rings with truncated-Gaussian radii; see {@link Toys} for the density. */
final class Rings implements ToyDistribution {
  static final double[] RADII = {0.5, 1.0, 1.5, 2.0};
  static final double STD = 0.08;
  /** Φ(R_k / σ): the mass of each untruncated radial Gaussian above 0, which the truncated one is divided by. */
  private static final double[] MASS_ABOVE_ZERO = new double[RADII.length];

  static {
    for (int k = 0; k < RADII.length; k++) {
      MASS_ABOVE_ZERO[k] = NormalDistribution.cdf(RADII[k] / STD);
    }
  }

  @Override
  public String name() {
    return "rings";
  }

  @Override
  public int dim() {
    return 2;
  }

  @Override
  public float[] sample(SplittableRandom rng, int n) {
    float[] out = new float[2 * n];
    for (int i = 0; i < n; i++) {
      double mean = RADII[rng.nextInt(RADII.length)];
      double r;
      do {
        r = mean + STD * rng.nextGaussian(); // rejection: exactly the Gaussian truncated to r > 0
      } while (r <= 0);
      double angle = 2 * Math.PI * rng.nextDouble();
      out[2 * i] = (float) (r * Math.cos(angle));
      out[2 * i + 1] = (float) (r * Math.sin(angle));
    }
    return out;
  }

  /** The density of the radius, {@code (1/4) Σ_k φ((r - R_k)/σ) / (σ Φ(R_k/σ))} for r > 0, else 0. */
  static double radialDensity(double r) {
    if (r <= 0) {
      return 0;
    }
    double p = 0;
    for (int k = 0; k < RADII.length; k++) {
      p += Math.exp(NormalDistribution.logPdf((r - RADII[k]) / STD)) / (STD * MASS_ABOVE_ZERO[k]);
    }
    return p / RADII.length;
  }

  /** P(radius <= r), the distribution function of {@link #radialDensity}. */
  static double radialCdf(double r) {
    if (r <= 0) {
      return 0;
    }
    double c = 0;
    for (int k = 0; k < RADII.length; k++) {
      double below = NormalDistribution.cdf(-RADII[k] / STD);
      c += (NormalDistribution.cdf((r - RADII[k]) / STD) - below) / MASS_ABOVE_ZERO[k];
    }
    return c / RADII.length;
  }

  @Override
  public boolean hasDensity() {
    return true;
  }

  @Override
  public double logDensity(double[] point) {
    ToyChecks.checkDim(this, point);
    double r = Math.hypot(point[0], point[1]);
    if (r == 0) {
      return Double.POSITIVE_INFINITY; // the 1/r singularity of a radially symmetric density at the origin
    }
    return Math.log(radialDensity(r)) - Math.log(2 * Math.PI * r);
  }
}
