package dev.genzoo.data;

/**
 * Training batches as a pure function of the step: {@code batch(step, n)} returns the same examples, the same
 * augmentations and the same noise every time it is called with the same arguments. This is what makes
 * {@code --resume} continue exactly where a run stopped: nothing about the data stream lives outside the step number.
 */
public interface BatchSource {
  /** Shape of one example, e.g. {32, 32, 3} for CIFAR-10 or {2} for a 2-D toy. */
  long[] exampleShape();

  /** The batch used at training step {@code step}. */
  Batch batch(long step, int batchSize);

  /** A short description for logs and provenance, e.g. "toy:8gaussians" or "mnist:/data/mnist (train, 60000)". */
  String describe();
}
