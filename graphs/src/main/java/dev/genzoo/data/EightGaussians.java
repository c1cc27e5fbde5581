package dev.genzoo.data;

import java.util.SplittableRandom;

/** {@code toy:8gaussians}; see {@link Toys}. */
final class EightGaussians implements MixtureToy {
  static final double RADIUS = 2.0;
  static final double STD = 0.2;
  static final int COMPONENTS = 8;

  @Override
  public String name() {
    return "8gaussians";
  }

  @Override
  public int dim() {
    return 2;
  }

  @Override
  public float[] sample(SplittableRandom rng, int n) {
    float[] out = new float[2 * n];
    for (int i = 0; i < n; i++) {
      double angle = rng.nextInt(COMPONENTS) * Math.PI / 4;
      out[2 * i] = (float) (RADIUS * Math.cos(angle) + STD * rng.nextGaussian());
      out[2 * i + 1] = (float) (RADIUS * Math.sin(angle) + STD * rng.nextGaussian());
    }
    return out;
  }

  @Override
  public double[][] modeCentres() {
    double[][] c = new double[COMPONENTS][];
    for (int k = 0; k < COMPONENTS; k++) {
      c[k] = new double[] {RADIUS * Math.cos(k * Math.PI / 4), RADIUS * Math.sin(k * Math.PI / 4)};
    }
    return c;
  }

  @Override
  public double modeStd() {
    return STD;
  }

  @Override
  public boolean hasDensity() {
    return true;
  }

  @Override
  public double logDensity(double[] point) {
    ToyChecks.checkDim(this, point);
    double[] terms = new double[COMPONENTS];
    double logNorm = -Math.log(COMPONENTS) - Math.log(2 * Math.PI * STD * STD);
    for (int k = 0; k < COMPONENTS; k++) {
      double dx = point[0] - RADIUS * Math.cos(k * Math.PI / 4);
      double dy = point[1] - RADIUS * Math.sin(k * Math.PI / 4);
      terms[k] = logNorm - (dx * dx + dy * dy) / (2 * STD * STD);
    }
    return NormalDistribution.logSumExp(terms);
  }
}
