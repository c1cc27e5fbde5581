package dev.genzoo.data;

import java.util.SplittableRandom;

/** {@code toy:moons}; see {@link Toys} for the exact construction and affine map. */
final class Moons implements ToyDistribution {
  static final double NOISE = 0.1;
  static final double SCALE = 4.0 / 3.0;
  static final double SHIFT_X = 0.5;
  static final double SHIFT_Y = 0.25;

  @Override
  public String name() {
    return "moons";
  }

  @Override
  public int dim() {
    return 2;
  }

  @Override
  public float[] sample(SplittableRandom rng, int n) {
    float[] out = new float[2 * n];
    for (int i = 0; i < n; i++) {
      boolean upper = rng.nextBoolean();
      double t = Math.PI * rng.nextDouble();
      double x = upper ? Math.cos(t) : 1 - Math.cos(t);
      double y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
      x += NOISE * rng.nextGaussian();
      y += NOISE * rng.nextGaussian();
      out[2 * i] = (float) (SCALE * (x - SHIFT_X));
      out[2 * i + 1] = (float) (SCALE * (y - SHIFT_Y));
    }
    return out;
  }

  @Override
  public boolean hasDensity() {
    return false;
  }

  @Override
  public double logDensity(double[] point) {
    throw new UnsupportedOperationException("toy:moons has no analytic density (a half-circle smoothed by Gaussian "
        + "noise); use a toy with one (8gaussians, bimodal, rings, checkerboard)");
  }
}
