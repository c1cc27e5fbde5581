package dev.genzoo.data;

import java.util.SplittableRandom;

/** {@code toy:bimodal}: 0.2 N(-10, 1) + 0.8 N(10, 1); see {@link Toys}. */
final class Bimodal implements ToyDistribution {
  static final double A = -10;
  static final double B = 10;
  /** q*, the weight of the mode at B. */
  static final double WEIGHT_B = 0.8;

  @Override
  public String name() {
    return "bimodal";
  }

  @Override
  public int dim() {
    return 1;
  }

  @Override
  public float[] sample(SplittableRandom rng, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      double mode = rng.nextDouble() < WEIGHT_B ? B : A;
      out[i] = (float) (mode + rng.nextGaussian());
    }
    return out;
  }

  @Override
  public boolean hasDensity() {
    return true;
  }

  @Override
  public double logDensity(double[] point) {
    ToyChecks.checkDim(this, point);
    double x = point[0];
    return NormalDistribution.logSumExp(new double[] {
        Math.log(1 - WEIGHT_B) + NormalDistribution.logPdf(x - A),
        Math.log(WEIGHT_B) + NormalDistribution.logPdf(x - B)});
  }
}
