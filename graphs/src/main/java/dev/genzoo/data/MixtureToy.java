package dev.genzoo.data;

/**
 * A toy that is an equal-weight mixture of isotropic Gaussians ({@code toy:8gaussians}): its mode centres and their
 * common standard deviation, which sample-based checks of mode coverage ({@link ModeCoverage}) need.
 */
public interface MixtureToy extends ToyDistribution {
  /** The component means, [K][dim]. */
  double[][] modeCentres();

  /** The per-coordinate standard deviation of every component. */
  double modeStd();
}
