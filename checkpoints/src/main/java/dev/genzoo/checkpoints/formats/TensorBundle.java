package dev.genzoo.checkpoints.formats;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;

/**
 * TensorFlow's tensor bundle, the V2 checkpoint format of {@code SaveV2}/{@code RestoreV2}, {@code tf.train.Saver}
 * and {@code tf.train.Checkpoint} (tensorflow/core/util/tensor_bundle), read and written in pure Java.
 *
 * <p>A bundle at {@code prefix} is {@code prefix.index}, a LevelDB table mapping each tensor name to a
 * {@code BundleEntryProto} (dtype, shape, shard, offset, size, masked CRC32C of the bytes) plus the header entry
 * {@code ""} ({@code BundleHeaderProto}: shard count, endianness, version), and the shards
 * {@code prefix.data-00000-of-NNNNN} of raw little-endian tensor bytes.
 *
 * <p>Reading checks every index block's checksum and each tensor's CRC32C and reads tensors with positioned reads,
 * never a whole shard at once. String, resource and variant tensors (TF2's {@code _CHECKPOINTABLE_OBJECT_GRAPH}, TF1
 * string variables) are skipped and named, comma-separated, in the metadata key {@link #SKIPPED}. Partitioned
 * (sliced) variables are refused.
 */
public final class TensorBundle {
  /** Metadata key listing, comma-separated, the tensors that {@link #read(Path)} skipped (strings, resources, ...). */
  public static final String SKIPPED = "skipped";
  /** The index file's suffix. */
  public static final String INDEX_SUFFIX = ".index";
  /** Version written into the header ({@code kTensorBundleVersion}). */
  static final int BUNDLE_VERSION = 1;
  /** Target size of the index's data blocks when writing. */
  static final int BLOCK_SIZE = 4096;
  private static final Pattern DATA_FILE = Pattern.compile("(.*)\\.data-(\\d{5})-of-(\\d{5})");

  private TensorBundle() {}

  /**
   * The bundle prefix for {@code path}: {@code path} itself, or with {@code .index} or {@code .data-SSSSS-of-NNNNN}
   * removed when it names one of the bundle's files.
   */
  public static Path prefixOf(Path path) {
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    if (name.endsWith(INDEX_SUFFIX) && name.length() > INDEX_SUFFIX.length()) {
      return path.resolveSibling(name.substring(0, name.length() - INDEX_SUFFIX.length()));
    }
    Matcher m = DATA_FILE.matcher(name);
    if (m.matches() && !m.group(1).isEmpty()) {
      return path.resolveSibling(m.group(1));
    }
    return path;
  }

  /** {@code prefix.index}. */
  public static Path indexFile(Path prefix) {
    return prefix.resolveSibling(prefix.getFileName() + INDEX_SUFFIX);
  }

  /** {@code prefix.data-SSSSS-of-NNNNN}. */
  public static Path dataFile(Path prefix, int shard, int numShards) {
    return prefix.resolveSibling(String.format("%s.data-%05d-of-%05d", prefix.getFileName(), shard, numShards));
  }

  /** True when {@code path} is a bundle prefix, or one of its files, whose index exists. */
  public static boolean exists(Path path) {
    return Files.isRegularFile(indexFile(prefixOf(path)));
  }

  /** One parsed index entry. */
  private record Entry(String name, BundleEntryProto proto, long[] shape) {}

  /** The parsed index: header and entries in key order. */
  private record Index(Path indexFile, BundleHeaderProto header, List<Entry> entries) {}

