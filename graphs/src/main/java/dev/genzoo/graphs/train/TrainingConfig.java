package dev.genzoo.graphs.train;

/**
 * The training hyper-parameters every family shares. A family's config holds one of these under {@code training}.
 *
 * @param batchSize examples per optimiser step
 * @param steps total optimiser steps of a run (the learning-rate schedule is laid out over these)
 * @param optimizer the optimiser
 * @param warmupSteps linear learning-rate warm-up from 0 over this many steps (0: none)
 * @param decay learning-rate decay after warm-up
 * @param finalLearningRate the learning rate reached at the last step by a COSINE or LINEAR decay
 * @param gradClipNorm clip the global gradient norm to this value (0: no clipping)
 * @param emaDecay decay of the exponential moving average of the weights, "Polyak averaging" (0: none); sample grids
 *     and exported bundles use the averaged weights
 * @param weightDecay L2 penalty coefficient on kernels, added to the loss (0: none)
 * @param initBatchSize examples for data-dependent initialisation (0: none)
 * @param dequantize add uniform noise to 8-bit images (needed for continuous likelihoods)
 * @param randomFlip random horizontal flips of images
 */
public record TrainingConfig(int batchSize, long steps, OptimizerConfig optimizer, long warmupSteps, Decay decay,
    double finalLearningRate, double gradClipNorm, double emaDecay, double weightDecay, int initBatchSize,
    boolean dequantize, boolean randomFlip) {

  /** Learning-rate decay after warm-up. */
  public enum Decay { NONE, COSINE, LINEAR }

  public TrainingConfig {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("training.batchSize must be positive, got " + batchSize);
    }
    if (steps < 0) {
      throw new IllegalArgumentException("training.steps must not be negative, got " + steps);
    }
    if (emaDecay < 0 || emaDecay >= 1) {
      throw new IllegalArgumentException("training.emaDecay must lie in [0, 1), got " + emaDecay);
    }
    if (gradClipNorm < 0 || weightDecay < 0 || warmupSteps < 0 || initBatchSize < 0) {
      throw new IllegalArgumentException("training.gradClipNorm, weightDecay, warmupSteps and initBatchSize must not "
          + "be negative");
    }
  }

  public TrainingConfig withSteps(long newSteps) {
    return new TrainingConfig(batchSize, newSteps, optimizer, warmupSteps, decay, finalLearningRate, gradClipNorm,
        emaDecay, weightDecay, initBatchSize, dequantize, randomFlip);
  }

  /** One line for people ({@code genzoo info}): optimiser, learning rate, batch, steps and what else is switched on. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(optimizer.name()).append(" lr ").append(optimizer.learningRate()).append(", batch ").append(batchSize)
        .append(", steps ").append(steps);
    if (warmupSteps > 0) {
      sb.append(", warm-up ").append(warmupSteps);
    }
    if (decay != null && decay != Decay.NONE) {
      sb.append(", ").append(decay.name().toLowerCase()).append(" decay to ").append(finalLearningRate);
    }
    if (gradClipNorm > 0) {
      sb.append(", clip ").append(gradClipNorm);
    }
    if (weightDecay > 0) {
      sb.append(", L2 ").append(weightDecay);
    }
    if (emaDecay > 0) {
      sb.append(", EMA ").append(emaDecay);
    }
    if (randomFlip) {
      sb.append(", random flips");
    }
    return sb.toString();
  }
}
