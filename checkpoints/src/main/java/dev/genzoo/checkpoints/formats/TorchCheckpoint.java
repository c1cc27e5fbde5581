package dev.genzoo.checkpoints.formats;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint ({@code .pt}/{@code .pth} written by {@code torch.save}), read without Python and without
 * running any of the pickle's code (see {@link Unpickler} for the allow-list).
 *
 * <p>Both formats are read: the zip format of torch ≥ 1.6 ({@code <root>/data.pkl} plus one entry
 * {@code <root>/data/<key>} per storage, read one entry at a time; {@code <root>/byteorder} honoured) and the legacy
 * format (consecutive pickles: magic number, protocol 1001, sys_info, the object, the storage keys; then per storage
 * an int64 element count and the raw bytes, in the byte order sys_info names).
 *
 * <p>{@link #root()} is the saved object as Java data: {@code dict}/{@code OrderedDict} a {@code LinkedHashMap}
 * (keys String, Long, ...), {@code list} an {@code ArrayList}, {@code tuple}/{@code torch.Size} an unmodifiable
 * {@code List}, Long (BigInteger beyond 64 bits), Double, String, Boolean, null, byte[], sets as {@code Set}, a
 * {@link Namespace} for {@code argparse.Namespace}, torch dtypes as strings ({@code "torch.float16"}), and a
 * {@link NamedTensor} for every tensor (and plain numeric NumPy array), rebuilt from its storage, offset, size and
 * stride into row-major order and named by the dotted path where it first occurs. Tensors that share a storage (views)
 * come out as separate tensors; the same tensor object stored twice comes out as the same NamedTensor.
 *
 * <p>{@link #tensors()} names every tensor by its dotted path: dict keys and list indices joined by dots, e.g.
 * {@code 0.module.conv.weight} in NCSNv2's list checkpoint or {@code state_dict.stem.conv_0.weight} in NVAE's.
 */
public final class TorchCheckpoint {
  /** The deepest nesting of containers accepted. */
  static final int MAX_DEPTH = 1_000;
  /**
   * The most nodes {@link #tensors()} walks again because an object is shared (it is named once per path, so
   * sub-structures shared at every level would otherwise expand exponentially).
   */
  static final long MAX_SHARED_VISITS = 1_000_000;
  /** Largest pickle read into memory. */
  static final long MAX_PICKLE_BYTES = 1L << 30;
  /** Largest storage or tensor (one Java array). */
  static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 16;
  private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
  private static final long LEGACY_PROTOCOL = 1001;

  /**
   * An {@code argparse.Namespace} (the training arguments NVAE stores as {@code checkpoint['args']}).
   *
   * @param values the namespace's attributes by name, in file order
   */
  public record Namespace(Map<String, Object> values) {
    /** The attribute {@code name}; an error naming the attributes there are when it is missing. */
    public Object get(String name) {
      if (!values.containsKey(name)) {
        throw new IllegalArgumentException("argparse.Namespace has no attribute " + name + " (it has "
            + String.join(", ", values.keySet()) + ")");
      }
      return values.get(name);
    }
  }

  private final String source;
  private final Object root;

  private TorchCheckpoint(String source, Object root) {
    this.source = source;
    this.root = root;
  }

  /**
   * Reads a {@code torch.save} file of either format.
   *
   * @throws UnsafePickleException when the pickle references a global outside the allow-list
   * @throws IOException when the file is not a PyTorch checkpoint, is truncated, lacks a storage, or a tensor's size,
   *     stride and offset reach beyond its storage; the message names the file
   */
  public static TorchCheckpoint read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": no such file");
    }
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(512);
    }
    if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
      return readZip(file);
    }
    if (head.length >= 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
      throw new IOException(file + ": a tar archive (the torch < 0.4 checkpoint format), which genzoo does not read");
    }
    return readLegacy(file);
  }

  /** The file the checkpoint came from. */
  public String source() {
    return source;
  }

  /** The saved object as Java data (see the class comment). */
  public Object root() {
    return root;
  }

  /**
   * The value at a dotted path: dict keys (which may themselves contain dots, as state-dict keys do) and list indices
   * joined by dots; {@code ""} is the root.
   *
   * @throws IllegalArgumentException naming the file and the top-level keys when there is no such entry
   */
  public Object at(String path) {
    if (path.isEmpty()) {
      return root;
    }
    Object found = find(root, path);
    if (found == MISSING) {
      throw new IllegalArgumentException(source + " has no entry " + path + " (top level: " + describe(root) + ")");
    }
    return found;
  }

  /**
   * Every tensor reachable from the root, named by its dotted path; the scalar leaves (numbers, strings, booleans,
   * None) go into the set's metadata under their dotted paths, rendered as Python's {@code str()} does.
   */
  public TensorSet tensors() {
    return tensors("");
  }

  /**
   * The tensors of the subtree at {@code path} (see {@link #at(String)}), named relative to it, e.g.
   * {@code tensors("state_dict")} gives {@code stem.conv_0.weight}. A path that leads to a tensor itself gives that
   * one tensor under the path's name.
   */
  public TensorSet tensors(String path) {
    Object node = at(path);
    TensorSet out = new TensorSet(path.isEmpty() ? source : source + " [" + path + "]");
    if (node instanceof NamedTensor t) {
      out.add(t.withName(path));
      return out;
    }
    collect(node, "", out, new Walk(), false);
    return out;
  }

  // ---- zip format ---------------------------------------------------------------------------------------------------

  private static TorchCheckpoint readZip(Path file) throws IOException {
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new IOException(file + ": not a complete zip archive (truncated or damaged?): " + e.getMessage(), e);
    }
    try (zip) {
      ZipEntry pickle = null;
      boolean torchScript = false;
      for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
        ZipEntry e = en.nextElement();
        String name = e.getName();
        if ((name.equals("data.pkl") || name.endsWith("/data.pkl"))
            && (pickle == null || name.length() < pickle.getName().length())) {
          pickle = e;
        }
        torchScript |= name.endsWith("/constants.pkl") || name.contains("/code/");
      }
      if (pickle == null) {
        throw new IOException(file + ": a zip archive without data.pkl, so not a torch.save checkpoint"
            + (torchScript ? " (it looks like a TorchScript archive from torch.jit.save)" : ""));
      }
      String prefix = pickle.getName().substring(0, pickle.getName().length() - "data.pkl".length());
      boolean bigEndian = false;
      ZipEntry order = zip.getEntry(prefix + "byteorder");
      if (order != null) {
        String o = new String(readEntry(file, zip, order, 64), StandardCharsets.US_ASCII).strip();
        if (o.equals("big")) {
          bigEndian = true;
        } else if (!o.equals("little")) {
          throw new IOException(file + ": " + order.getName() + " says '" + o + "', not little or big");
        }
      }
      byte[] pickleBytes = readEntry(file, zip, pickle, MAX_PICKLE_BYTES);
      Object value = new Unpickler(file + ": " + pickle.getName(), pickleBytes).load();
      Map<String, byte[]> cache = new HashMap<>();
      StorageSource storages = ref -> {
        byte[] b = cache.get(ref.key());
        if (b == null) {
          String name = prefix + "data/" + ref.key();
          ZipEntry e = zip.getEntry(name);
          if (e == null) {
            throw new IOException(file + ": storage " + ref.key() + " (" + name + ") is missing from the archive");
          }
          b = readEntry(file, zip, e, MAX_ARRAY_BYTES);
          cache.put(ref.key(), b);
        }
        long needed = Math.multiplyExact(ref.rootNumel(), ref.dtype().byteSize());
        if (b.length < needed) {
          throw new IOException(file + ": storage " + ref.key() + " declares " + ref.rootNumel() + " " + ref.dtype()
              + " elements (" + needed + " bytes) but " + prefix + "data/" + ref.key() + " holds " + b.length
              + " bytes");
        }
        return b;
      };
      return new TorchCheckpoint(file.toString(), new Converter(file.toString(), storages, bigEndian).run(value));
    }
  }

  private static byte[] readEntry(Path file, ZipFile zip, ZipEntry e, long max) throws IOException {
    long size = e.getSize();
    if (size > max) {
      throw new IOException(file + ": zip entry " + e.getName() + " is " + size + " bytes, more than genzoo reads ("
          + max + ")");
    }
    try (InputStream in = zip.getInputStream(e)) {
      if (size < 0) {
        byte[] b = in.readNBytes((int) Math.min(max, Integer.MAX_VALUE - 16) + 1);
        if (b.length > max) {
          throw new IOException(file + ": zip entry " + e.getName() + " is more than " + max + " bytes");
        }
        return b;
      }
      byte[] b = in.readNBytes((int) size);
      if (b.length < size) {
        throw new IOException(file + ": zip entry " + e.getName() + " is truncated: " + b.length + " of " + size
            + " bytes");
      }
      return b;
    } catch (ZipException | java.io.EOFException ex) {
      throw new IOException(file + ": zip entry " + e.getName() + " is truncated or damaged: " + ex.getMessage(), ex);
    }
  }

  // ---- legacy format ------------------------------------------------------------------------------------------------

  private static TorchCheckpoint readLegacy(Path file) throws IOException {
    long size = Files.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      Unpickler u = new Unpickler(file.toString(), in, size);
      Object magic;
      try {
        magic = u.load();
      } catch (UnsafePickleException e) {
        throw e;
      } catch (IOException e) {
        throw new IOException(file + ": not a PyTorch checkpoint: neither a zip archive nor a legacy torch.save file ("
            + e.getMessage() + ")", e);
      }
      if (!LEGACY_MAGIC.equals(magic)) {
        throw new IOException(file + ": not a PyTorch checkpoint: a pickle without torch.save's magic number "
            + "(0x1950a86a20f9469cfc6c)");
      }
      Object protocol = u.load();
      if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
        throw new IOException(file + ": legacy torch.save protocol " + protocol + ", genzoo reads " + LEGACY_PROTOCOL);
      }
      Object sysInfo = u.load();
      boolean littleEndian = true;
      if (sysInfo instanceof Map<?, ?> m && m.get("little_endian") instanceof Boolean b) {
        littleEndian = b;
      }
      Object value = u.load();
      Object keys = u.load();
      if (!(keys instanceof List<?> keyList)) {
        throw new IOException(file + ": the legacy storage key list is " + Unpickler.typeName(keys));
      }
      Map<String, Unpickler.StorageRef> refs = u.storages();
      Map<String, byte[]> data = new HashMap<>();
      long pos = u.position();
      ByteOrder order = littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
      for (Object k : keyList) {
        if (!(k instanceof String key)) {
          throw new IOException(file + ": the legacy storage key list holds " + Unpickler.typeName(k));
        }
        Unpickler.StorageRef ref = refs.get(key);
        if (ref == null) {
          throw new IOException(file + ": storage " + key + " is listed but no tensor uses it, so its element type is"
              + " unknown");
        }
        byte[] count = in.readNBytes(8);
        if (count.length < 8) {
          throw new IOException(file + ": truncated: the file ends at byte " + (pos + count.length) + " before the "
              + "element count of storage " + key);
        }
        pos += 8;
        long n = ByteBuffer.wrap(count).order(order).getLong();
        if (n != ref.rootNumel()) {
          throw new IOException(file + ": storage " + key + " holds " + n + " elements but the pickle declares "
              + ref.rootNumel());
        }
        long bytes = Math.multiplyExact(n, ref.dtype().byteSize());
        if (bytes > size - pos) {
          throw new IOException(file + ": truncated: storage " + key + " needs " + bytes + " bytes at byte " + pos
              + " but only " + (size - pos) + " remain");
        }
        if (bytes > MAX_ARRAY_BYTES) {
          throw new IOException(file + ": storage " + key + " is " + bytes + " bytes, more than genzoo reads");
        }
        byte[] b = in.readNBytes((int) bytes);
        if (b.length < bytes) {
          throw new IOException(file + ": truncated inside storage " + key);
        }
        pos += bytes;
        data.put(key, b);
      }
      StorageSource storages = ref -> {
        byte[] b = data.get(ref.key());
        if (b == null) {
          throw new IOException(file + ": storage " + ref.key() + " is used by a tensor but missing from the file's "
              + "storage list");
        }
        return b;
      };
      return new TorchCheckpoint(file.toString(), new Converter(file.toString(), storages, !littleEndian).run(value));
    }
  }

  // ---- from the unpickler's values to Java data -----------------------------------------------------------------

  /** The bytes of a whole root storage, at least {@code rootNumel * dtype.byteSize()} long. */
  private interface StorageSource {
    byte[] bytes(Unpickler.StorageRef ref) throws IOException;
  }

  /**
   * Replaces tensor references by tensors and tuples by unmodifiable lists, keeping shared objects shared, refusing
   * cycles and nesting deeper than {@link #MAX_DEPTH}.
   */
  private static final class Converter {
    private final String source;
    private final StorageSource storages;
    private final boolean bigEndian;
    private final Map<Object, Object> done = new IdentityHashMap<>();
    private final Map<Object, Integer> heights = new IdentityHashMap<>();
    private final Set<Object> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
    private int height;

    Converter(String source, StorageSource storages, boolean bigEndian) {
      this.source = source;
      this.storages = storages;
      this.bigEndian = bigEndian;
    }

    Object run(Object value) throws IOException {
      try {
        return convert(value, "", 0);
      } catch (ArithmeticException e) {
        throw new IOException(source + ": a tensor's size, stride or offset overflows 64 bits", e);
      }
    }

    private Object convert(Object v, String path, int depth) throws IOException {
      height = 0;
      if (v == null || v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean
          || v instanceof BigInteger || v instanceof byte[]) {
        return v;
      }
      if (v instanceof Unpickler.Global g) {
        return g.name();
      }
      if (v instanceof Unpickler.NumpyDtype d) {
        return d.descr();
      }
      Object seen = done.get(v);
      if (seen != null) {
        int h = heights.get(v);
        if (depth + h > MAX_DEPTH) {
          throw tooDeep(path);
        }
        height = h;
        return seen;
      }
      if (onPath.contains(v)) {
        throw new IOException(source + ": the pickle builds a cyclic structure (at " + display(path) + ")");
      }
      if (depth > MAX_DEPTH) {
        throw tooDeep(path);
      }
      onPath.add(v);
      Object out;
      int h = 0;
      if (v instanceof Unpickler.TensorRef t) {
        out = tensor(t, path);
      } else if (v instanceof Unpickler.NumpyArray a) {
        if (a.value == null) {
          throw new IOException(source + ": the numpy array at " + display(path) + " never received its data");
        }
        out = a.value.withName(path);
      } else if (v instanceof List<?> l) {
        List<Object> o = new ArrayList<>(l.size());
        for (int i = 0; i < l.size(); i++) {
          o.add(convert(l.get(i), join(path, Integer.toString(i)), depth + 1));
          h = Math.max(h, height + 1);
        }
        out = v instanceof Unpickler.PyTuple ? Collections.unmodifiableList(o) : o;
      } else if (v instanceof Map<?, ?> m) {
        Map<Object, Object> o = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
          Object k = convert(e.getKey(), path, depth + 1);
          h = Math.max(h, height + 1);
          o.put(k, convert(e.getValue(), join(path, keyString(k)), depth + 1));
          h = Math.max(h, height + 1);
        }
        out = o;
      } else if (v instanceof TorchCheckpoint.Namespace ns) {
        Map<String, Object> o = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : ns.values().entrySet()) {
          o.put(e.getKey(), convert(e.getValue(), join(path, e.getKey()), depth + 1));
          h = Math.max(h, height + 1);
        }
        out = new Namespace(o);
      } else if (v instanceof Set<?> s) {
        Set<Object> o = new LinkedHashSet<>();
        for (Object x : s) {
          o.add(convert(x, path, depth + 1));
          h = Math.max(h, height + 1);
        }
        out = v instanceof LinkedHashSet ? o : Collections.unmodifiableSet(o);
      } else if (v instanceof Unpickler.StorageRef) {
        throw new IOException(source + ": a bare storage at " + display(path)
            + " (genzoo reads tensors, not storages)");
      } else {
        throw new IOException(source + ": unexpected " + Unpickler.typeName(v) + " at " + display(path));
      }
      onPath.remove(v);
      done.put(v, out);
      heights.put(v, h);
      height = h;
      return out;
    }

    private IOException tooDeep(String path) {
      return new IOException(source + ": the saved object nests deeper than " + MAX_DEPTH + " levels (at "
          + display(path) + ")");
    }

    /** Gathers the tensor's elements from its storage in row-major order. */
    private NamedTensor tensor(Unpickler.TensorRef t, String name) throws IOException {
      Unpickler.StorageRef s = t.storage();
      DType dtype = t.dtype();
      byte[] bytes = storages.bytes(s);
      int es = dtype.byteSize();
      long viewStart = Math.multiplyExact(s.viewOffset(), s.dtype().byteSize());
      long viewBytes = Math.multiplyExact(s.numel(), s.dtype().byteSize());
      long[] size = t.size();
      long[] stride = t.stride();
      String what = "tensor " + display(name) + " (" + dtype + ", size " + Arrays.toString(size) + ", stride "
          + Arrays.toString(stride) + ", offset " + t.offset() + ")";
      long n = 1;
      for (long d : size) {
        if (d < 0) {
          throw new IOException(source + ": " + what + " has a negative size");
        }
        n = Math.multiplyExact(n, d);
      }
      if (t.offset() < 0) {
        throw new IOException(source + ": " + what + " has a negative storage offset");
      }
      if (n > 0) {
        long last = t.offset();
        for (int i = 0; i < size.length; i++) {
          if (stride[i] < 0) {
            throw new IOException(source + ": " + what + " has a negative stride");
          }
          last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
        }
        long end = Math.multiplyExact(Math.addExact(last, 1), es);
        if (end > viewBytes) {
          throw new IOException(source + ": storage " + s.key() + " is too small for " + what + ": it holds "
              + viewBytes + " bytes (" + s.numel() + " " + s.dtype() + ") but the tensor reaches byte " + end);
        }
      }
      long outBytes = Math.multiplyExact(n, es);
      if (outBytes > MAX_ARRAY_BYTES) {
        throw new IOException(source + ": " + what + " is " + outBytes + " bytes, more than genzoo holds in one array");
      }
      boolean swap = bigEndian && es > 1;
      if (!swap && t.offset() == 0 && viewStart == 0 && outBytes == bytes.length && contiguous(size, stride)) {
        return new NamedTensor(name, dtype, size, bytes);
      }
      byte[] out = new byte[(int) outBytes];
      if (n > 0) {
        int r = size.length;
        if (r == 0) {
          System.arraycopy(bytes, (int) (viewStart + t.offset() * es), out, 0, es);
        } else {
          long inner = size[r - 1];
          long innerStride = stride[r - 1];
          long[] idx = new long[r - 1];
          int o = 0;
          for (long row = 0, rows = n / inner; row < rows; row++) {
            long base = t.offset();
            for (int i = 0; i < r - 1; i++) {
              base += idx[i] * stride[i];
            }
            if (innerStride == 1) {
              int len = (int) (inner * es);
              System.arraycopy(bytes, (int) (viewStart + base * es), out, o, len);
              o += len;
            } else {
              for (long j = 0; j < inner; j++) {
                System.arraycopy(bytes, (int) (viewStart + (base + j * innerStride) * es), out, o, es);
                o += es;
              }
            }
            for (int i = r - 2; i >= 0; i--) {
              if (++idx[i] < size[i]) {
                break;
              }
              idx[i] = 0;
            }
          }
        }
      }
      return new NamedTensor(name, dtype, size, swap ? Unpickler.swapped(out, es) : out);
    }
  }

  private static boolean contiguous(long[] size, long[] stride) {
    long expected = 1;
    for (int i = size.length - 1; i >= 0; i--) {
      if (size[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= size[i];
    }
    return true;
  }

  // ---- paths ----------------------------------------------------------------------------------------------------

  private static final Object MISSING = new Object();

  private static Object find(Object node, String rest) {
    if (node instanceof Namespace ns) {
      node = ns.values();
    }
    if (node instanceof Map<?, ?> m) {
      List<Map.Entry<?, ?>> prefixes = new ArrayList<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String k = keyString(e.getKey());
        if (k.equals(rest)) {
          return e.getValue();
        }
        if (rest.startsWith(k + ".")) {
          prefixes.add(e);
        }
      }
      prefixes.sort((a, b) -> keyString(b.getKey()).length() - keyString(a.getKey()).length());
      for (Map.Entry<?, ?> e : prefixes) {
        Object r = find(e.getValue(), rest.substring(keyString(e.getKey()).length() + 1));
        if (r != MISSING) {
          return r;
        }
      }
      return MISSING;
    }
    if (node instanceof List<?> l) {
      int dot = rest.indexOf('.');
      String segment = dot < 0 ? rest : rest.substring(0, dot);
      int i;
      try {
        i = Integer.parseInt(segment);
      } catch (NumberFormatException e) {
        return MISSING;
      }
      if (i < 0 || i >= l.size()) {
        return MISSING;
      }
      return dot < 0 ? l.get(i) : find(l.get(i), rest.substring(dot + 1));
    }
    return MISSING;
  }

  /** The containers walked so far and the budget for walking shared ones again. */
  private static final class Walk {
    final Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    long sharedBudget = MAX_SHARED_VISITS;
  }

  private void collect(Object node, String path, TensorSet out, Walk walk, boolean again) {
    if (node instanceof Map || node instanceof List || node instanceof Namespace) {
      again |= !walk.seen.add(node);
    }
    if (again && --walk.sharedBudget < 0) {
      throw new IllegalArgumentException(source + ": the checkpoint's shared sub-structures expand to more than "
          + MAX_SHARED_VISITS + " paths");
    }
    if (node instanceof NamedTensor t) {
      if (out.contains(path)) {
        throw new IllegalArgumentException(source + ": two tensors are both named " + path);
      }
      out.add(t.name().equals(path) ? t : t.withName(path));
    } else if (node instanceof Namespace ns) {
      collect(ns.values(), path, out, walk, again);
    } else if (node instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        collect(e.getValue(), join(path, keyString(e.getKey())), out, walk, again);
      }
    } else if (node instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) {
        collect(l.get(i), join(path, Integer.toString(i)), out, walk, again);
      }
    } else if (node == null || node instanceof String || node instanceof Long || node instanceof BigInteger
        || node instanceof Double || node instanceof Boolean) {
      out.metadata().put(path, pyStr(node));
    }
  }

  private static String join(String path, String segment) {
    return path.isEmpty() ? segment : path + "." + segment;
  }

  private static String display(String path) {
    return path.isEmpty() ? "the root" : path;
  }

  private static String describe(Object node) {
    Object n = node instanceof Namespace ns ? ns.values() : node;
    if (n instanceof Map<?, ?> m) {
      List<String> keys = new ArrayList<>();
      for (Object k : m.keySet()) {
        if (keys.size() == 12) {
          keys.add("...");
          break;
        }
        keys.add(keyString(k));
      }
      return "keys " + String.join(", ", keys);
    }
    if (n instanceof List<?> l) {
      return "a list of " + l.size();
    }
    return Unpickler.typeName(n);
  }

  /** A dict key as a path segment: Python's {@code str()} of it. */
  static String keyString(Object k) {
    if (k instanceof List<?> l) {
      List<String> parts = new ArrayList<>();
      for (Object o : l) {
        parts.add(o instanceof String s ? "'" + s + "'" : keyString(o));
      }
      return "(" + String.join(", ", parts) + (parts.size() == 1 ? ",)" : ")");
    }
    if (k instanceof byte[]) {
      return "<bytes>";
    }
    return pyStr(k);
  }

  /** Python's {@code str()} of a scalar: {@code None}, {@code True}, {@code 1e-08}, {@code 0.5}, {@code 3}. */
  static String pyStr(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (v instanceof Double d) {
      return pyFloat(d);
    }
    return v.toString();
  }

  /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 and from 1e16. */
  static String pyFloat(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0.0" : "0.0";
    }
    BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = b.unscaledValue().abs().toString();
    int exp = digits.length() - 1 - b.scale();
    String sign = d < 0 ? "-" : "";
    if (exp >= -4 && exp < 16) {
      String plain = b.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
  }
}
