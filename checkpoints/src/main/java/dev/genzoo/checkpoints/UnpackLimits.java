package dev.genzoo.checkpoints;

/**
 * Bounds on what {@link Bundles#unpack} will extract from an archive, so that a hostile or broken {@code .tar.gz}
 * (a "zip bomb", millions of tiny entries) fails with a clear error instead of filling the disk. Sizes are the
 * uncompressed sizes declared in the tar headers, which the extraction also enforces while copying.
 *
 * @param maxEntryBytes the largest single file, in bytes
 * @param maxTotalBytes the largest sum of all file sizes, in bytes
 * @param maxEntries the most entries (files and folders) in the archive
 */
public record UnpackLimits(long maxEntryBytes, long maxTotalBytes, int maxEntries) {
  /** 2 GiB per file, 8 GiB in all, 1000 entries: far above any bundle genzoo writes (a handful of files). */
  public static final UnpackLimits DEFAULT = new UnpackLimits(2L << 30, 8L << 30, 1000);

  public UnpackLimits {
    if (maxEntryBytes <= 0) {
      throw new IllegalArgumentException("maxEntryBytes must be positive, got " + maxEntryBytes);
    }
    if (maxTotalBytes <= 0) {
      throw new IllegalArgumentException("maxTotalBytes must be positive, got " + maxTotalBytes);
    }
    if (maxEntries <= 0) {
      throw new IllegalArgumentException("maxEntries must be positive, got " + maxEntries);
    }
  }
}
