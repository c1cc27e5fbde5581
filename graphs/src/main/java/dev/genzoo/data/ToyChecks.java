package dev.genzoo.data;

/** Small checks shared by the toys. */
final class ToyChecks {
  private ToyChecks() {}

  static void checkDim(ToyDistribution toy, double[] point) {
    if (point.length != toy.dim()) {
      throw new IllegalArgumentException("toy:" + toy.name() + " is " + toy.dim() + "-dimensional, got a point with "
          + point.length + " coordinates");
    }
  }
}
