package dev.genzoo.checkpoints.convert;

/** An upstream checkpoint that does not fit the genzoo model: the message names the tensors and variables. */
public final class ConversionException extends IllegalArgumentException {
  private final transient ConversionReport report;

  public ConversionException(String message, ConversionReport report) {
    super(message);
    this.report = report;
  }

  /** What mapped and what did not, as far as the conversion got. */
  public ConversionReport report() {
    return report;
  }
}
