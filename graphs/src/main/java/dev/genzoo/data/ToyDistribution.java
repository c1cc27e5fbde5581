package dev.genzoo.data;

import java.util.SplittableRandom;

/**
 * A low-dimensional distribution to sample from and, where one exists, to evaluate the density of: the 2-D toys of
 * the flow and score-matching literature and the seeds' 1-D two-mode mixture. See {@link Toys} for the exact
 * definitions.
 */
public interface ToyDistribution {
  /** The name used in data specs, e.g. {@code "8gaussians"} for {@code toy:8gaussians}. */
  String name();

  /** Dimension of one sample. */
  int dim();

  /** {@code n} independent samples, row-major ({@code n * dim()} values); a function of the generator's state. */
  float[] sample(SplittableRandom rng, int n);

  /** Whether {@link #logDensity(double[])} is available. */
  boolean hasDensity();

  /**
   * The natural log of the exact density at {@code point} (length {@link #dim()}), in nats; {@code -Infinity}
   * outside the support.
   *
   * @throws UnsupportedOperationException when the distribution has no analytic density
   */
  double logDensity(double[] point);
}
