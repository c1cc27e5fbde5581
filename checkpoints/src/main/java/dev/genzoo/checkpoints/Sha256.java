package dev.genzoo.checkpoints;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 digests (FIPS 180-4) as lower-case hex, computed by streaming so that a file of any size is hashed in a
 * fixed amount of memory.
 */
public final class Sha256 {
  private static final int BUFFER = 1 << 16;
  private static final HexFormat HEX = HexFormat.of();

  private Sha256() {}

  /** The hex SHA-256 of the bytes of {@code file}. */
  public static String hex(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return hex(in);
    }
  }

  /** The hex SHA-256 of everything {@code in} yields up to its end; the stream is read but not closed. */
  public static String hex(InputStream in) throws IOException {
    MessageDigest digest = newDigest();
    byte[] buffer = new byte[BUFFER];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      digest.update(buffer, 0, n);
    }
    return hex(digest);
  }

  /** The hex SHA-256 of {@code bytes}. */
  public static String hex(byte[] bytes) {
    return HEX.formatHex(newDigest().digest(bytes));
  }

  /** True for a well-formed digest as this class writes it: exactly 64 lower-case hex digits. */
  public static boolean isHex(String text) {
    if (text == null || text.length() != 64) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /** A fresh SHA-256 {@link MessageDigest}; every Java platform is required to provide one. */
  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this Java runtime has no SHA-256", e);
    }
  }

  /** Completes {@code digest} and returns it as hex. */
  static String hex(MessageDigest digest) {
    return HEX.formatHex(digest.digest());
  }
}
