package dev.genzoo.graphs.train;

/** Training produced a NaN or infinite loss; the message says at which step and where the last good checkpoint is. */
public final class TrainingDivergedException extends RuntimeException {
  private final long step;

  public TrainingDivergedException(String message, long step) {
    super(message);
    this.step = step;
  }

  /** The step whose loss was not finite. */
  public long step() {
    return step;
  }
}