  private static Index readIndex(Path prefix) throws IOException {
    Path index = indexFile(prefix);
    if (!Files.isRegularFile(index)) {
      throw new NoSuchFileException(index.toString(), null, "no TensorFlow checkpoint index for prefix " + prefix);
    }
    String source = index.toString();
    List<LevelDbTable.Entry> table = LevelDbTable.readAll(Files.readAllBytes(index), source);
    if (table.isEmpty() || table.get(0).key().length != 0) {
      throw new IOException(source + ": no bundle header (the first key must be the empty string): not a tensor "
          + "bundle index (a TF1 V1 checkpoint?)");
    }
    BundleHeaderProto header;
    try {
      header = BundleHeaderProto.parseFrom(table.get(0).value());
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(source + ": unreadable bundle header: " + e.getMessage(), e);
    }
    if (header.getEndianness() != BundleHeaderProto.Endianness.LITTLE) {
      throw new IOException(source + ": the checkpoint was written " + header.getEndianness()
          + "-endian; genzoo reads little-endian bundles only");
    }
    if (header.getNumShards() < 1) {
      throw new IOException(source + ": bad shard count " + header.getNumShards() + " in the bundle header");
    }
    VersionDef v = header.getVersion();
    if (v.getMinConsumer() > BUNDLE_VERSION || v.getBadConsumersList().contains(BUNDLE_VERSION)) {
      throw new IOException(source + ": bundle format version " + v.getProducer() + " (min consumer "
          + v.getMinConsumer() + ") is newer than genzoo reads (" + BUNDLE_VERSION + ")");
    }
    List<Entry> entries = new ArrayList<>(table.size() - 1);
    for (LevelDbTable.Entry e : table.subList(1, table.size())) {
      String name = new String(e.key(), StandardCharsets.UTF_8);
      BundleEntryProto proto;
      try {
        proto = BundleEntryProto.parseFrom(e.value());
      } catch (InvalidProtocolBufferException ex) {
        throw new IOException("tensor " + name + " in " + source + ": unreadable entry: " + ex.getMessage(), ex);
      }
      TensorShapeProto sp = proto.getShape();
      if (sp.getUnknownRank()) {
        throw new IOException("tensor " + name + " in " + source + ": unknown rank");
      }
      long[] shape = new long[sp.getDimCount()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = sp.getDim(i).getSize();
        if (shape[i] < 0) {
          throw new IOException("tensor " + name + " in " + source + ": bad dimension " + shape[i]);
        }
      }
      entries.add(new Entry(name, proto, shape));
    }
    return new Index(index, header, entries);
  }

  private static boolean isSkippedType(int tfCode) {
    return tfCode == DataType.DT_STRING_VALUE || tfCode == DataType.DT_RESOURCE_VALUE
        || tfCode == DataType.DT_VARIANT_VALUE;
  }

  private static String tfTypeName(int tfCode) {
    DataType t = DataType.forNumber(tfCode);
    return t == null ? "DataType " + tfCode : t.name();
  }

  /**
   * Names, dtypes, shapes and byte sizes of every tensor of the bundle, from the index alone (the data shards are
   * not opened). Types genzoo does not read are listed under TensorFlow's name ({@code DT_STRING}).
   *
   * @param path the prefix, the {@code .index} file or a data shard
   */
  public static List<Checkpoints.TensorInfo> list(Path path) throws IOException {
    Index index = readIndex(prefixOf(path));
    List<Checkpoints.TensorInfo> out = new ArrayList<>();
    for (Entry e : index.entries()) {
      int code = e.proto().getDtypeValue();
      String dtype;
      try {
        dtype = DType.ofTfCode(code).name();
      } catch (IllegalArgumentException ex) {
        dtype = tfTypeName(code);
      }
      out.add(new Checkpoints.TensorInfo(e.name(), dtype, e.shape(), e.proto().getSize()));
    }
    return out;
  }

