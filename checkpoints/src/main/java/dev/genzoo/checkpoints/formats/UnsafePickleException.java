package dev.genzoo.checkpoints.formats;

import java.io.IOException;

/**
 * A pickle names a Python global outside genzoo's allow-list. Loading such a pickle in Python could run arbitrary code
 * ({@code os.system}, {@code builtins.eval}, {@code subprocess.Popen}, or any class whose {@code __reduce__} does), so
 * {@link Unpickler} stops at the reference, before anything else in the pickle is looked at. Nothing is ever executed.
 */
public final class UnsafePickleException extends IOException {
  private final String global;

  /**
   * @param source the file (and zip entry) being read, for the message
   * @param global the dotted name the pickle references, e.g. {@code os.system}
   * @param hint an extra sentence for the message, or an empty string
   */
  public UnsafePickleException(String source, String global, String hint) {
    super(source + " references " + global + ", which genzoo never loads (pickles can run code); allowed: "
        + Unpickler.ALLOWED_SUMMARY + (hint.isEmpty() ? "" : ". " + hint));
    this.global = global;
  }

  /** The refused global as {@code module.name}, e.g. {@code os.system}. */
  public String global() {
    return global;
  }
}
