package dev.genzoo.graphs;

/**
 * How to sample.
 *
 * @param seed the random seed: the same seed gives the same samples
 * @param temperature scale of the prior noise (flows, NVAE); 1 is the model, lower trades diversity for fidelity
 * @param sampler a family-specific sampler name (e.g. "ancestral", "ddim", "langevin"); null for the default
 * @param steps sampler steps where the sampler has a number of them (0 for the default)
 * @param batchSize largest number of samples drawn in one Session.run (0 for the family default)
 * @param guidance classifier-free guidance weight for class-conditional models (NaN for the model's default)
 * @param label the class of every sample for class-conditional models (-1: cycle through the classes)
 */
public record SampleOptions(long seed, double temperature, String sampler, int steps, int batchSize, double guidance,
    int label) {
  public SampleOptions {
    if (!(temperature >= 0)) {
      throw new IllegalArgumentException("--temperature must be >= 0, got " + temperature);
    }
    if (steps < 0) {
      throw new IllegalArgumentException("--steps must be >= 0, got " + steps);
    }
    if (label < -1) {
      throw new IllegalArgumentException("--label must be a class index or -1, got " + label);
    }
  }

  public SampleOptions(long seed, double temperature, String sampler, int steps, int batchSize) {
    this(seed, temperature, sampler, steps, batchSize, Double.NaN, -1);
  }

  public static SampleOptions defaults() {
    return new SampleOptions(0, 1.0, null, 0, 0);
  }

  public static SampleOptions seed(long seed) {
    return new SampleOptions(seed, 1.0, null, 0, 0);
  }

  public SampleOptions withTemperature(double t) {
    return new SampleOptions(seed, t, sampler, steps, batchSize, guidance, label);
  }

  public SampleOptions withSampler(String name, int count) {
    return new SampleOptions(seed, temperature, name, count, batchSize, guidance, label);
  }

  public SampleOptions withGuidance(double w, int classLabel) {
    return new SampleOptions(seed, temperature, sampler, steps, batchSize, w, classLabel);
  }
}