  /**
   * Reads every tensor of the bundle.
   *
   * @param path the prefix, the {@code .index} file or a data shard
   * @return the tensors in key order; {@code source} is the prefix
   * @throws IOException naming the file and tensor: a missing or truncated file, a bad magic or block checksum, a
   *     tensor whose CRC32C does not match, an unsupported dtype, a partitioned variable
   */
  public static TensorSet read(Path path) throws IOException {
    Path prefix = prefixOf(path);
    Index index = readIndex(prefix);
    String source = index.indexFile().toString();
    int numShards = index.header().getNumShards();
    TensorSet out = new TensorSet(prefix.toString());
    List<String> skipped = new ArrayList<>();
    Map<Integer, FileChannel> shards = new HashMap<>();
    try {
      for (Entry e : index.entries()) {
        BundleEntryProto p = e.proto();
        if (p.getSlicesCount() > 0) {
          throw new IOException("tensor " + e.name() + " in " + source + " is a partitioned variable saved as "
              + p.getSlicesCount() + " slices; partitioned (sliced) variables are not supported: restore it in "
              + "TensorFlow and save it unpartitioned");
        }
        int code = p.getDtypeValue();
        if (isSkippedType(code)) {
          skipped.add(e.name());
          continue;
        }
        DType dtype;
        try {
          dtype = DType.ofTfCode(code);
        } catch (IllegalArgumentException ex) {
          throw new IOException("tensor " + e.name() + " in " + source + " has dtype " + tfTypeName(code)
              + ", which genzoo does not read", ex);
        }
        long numel = 1;
        for (long d : e.shape()) {
          numel = Math.multiplyExact(numel, d);
        }
        long expected = numel * dtype.byteSize();
        if (p.getSize() != expected) {
          throw new IOException("tensor " + e.name() + " in " + source + ": the entry says " + p.getSize()
              + " bytes but " + dtype + NamedTensor.shapeString(e.shape()) + " needs " + expected + " (corrupt index)");
        }
        if (expected > Integer.MAX_VALUE - 8) {
          throw new IOException("tensor " + e.name() + " in " + source + " has " + expected
              + " bytes, more than one Java array holds");
        }
        int shard = p.getShardId();
        if (shard < 0 || shard >= numShards) {
          throw new IOException("tensor " + e.name() + " in " + source + ": shard " + shard + " out of range (the "
              + "bundle has " + numShards + ")");
        }
        Path dataPath = dataFile(prefix, shard, numShards);
        FileChannel ch = shards.get(shard);
        if (ch == null) {
          if (!Files.isRegularFile(dataPath)) {
            throw new NoSuchFileException(dataPath.toString(), null, "missing data shard " + (shard + 1) + " of "
                + numShards + " of checkpoint " + prefix + " (needed for tensor " + e.name() + ")");
          }
          ch = FileChannel.open(dataPath, StandardOpenOption.READ);
          shards.put(shard, ch);
        }
        byte[] data = readAt(ch, p.getOffset(), (int) expected, dataPath, e.name());
        int actual = LevelDbTable.crc32c(data, 0, data.length);
        if (LevelDbTable.unmask(p.getCrc32C()) != actual) {
          throw new IOException("tensor " + e.name() + " in " + dataPath + ": crc32c mismatch (index says 0x"
              + Integer.toHexString(LevelDbTable.unmask(p.getCrc32C())) + ", data has 0x" + Integer.toHexString(actual)
              + "): the checkpoint is corrupt");
        }
        out.add(new NamedTensor(e.name(), dtype, e.shape(), data));
      }
    } finally {
      for (FileChannel ch : shards.values()) {
        ch.close();
      }
    }
    if (!skipped.isEmpty()) {
      out.metadata().put(SKIPPED, String.join(",", skipped));
    }
    return out;
  }

