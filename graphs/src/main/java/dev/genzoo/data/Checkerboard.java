package dev.genzoo.data;

import java.util.SplittableRandom;

/** {@code toy:checkerboard}: uniform on the eight black unit squares of [-2, 2)²; see {@link Toys}. */
final class Checkerboard implements ToyDistribution {
  static final double HALF_WIDTH = 2.0;
  static final double DENSITY = 1.0 / 8;

  @Override
  public String name() {
    return "checkerboard";
  }

  @Override
  public int dim() {
    return 2;
  }

  @Override
  public float[] sample(SplittableRandom rng, int n) {
    float[] out = new float[2 * n];
    for (int i = 0; i < n; i++) {
      int column = rng.nextInt(4) - 2;
      // Rows -2..1; the black ones have column + row even: two of the four.
      int row = Math.floorMod(column, 2) + 2 * rng.nextInt(2) - 2;
      out[2 * i] = inSquare(column, rng.nextDouble());
      out[2 * i + 1] = inSquare(row, rng.nextDouble());
    }
    return out;
  }

  /** {@code lo + u} as a float that stays in [lo, lo + 1) (rounding to float could reach lo + 1). */
  private static float inSquare(int lo, double u) {
    float v = (float) (lo + u);
    return v < lo + 1 ? v : Math.nextDown((float) (lo + 1));
  }

  @Override
  public boolean hasDensity() {
    return true;
  }

  @Override
  public double logDensity(double[] point) {
    ToyChecks.checkDim(this, point);
    double x = point[0];
    double y = point[1];
    if (!(x >= -HALF_WIDTH && x < HALF_WIDTH && y >= -HALF_WIDTH && y < HALF_WIDTH)) {
      return Double.NEGATIVE_INFINITY;
    }
    long sum = (long) Math.floor(x) + (long) Math.floor(y);
    return Math.floorMod(sum, 2) == 0 ? Math.log(DENSITY) : Double.NEGATIVE_INFINITY;
  }
}
