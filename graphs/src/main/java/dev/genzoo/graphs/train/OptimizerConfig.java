package dev.genzoo.graphs.train;

/**
 * An optimiser and its hyper-parameters. {@code ADAM} (Kingma & Ba 2015), {@code ADAMAX} (the infinity-norm variant of
 * the same paper, used by Glow and NVAE), {@code SGD} (with momentum; 0 for plain SGD).
 *
 * @param name the algorithm
 * @param learningRate the base learning rate (before warm-up and decay)
 * @param beta1 first-moment decay (Adam, Adamax) or momentum (SGD)
 * @param beta2 second-moment decay (Adam) or infinity-norm decay (Adamax)
 * @param epsilon numerical stabiliser
 */
public record OptimizerConfig(Name name, double learningRate, double beta1, double beta2, double epsilon) {
  public enum Name { ADAM, ADAMAX, SGD }

  public OptimizerConfig {
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("optimizer.learningRate must be positive, got " + learningRate);
    }
    if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) {
      throw new IllegalArgumentException("optimizer.beta1 and optimizer.beta2 must lie in [0, 1), got " + beta1 + ", "
          + beta2);
    }
  }

  public static OptimizerConfig adam(double lr) {
    return new OptimizerConfig(Name.ADAM, lr, 0.9, 0.999, 1e-8);
  }

  public static OptimizerConfig adam(double lr, double beta1, double beta2) {
    return new OptimizerConfig(Name.ADAM, lr, beta1, beta2, 1e-8);
  }

  public static OptimizerConfig adamax(double lr) {
    return new OptimizerConfig(Name.ADAMAX, lr, 0.9, 0.999, 1e-8);
  }

  public OptimizerConfig withLearningRate(double lr) {
    return new OptimizerConfig(name, lr, beta1, beta2, epsilon);
  }
}
