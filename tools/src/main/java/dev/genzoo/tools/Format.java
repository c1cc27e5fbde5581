package dev.genzoo.tools;

/** Human-readable numbers. */
final class Format {
  private Format() {}

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format("%.1f KiB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format("%.1f MiB", n / 1048576.0);
    }
    return String.format("%.2f GiB", n / 1073741824.0);
  }

  /** 44152272 -> "44.15M (44,152,272)". */
  static String count(long n) {
    String exact = String.format("%,d", n);
    if (n >= 1_000_000) {
      return String.format("%.2fM (%s)", n / 1e6, exact);
    }
    if (n >= 1_000) {
      return String.format("%.1fk (%s)", n / 1e3, exact);
    }
    return exact;
  }
}