  private static byte[] readAt(FileChannel ch, long offset, int size, Path file, String tensor) throws IOException {
    long fileSize = ch.size();
    if (offset < 0 || offset + size > fileSize) {
      throw new IOException("tensor " + tensor + " in " + file + ": truncated file (the tensor needs bytes ["
          + offset + ", " + (offset + size) + ") but the file has " + fileSize + ")");
    }
    byte[] data = new byte[size];
    ByteBuffer buf = ByteBuffer.wrap(data);
    long at = offset;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at);
      if (n < 0) {
        throw new IOException("tensor " + tensor + " in " + file + ": unexpected end of file at " + at);
      }
      at += n;
    }
    return data;
  }

  /**
   * Writes {@code tensors} as a single-shard bundle at {@code prefix} ({@code prefix.index} and
   * {@code prefix.data-00000-of-00001}) that TensorFlow's {@code RestoreV2} reads. Both files are written to hidden
   * temporaries first and renamed into place only when complete (the data file first, then the index, after any old
   * index is removed); on failure the temporaries are deleted. Missing parent folders are created.
   *
   * @param prefix the bundle prefix (a path ending in {@code .index} is taken as its index file)
   * @throws IllegalArgumentException for an empty tensor name, which the format reserves for the header
   */
  public static void write(TensorSet tensors, Path prefix) throws IOException {
    Path p = prefixOf(prefix).toAbsolutePath();
    List<NamedTensor> sorted = new ArrayList<>();
    for (NamedTensor t : tensors) {
      if (t.name().isEmpty()) {
        throw new IllegalArgumentException(tensors.source() + ": a tensor with an empty name cannot be saved in a "
            + "TensorFlow checkpoint (the empty key holds the bundle header)");
      }
      sorted.add(t);
    }
    sorted.sort((a, b) -> Arrays.compareUnsigned(a.name().getBytes(StandardCharsets.UTF_8),
        b.name().getBytes(StandardCharsets.UTF_8)));
    Path dir = p.getParent();
    if (dir == null) {
      throw new IllegalArgumentException("no folder for checkpoint prefix " + prefix);
    }
    Files.createDirectories(dir);
    Path index = indexFile(p);
    Path data = dataFile(p, 0, 1);
    Path tmpData = null;
    Path tmpIndex = null;
    boolean dataMoved = false;
    boolean done = false;
    try {
      tmpData = Files.createTempFile(dir, ".tmp-" + data.getFileName(), "");
      tmpIndex = Files.createTempFile(dir, ".tmp-" + index.getFileName(), "");
      readableByAll(tmpData);
      readableByAll(tmpIndex);
      LevelDbTable.Writer table = new LevelDbTable.Writer(BLOCK_SIZE);
      table.add(new byte[0], BundleHeaderProto.newBuilder()
          .setNumShards(1)
          .setEndianness(BundleHeaderProto.Endianness.LITTLE)
          .setVersion(VersionDef.newBuilder().setProducer(BUNDLE_VERSION))
          .build().toByteArray());
      long offset = 0;
      try (OutputStream out = Files.newOutputStream(tmpData)) {
        for (NamedTensor t : sorted) {
          out.write(t.data());
          CRC32C crc = new CRC32C();
          crc.update(t.data());
          TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
          for (long d : t.shape()) {
            shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
          }
          BundleEntryProto entry = BundleEntryProto.newBuilder()
              .setDtypeValue(t.dtype().tfCode())
              .setShape(shape)
              .setShardId(0)
              .setOffset(offset)
              .setSize(t.data().length)
              .setCrc32C(LevelDbTable.mask((int) crc.getValue()))
              .build();
          table.add(t.name().getBytes(StandardCharsets.UTF_8), entry.toByteArray());
          offset += t.data().length;
        }
      }
      Files.write(tmpIndex, table.finish());
      if (Files.isRegularFile(index, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(index)) {
        Files.delete(index);
      }
      move(tmpData, data);
      dataMoved = true;
      move(tmpIndex, index);
      done = true;
    } finally {
      if (tmpData != null) {
        Files.deleteIfExists(tmpData);
      }
      if (tmpIndex != null) {
        Files.deleteIfExists(tmpIndex);
      }
      if (dataMoved && !done) {
        Files.deleteIfExists(data);
      }
    }
  }

  /** Temporary files are created 0600; the finished bundle gets the usual 0644, as {@code AtomicFiles} does. */
  private static void readableByAll(Path p) throws IOException {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: keep the default
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename " + from + " to " + to + " atomically", e);
    }
  }
}
