package dev.genzoo.checkpoints.formats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The LevelDB sorted-string table that TensorFlow uses for a tensor bundle's {@code .index} file
 * (tensorflow/core/lib/io/table*, after LevelDB's doc/table_format.md): data blocks of prefix-compressed key/value
 * entries with a restart array, each followed by a 5-byte trailer (compression type, masked CRC32C of the block and
 * the type byte); a metaindex block; an index block whose values are the data blocks' handles; and a 48-byte footer
 * (the metaindex and index handles as varint64 pairs padded to 40 bytes, then the magic number).
 */
final class LevelDbTable {
  /** The table magic, {@code kTableMagicNumber}, stored little-endian in the last 8 bytes. */
  static final long MAGIC = 0xdb4775248b80fb57L;
  static final int FOOTER_LENGTH = 48;
  static final int TRAILER_LENGTH = 5;
  private static final int HANDLES_LENGTH = 40;
  private static final int MASK_DELTA = 0xa282ead8;

  private LevelDbTable() {}

  /** One key/value pair of the table. */
  record Entry(byte[] key, byte[] value) {}

  /** LevelDB's checksum masking: rotate right by 15 bits and add a constant. */
  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  /** Inverse of {@link #mask(int)}. */
  static int unmask(int masked) {
    int rot = masked - MASK_DELTA;
    return (rot >>> 17) | (rot << 15);
  }

  /** CRC32C (Castagnoli) of {@code b[off, off + len)}. */
  static int crc32c(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  // ---------------------------------------------------------------- reading

  /**
   * Every entry of the table held in {@code file}, in key order; {@code source} names the file in errors. Checks the
   * magic, the block handles, each block's checksum and layout, and that keys strictly increase.
   */
  static List<Entry> readAll(byte[] file, String source) throws IOException {
    if (file.length < FOOTER_LENGTH) {
      throw new IOException(source + ": truncated: " + file.length + " bytes, shorter than the " + FOOTER_LENGTH
          + "-byte table footer (not a complete TensorFlow checkpoint index)");
    }
    int footer = file.length - FOOTER_LENGTH;
    long magic = readFixed64(file, file.length - 8);
    if (magic != MAGIC) {
      throw new IOException(source + ": bad magic 0x" + Long.toHexString(magic) + " at the end of the file (expected 0x"
          + Long.toHexString(MAGIC) + "): not a TensorFlow checkpoint index (LevelDB table), or a truncated one");
    }
    Cursor c = new Cursor(file, footer, footer + HANDLES_LENGTH, source, "the footer");
    long[] metaindex = {c.varint64(), c.varint64()};
    long[] index = {c.varint64(), c.varint64()};
    checkHandle(metaindex, footer, source, "metaindex");
    byte[] indexBlock = block(file, index, footer, source, "index block");
    List<Entry> out = new ArrayList<>();
    byte[] lastKey = null;
    for (Entry handleEntry : entries(indexBlock, source, "index block")) {
      Cursor h = new Cursor(handleEntry.value(), 0, handleEntry.value().length, source, "a block handle");
      long[] handle = {h.varint64(), h.varint64()};
      byte[] data = block(file, handle, footer, source, "data block at offset " + handle[0]);
      for (Entry e : entries(data, source, "data block at offset " + handle[0])) {
        if (lastKey != null && Arrays.compareUnsigned(lastKey, e.key()) >= 0) {
          throw new IOException(source + ": keys out of order in the data block at offset " + handle[0]
              + " (corrupt file)");
        }
        lastKey = e.key();
        out.add(e);
      }
    }
    return out;
  }

  private static void checkHandle(long[] handle, int limit, String source, String what) throws IOException {
    if (handle[0] < 0 || handle[1] < 0 || handle[0] + handle[1] + TRAILER_LENGTH > limit) {
      throw new IOException(source + ": the " + what + " handle (offset " + handle[0] + ", size " + handle[1]
          + ") points past the end of the table (" + limit + " bytes before the footer): truncated or corrupt file");
    }
  }

  /** The contents of the block at {@code handle}, its trailer checked. */
  private static byte[] block(byte[] file, long[] handle, int limit, String source, String what) throws IOException {
    checkHandle(handle, limit, source, what);
    int off = (int) handle[0];
    int n = (int) handle[1];
    int type = file[off + n] & 0xff;
    int stored = (int) readFixed32(file, off + n + 1);
    int actual = crc32c(file, off, n + 1);
    if (unmask(stored) != actual) {
      throw new IOException(source + ": block checksum mismatch in the " + what + " (stored crc32c 0x"
          + Integer.toHexString(unmask(stored)) + ", computed 0x" + Integer.toHexString(actual) + "): corrupt file");
    }
    if (type == 1) {
      throw new IOException(source + ": the " + what + " is Snappy-compressed, which genzoo does not read "
          + "(TensorFlow writes checkpoint indexes uncompressed)");
    }
    if (type != 0) {
      throw new IOException(source + ": unknown block compression type " + type + " in the " + what);
    }
    return Arrays.copyOfRange(file, off, off + n);
  }

  /** The entries of one block, keys expanded from their shared prefixes. */
  static List<Entry> entries(byte[] block, String source, String what) throws IOException {
    if (block.length < 4) {
      throw new IOException(source + ": the " + what + " is " + block.length + " bytes, too short for a block");
    }
    long numRestarts = readFixed32(block, block.length - 4);
    long restartsAt = block.length - 4 - 4 * numRestarts;
    if (numRestarts < 1 || restartsAt < 0) {
      throw new IOException(source + ": bad restart count " + numRestarts + " in the " + what + " (corrupt file)");
    }
    int end = (int) restartsAt;
    long[] restarts = new long[(int) numRestarts];
    for (int i = 0; i < restarts.length; i++) {
      restarts[i] = readFixed32(block, end + 4 * i);
      if (restarts[i] > end || (restarts[i] == end && end > 0)) {
        throw new IOException(source + ": restart point " + restarts[i] + " out of range in the " + what);
      }
    }
    List<Entry> out = new ArrayList<>();
    Cursor c = new Cursor(block, 0, end, source, "the " + what);
    byte[] key = new byte[0];
    int r = 0;
    while (c.at < end) {
      int entryStart = c.at;
      int shared = c.varint32();
      int nonShared = c.varint32();
      int valueLength = c.varint32();
      boolean isRestart = r < restarts.length && restarts[r] == entryStart;
      if (isRestart) {
        r++;
      }
      if (shared > key.length || (isRestart && shared != 0) || (out.isEmpty() && shared != 0)) {
        throw new IOException(source + ": bad key prefix length " + shared + " at offset " + entryStart
            + " in the " + what + " (corrupt file)");
      }
      byte[] suffix = c.bytes(nonShared);
      byte[] value = c.bytes(valueLength);
      byte[] k = Arrays.copyOf(key, shared + nonShared);
      System.arraycopy(suffix, 0, k, shared, nonShared);
      key = k;
      out.add(new Entry(k, value));
    }
    if (r != restarts.length && !(out.isEmpty() && restarts.length == 1 && restarts[0] == 0)) {
      throw new IOException(source + ": restart points do not match the entries of the " + what + " (corrupt file)");
    }
    return out;
  }

  static long readFixed32(byte[] b, int at) {
    return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
  }

  static long readFixed64(byte[] b, int at) {
    return readFixed32(b, at) | readFixed32(b, at + 4) << 32;
  }

  /** Reads varints and byte runs from {@code b[at, end)}, failing with a message naming {@code what}. */
  private static final class Cursor {
    final byte[] b;
    final int end;
    final String source;
    final String what;
    int at;

    Cursor(byte[] b, int at, int end, String source, String what) {
      this.b = b;
      this.at = at;
      this.end = end;
      this.source = source;
      this.what = what;
    }

    long varint64() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (at >= end) {
          throw new IOException(source + ": truncated varint in " + what + " (corrupt file)");
        }
        int x = b[at++] & 0xff;
        v |= (long) (x & 0x7f) << shift;
        if (x < 0x80) {
          return v;
        }
      }
      throw new IOException(source + ": overlong varint in " + what + " (corrupt file)");
    }

    int varint32() throws IOException {
      long v = varint64();
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw new IOException(source + ": length " + v + " out of range in " + what + " (corrupt file)");
      }
      return (int) v;
    }

    byte[] bytes(int n) throws IOException {
      if (n > end - at) {
        throw new IOException(source + ": an entry runs past the end of " + what + " (corrupt file)");
      }
      byte[] out = Arrays.copyOfRange(b, at, at + n);
      at += n;
      return out;
    }
  }

  // ---------------------------------------------------------------- writing

  /**
   * Builds a table in memory from entries added in strictly increasing key order: data blocks of about
   * {@code blockSize} bytes with a restart point every 16 keys, an empty metaindex block, an index block (one
   * restart per entry, keyed by each data block's last key), and the footer.
   */
  static final class Writer {
    private final int blockSize;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final BlockBuilder data = new BlockBuilder(16);
    private final BlockBuilder index = new BlockBuilder(1);
    private byte[] lastKey;

    Writer(int blockSize) {
      this.blockSize = blockSize;
    }

    void add(byte[] key, byte[] value) {
      if (lastKey != null && Arrays.compareUnsigned(lastKey, key) >= 0) {
        throw new IllegalArgumentException("table keys must be added in strictly increasing order");
      }
      data.add(key, value);
      lastKey = key;
      if (data.size() >= blockSize) {
        flush();
      }
    }

    private void flush() {
      if (data.isEmpty()) {
        return;
      }
      byte[] handle = writeBlock(data.finish());
      index.add(lastKey, handle);
      data.reset();
    }

    /** The finished table's bytes. */
    byte[] finish() {
      flush();
      byte[] metaHandle = writeBlock(new BlockBuilder(16).finish());
      byte[] indexHandle = writeBlock(index.finish());
      byte[] footer = new byte[FOOTER_LENGTH];
      System.arraycopy(metaHandle, 0, footer, 0, metaHandle.length);
      System.arraycopy(indexHandle, 0, footer, metaHandle.length, indexHandle.length);
      for (int i = 0; i < 8; i++) {
        footer[HANDLES_LENGTH + i] = (byte) (MAGIC >>> (8 * i));
      }
      out.writeBytes(footer);
      return out.toByteArray();
    }

    /** Appends a block and its trailer; returns the encoded handle. */
    private byte[] writeBlock(byte[] block) {
      long offset = out.size();
      out.writeBytes(block);
      byte[] withType = Arrays.copyOf(block, block.length + 1);
      withType[block.length] = 0;
      out.write(0);
      writeFixed32(out, mask(crc32c(withType, 0, withType.length)));
      ByteArrayOutputStream h = new ByteArrayOutputStream();
      writeVarint(h, offset);
      writeVarint(h, block.length);
      return h.toByteArray();
    }
  }

  /** One block: prefix-compressed entries, then the restart offsets and their count. */
  private static final class BlockBuilder {
    private final int restartInterval;
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final List<Integer> restarts = new ArrayList<>();
    private byte[] last = new byte[0];
    private int counter;

    BlockBuilder(int restartInterval) {
      this.restartInterval = restartInterval;
      reset();
    }

    void reset() {
      buf.reset();
      restarts.clear();
      restarts.add(0);
      last = new byte[0];
      counter = 0;
    }

    boolean isEmpty() {
      return buf.size() == 0;
    }

    int size() {
      return buf.size() + 4 * restarts.size() + 4;
    }

    void add(byte[] key, byte[] value) {
      int shared = 0;
      if (counter < restartInterval) {
        int n = Math.min(last.length, key.length);
        while (shared < n && last[shared] == key[shared]) {
          shared++;
        }
      } else {
        restarts.add(buf.size());
        counter = 0;
      }
      writeVarint(buf, shared);
      writeVarint(buf, key.length - shared);
      writeVarint(buf, value.length);
      buf.write(key, shared, key.length - shared);
      buf.writeBytes(value);
      last = key;
      counter++;
    }

    byte[] finish() {
      ByteArrayOutputStream b = new ByteArrayOutputStream(size());
      b.writeBytes(buf.toByteArray());
      for (int r : restarts) {
        writeFixed32(b, r);
      }
      writeFixed32(b, restarts.size());
      return b.toByteArray();
    }
  }

  static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  static void writeFixed32(ByteArrayOutputStream out, int v) {
    out.write(v);
    out.write(v >>> 8);
    out.write(v >>> 16);
    out.write(v >>> 24);
  }
}
