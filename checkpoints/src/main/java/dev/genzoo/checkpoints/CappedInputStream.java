package dev.genzoo.checkpoints;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongFunction;

/**
 * A stream that fails once more than {@code cap} bytes were read from it, so that a decompressing archive reader
 * cannot be made to skip or parse unbounded data (a tar entry with a huge size, a huge PAX record, a zip bomb).
 * Skipping reads, so every byte is counted and a gzip trailer's CRC is still checked.
 */
public final class CappedInputStream extends FilterInputStream {
  private static final int BUFFER = 1 << 16;
  private final long cap;
  private final LongFunction<IOException> overflow;
  private long count;

  /**
   * @param overflow the error to throw, given the cap, once more than {@code cap} bytes were read (it should name
   *     the archive)
   */
  public CappedInputStream(InputStream in, long cap, LongFunction<IOException> overflow) {
    super(in);
    this.cap = cap;
    this.overflow = overflow;
  }

  /**
   * The most decompressed bytes an archive within {@code limits} can need: the file data plus, per entry, its
   * 512-byte header and room for PAX or long-name records, plus the end-of-archive blocks and padding.
   */
  public static long capFor(UnpackLimits limits) {
    long perEntry = 64L << 10;
    return limits.maxTotalBytes() + limits.maxEntries() * perEntry + (1L << 20);
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      add(1);
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    if (n > 0) {
      add(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buffer = new byte[(int) Math.min(n, BUFFER)];
    int read = read(buffer, 0, buffer.length);
    return Math.max(read, 0);
  }

  private void add(int n) throws IOException {
    count += n;
    if (count > cap) {
      throw overflow.apply(cap);
    }
  }
}
