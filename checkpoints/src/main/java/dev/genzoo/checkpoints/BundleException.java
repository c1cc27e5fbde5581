package dev.genzoo.checkpoints;

import java.io.IOException;

/**
 * A genzoo bundle (folder, {@code model.json} or {@code .tar.gz}) that cannot be used: a malformed manifest, a file
 * whose size or checksum differs from the manifest, an unsafe or corrupt archive. The message names the file or the
 * archive entry and says what is wrong.
 */
public final class BundleException extends IOException {
  private static final long serialVersionUID = 1L;

  public BundleException(String message) {
    super(message);
  }

  public BundleException(String message, Throwable cause) {
    super(message, cause);
  }
}
