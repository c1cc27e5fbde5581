package dev.genzoo.checkpoints.formats;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;

/**
 * A pickle virtual machine for the data that {@code torch.save} writes (protocols 0 to 5), written without any pickle
 * library. It never executes or reflectively instantiates anything: {@code GLOBAL}/{@code STACK_GLOBAL} resolve only an
 * allow-list of names (PyTorch's tensor rebuild functions, storage types and dtypes, {@code collections.OrderedDict},
 * {@code argparse.Namespace}, {@code torch.Size}, {@code builtins.set/frozenset}, {@code _codecs.encode} for protocol-2
 * bytes, and plain numeric NumPy scalars and arrays), each of which this class rebuilds as Java data. Any other global
 * stops the load with an {@link UnsafePickleException} naming it.
 *
 * <p>Python values come back as: {@code None} null, {@code bool} Boolean, {@code int} Long (BigInteger beyond 64 bits),
 * {@code float} Double, {@code str} String, {@code bytes} byte[], {@code list} ArrayList, {@code tuple} and
 * {@code torch.Size} an unmodifiable {@link List}, {@code dict}/{@code OrderedDict} LinkedHashMap (an OrderedDict's
 * attributes such as a state dict's {@code _metadata} are dropped, its entries kept), {@code set} LinkedHashSet,
 * {@code frozenset} an unmodifiable Set, {@code argparse.Namespace} {@link TorchCheckpoint.Namespace}, NumPy scalars
 * Long/Double/Boolean. Tensors, storages, NumPy arrays and dtypes come back as package-private references that
 * {@link TorchCheckpoint} resolves against the file's storages.
 *
 * <p>Memory is guarded: declared string/bytes/integer lengths are checked against the input that remains before
 * anything is allocated, and the stack, the mark nesting, the memo and tuple nesting have fixed limits.
 */
public final class Unpickler {
  /** The most entries the value stack may hold. */
  static final int MAX_STACK = 1 << 20;
  /** The deepest MARK nesting. */
  static final int MAX_MARKS = 10_000;
  /** The most memo entries. */
  static final int MAX_MEMO = 1 << 24;
  /** The deepest tuple nesting (tuples may be dict keys, whose hashing recurses). */
  static final int MAX_TUPLE_DEPTH = 1_000;
  /** Largest single string, bytes object or integer, bounded also by the remaining input. */
  static final long MAX_ITEM_BYTES = Integer.MAX_VALUE - 16;

  /** The allow-list in words, for error messages. */
  static final String ALLOWED_SUMMARY = "torch._utils._rebuild_tensor/_rebuild_tensor_v2/_rebuild_tensor_v3/"
      + "_rebuild_parameter/_rebuild_parameter_with_state, torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,"
      + "Bool}Storage, torch.UntypedStorage, torch dtypes, torch.Size, collections.OrderedDict, argparse.Namespace, "
      + "builtins.set/frozenset, _codecs.encode (latin1), numpy scalars/dtype/ndarray of plain numbers";

  private static final Map<String, DType> STORAGE_TYPES = new HashMap<>();
  private static final Map<String, DType> TORCH_DTYPES = new HashMap<>();
  private static final Set<String> CALLABLES = Set.of(
      "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
      "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
      "collections.OrderedDict", "argparse.Namespace", "torch.Size", "builtins.set", "builtins.frozenset",
      "_codecs.encode", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
      "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray");

  static {
    STORAGE_TYPES.put("torch.FloatStorage", DType.F32);
    STORAGE_TYPES.put("torch.HalfStorage", DType.F16);
    STORAGE_TYPES.put("torch.BFloat16Storage", DType.BF16);
    STORAGE_TYPES.put("torch.DoubleStorage", DType.F64);
    STORAGE_TYPES.put("torch.LongStorage", DType.I64);
    STORAGE_TYPES.put("torch.IntStorage", DType.I32);
    STORAGE_TYPES.put("torch.ShortStorage", DType.I16);
    STORAGE_TYPES.put("torch.CharStorage", DType.I8);
    STORAGE_TYPES.put("torch.ByteStorage", DType.U8);
    STORAGE_TYPES.put("torch.BoolStorage", DType.BOOL);
    STORAGE_TYPES.put("torch.UntypedStorage", DType.U8);
    Object[][] dtypes = {
        {"float32", DType.F32}, {"float", DType.F32}, {"float16", DType.F16}, {"half", DType.F16},
        {"bfloat16", DType.BF16}, {"float64", DType.F64}, {"double", DType.F64}, {"int64", DType.I64},
        {"long", DType.I64}, {"int32", DType.I32}, {"int", DType.I32}, {"int16", DType.I16}, {"short", DType.I16},
        {"int8", DType.I8}, {"uint8", DType.U8}, {"bool", DType.BOOL}, {"uint16", DType.U16},
        {"uint32", DType.U32}, {"uint64", DType.U64}};
    for (Object[] d : dtypes) {
      TORCH_DTYPES.put("torch." + d[0], (DType) d[1]);
    }
  }

  private final String source;
  private final InputStream in;
  private final long length;
  private long pos;
  private long opStart;
  private int op;
  private final ArrayList<Object> stack = new ArrayList<>();
  private int[] marks = new int[16];
  private int markCount;
  private final HashMap<Long, Object> memo = new HashMap<>();
  private final Set<Object> orderedDicts = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<String, StorageRef> storages = new LinkedHashMap<>();

  /**
   * Reads pickles from a stream of known length; successive {@link #load()} calls read successive pickles, as the
   * legacy {@code torch.save} format needs, and the stream is left just after the last STOP read.
   *
   * @param source the file (and zip entry) for error messages, e.g. {@code model.pt: archive/data.pkl}
   * @param in the bytes; not closed here
   * @param length how many bytes the stream holds from here on (declared lengths are checked against it)
   */
  public Unpickler(String source, InputStream in, long length) {
    this.source = source;
    this.in = in;
    this.length = length;
  }

  /** Reads pickles from memory. */
  public Unpickler(String source, byte[] data) {
    this(source, new ByteArrayInputStream(data), data.length);
  }

  /** Bytes consumed so far. */
  public long position() {
    return pos;
  }

  /**
   * The storages that persistent ids referenced so far, by key (for a legacy file, the root keys whose data follows
   * the pickles).
   */
  Map<String, StorageRef> storages() {
    return storages;
  }

  // ---- values the VM builds for allowed torch / numpy objects ----------------------------------------------------

  /** An allowed global used as a value rather than called: a storage type, a dtype, a class. */
  record Global(String name, DType dtype) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * A storage that a persistent id names: {@code key} is the zip entry {@code data/<key>} or the legacy root key;
   * {@code viewOffset}/{@code numel} select the legacy view (elements of {@code dtype}); {@code rootNumel} is the
   * element count of the whole root storage.
   */
  record StorageRef(String key, DType dtype, long rootNumel, long viewOffset, long numel, String location) {}

  /** A tensor to rebuild from a storage: offset in elements of {@code dtype}, row sizes and strides in elements. */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride, DType dtype) {}

  /** A NumPy dtype under construction ({@code numpy.dtype('f8', False, True)} then BUILD with the byte order). */
  static final class NumpyDtype {
    final String code;
    char byteOrder = '=';

    NumpyDtype(String code) {
      this.code = code;
    }

    String descr() {
      return (byteOrder == '=' ? "" : String.valueOf(byteOrder)) + code;
    }

    @Override
    public String toString() {
      return descr();
    }
  }

  /** A NumPy array: {@code _reconstruct(ndarray, (0,), b'b')} followed by BUILD with shape, dtype and raw data. */
  static final class NumpyArray {
    NamedTensor value;
  }

  /** A Python tuple: immutable, with its nesting depth and whether it may serve as a dict key. */
  static final class PyTuple extends AbstractList<Object> implements RandomAccess {
    final Object[] items;
    final boolean hashable;
    final int depth;

    private PyTuple(Object[] items, boolean hashable, int depth) {
      this.items = items;
      this.hashable = hashable;
      this.depth = depth;
    }

    @Override
    public Object get(int index) {
      return items[index];
    }

    @Override
    public int size() {
      return items.length;
    }
  }

  // ---- the machine --------------------------------------------------------------------------------------------------

  /**
   * Reads one pickle, up to and including its STOP opcode, and returns its value.
   *
   * @throws UnsafePickleException at the first global outside the allow-list
   * @throws IOException for truncated or malformed input, naming the source and byte offset
   */
  public Object load() throws IOException {
    stack.clear();
    markCount = 0;
    memo.clear();
    while (true) {
      opStart = pos;
      if (pos >= length) {
        throw fail("truncated pickle: the input ends without a STOP opcode");
      }
      op = readByte();
      try {
        Object result = step();
        if (result != NOT_DONE) {
          return result;
        }
      } catch (ArithmeticException | IllegalArgumentException e) {
        throw fail(e.getMessage());
      }
    }
  }

  private static final Object NOT_DONE = new Object();

  /** Runs the opcode just read; the pickle's value after STOP, else {@link #NOT_DONE}. */
  private Object step() throws IOException {
    switch (op) {
      case 0x80 -> { // PROTO
        int v = readByte();
        if (v > 5) {
          throw fail("pickle protocol " + v + " is newer than 5");
        }
      }
      case 0x95 -> { // FRAME: framing only groups opcodes; the length must fit in the input
        long n = readLong8();
        if (n < 0 || n > length - pos) {
          throw fail("FRAME declares " + Long.toUnsignedString(n) + " bytes but only " + (length - pos) + " remain");
        }
      }
      case '.' -> { // STOP
        return pop();
      }
      case '(' -> pushMark();
      case '0' -> { // POP
        if (stack.size() > topMark()) {
          stack.remove(stack.size() - 1);
        } else if (markCount > 0) {
          markCount--;
        } else {
          throw fail("POP from an empty stack");
        }
      }
      case '1' -> popMark(); // POP_MARK
      case '2' -> push(peek()); // DUP
      case 'N' -> push(null);
      case 0x88 -> push(Boolean.TRUE);
      case 0x89 -> push(Boolean.FALSE);
      case 'I' -> { // INT: decimal line; "00"/"01" are protocol 0's False/True
        String line = readLine();
        if (line.equals("00")) {
          push(Boolean.FALSE);
        } else if (line.equals("01")) {
          push(Boolean.TRUE);
        } else {
          push(parseInteger(line));
        }
      }
      case 'J' -> push((long) readI32());
      case 'K' -> push((long) readByte());
      case 'M' -> push((long) (readByte() | readByte() << 8));
      case 'L' -> { // LONG: decimal line with an optional trailing L
        String line = readLine();
        push(parseInteger(line.endsWith("L") ? line.substring(0, line.length() - 1) : line));
      }
      case 0x8a -> push(decodeLong(readBytes(readByte(), "LONG1")));
      case 0x8b -> push(decodeLong(readBytes(readI32(), "LONG4")));
      case 'F' -> push(parseFloat(readLine()));
      case 'G' -> push(ByteBuffer.wrap(readBytes(8, "BINFLOAT")).order(ByteOrder.BIG_ENDIAN).getDouble());
      case 'S' -> push(utf8(unescapeStringLiteral(readLineBytes()))); // STRING
      case 'T' -> push(utf8(readBytes(readI32(), "BINSTRING")));
      case 'U' -> push(utf8(readBytes(readByte(), "SHORT_BINSTRING")));
      case 'V' -> push(rawUnicodeEscape(readLineBytes())); // UNICODE
      case 'X' -> push(utf8(readBytes(readU32(), "BINUNICODE")));
      case 0x8c -> push(utf8(readBytes(readByte(), "SHORT_BINUNICODE")));
      case 0x8d -> push(utf8(readBytes(readLong8(), "BINUNICODE8")));
      case 'B' -> push(readBytes(readU32(), "BINBYTES"));
      case 'C' -> push(readBytes(readByte(), "SHORT_BINBYTES"));
      case 0x8e -> push(readBytes(readLong8(), "BINBYTES8"));
      case 0x96 -> push(readBytes(readLong8(), "BYTEARRAY8"));
      case '}' -> push(new LinkedHashMap<Object, Object>());
      case 'd' -> { // DICT
        List<Object> items = popToMark();
        if (items.size() % 2 != 0) {
          throw fail("DICT with an odd number of items");
        }
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i += 2) {
          m.put(key(items.get(i)), items.get(i + 1));
        }
        push(m);
      }
      case 's' -> { // SETITEM
        Object value = pop();
        Object k = pop();
        dictAt().put(key(k), value);
      }
      case 'u' -> { // SETITEMS
        List<Object> items = popToMark();
        if (items.size() % 2 != 0) {
          throw fail("SETITEMS with an odd number of items");
        }
        Map<Object, Object> m = dictAt();
        for (int i = 0; i < items.size(); i += 2) {
          m.put(key(items.get(i)), items.get(i + 1));
        }
      }
      case ']' -> push(new ArrayList<>());
      case 'l' -> push(new ArrayList<>(popToMark())); // LIST
      case 'a' -> { // APPEND
        Object v = pop();
        listAt().add(v);
      }
      case 'e' -> { // APPENDS
        List<Object> items = popToMark();
        listAt().addAll(items);
      }
      case ')' -> push(tuple(new Object[0]));
      case 't' -> push(tuple(popToMark().toArray()));
      case 0x85 -> push(tuple(new Object[] {pop()}));
      case 0x86 -> {
        Object b = pop();
        Object a = pop();
        push(tuple(new Object[] {a, b}));
      }
      case 0x87 -> {
        Object c = pop();
        Object b = pop();
        Object a = pop();
        push(tuple(new Object[] {a, b, c}));
      }
      case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
      case 0x90 -> { // ADDITEMS
        List<Object> items = popToMark();
        Object target = peek();
        if (!(target instanceof LinkedHashSet)) {
          throw fail("ADDITEMS on " + typeName(target) + ", not a set");
        }
        @SuppressWarnings("unchecked")
        Set<Object> set = (Set<Object>) target;
        for (Object o : items) {
          set.add(key(o));
        }
      }
      case 0x91 -> { // FROZENSET
        Set<Object> set = new LinkedHashSet<>();
        for (Object o : popToMark()) {
          set.add(key(o));
        }
        push(Collections.unmodifiableSet(set));
      }
      case 'c' -> { // GLOBAL
        String module = readLine();
        String name = readLine();
        push(resolveGlobal(module, name));
      }
      case 0x93 -> { // STACK_GLOBAL
        Object name = pop();
        Object module = pop();
        if (!(module instanceof String m) || !(name instanceof String n)) {
          throw fail("STACK_GLOBAL needs two strings, got " + typeName(module) + " and " + typeName(name));
        }
        push(resolveGlobal(m, n));
      }
      case 'i' -> { // INST: protocol 0/1 instantiation of a class named inline
        String module = readLine();
        String name = readLine();
        resolveGlobal(module, name);
        throw fail("INST (protocol 0/1 instantiation of " + module + "." + name + ") is not supported");
      }
      case 'o' -> throw fail("OBJ (protocol 1 instantiation) is not supported");
      case 0x82, 0x83, 0x84 -> throw fail("EXT opcodes (copyreg extension registry) are not supported");
      case 0x97, 0x98 -> throw fail("out-of-band buffers (protocol 5 NEXT_BUFFER/READONLY_BUFFER) are not supported");
      case 'R' -> { // REDUCE
        Object args = pop();
        Object callable = pop();
        push(reduce(callable, args));
      }
      case 0x81 -> { // NEWOBJ
        Object args = pop();
        Object cls = pop();
        push(newObject(cls, args, null));
      }
      case 0x92 -> { // NEWOBJ_EX
        Object kwargs = pop();
        Object args = pop();
        Object cls = pop();
        push(newObject(cls, args, kwargs));
      }
      case 'b' -> { // BUILD
        Object state = pop();
        build(peek(), state);
      }
      case 'p' -> memoPut(parseMemoKey(readLine()), peek());
      case 'q' -> memoPut(readByte(), peek());
      case 'r' -> memoPut(readU32(), peek());
      case 0x94 -> memoPut(memo.size(), peek()); // MEMOIZE
      case 'g' -> push(memoGet(parseMemoKey(readLine())));
      case 'h' -> push(memoGet(readByte()));
      case 'j' -> push(memoGet(readU32()));
      case 'P' -> push(persistentLoad(readLine())); // PERSID
      case 'Q' -> push(persistentLoad(pop())); // BINPERSID
      default -> throw fail(String.format("unknown opcode 0x%02x", op));
    }
    return NOT_DONE;
  }

  // ---- stack, marks, memo -----------------------------------------------------------------------------------------

  private int topMark() {
    return markCount == 0 ? 0 : marks[markCount - 1];
  }

  private void push(Object o) throws IOException {
    if (stack.size() >= MAX_STACK) {
      throw fail("the stack grows beyond " + MAX_STACK + " entries");
    }
    stack.add(o);
  }

  private Object pop() throws IOException {
    if (stack.size() <= topMark()) {
      throw fail("stack underflow");
    }
    return stack.remove(stack.size() - 1);
  }

  private Object peek() throws IOException {
    if (stack.size() <= topMark()) {
      throw fail("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private void pushMark() throws IOException {
    if (markCount >= MAX_MARKS) {
      throw fail("MARKs nest deeper than " + MAX_MARKS);
    }
    if (markCount == marks.length) {
      marks = Arrays.copyOf(marks, marks.length * 2);
    }
    marks[markCount++] = stack.size();
  }

  private void popMark() throws IOException {
    if (markCount == 0) {
      throw fail("no MARK on the stack");
    }
    int m = marks[--markCount];
    stack.subList(m, stack.size()).clear();
  }

  private List<Object> popToMark() throws IOException {
    if (markCount == 0) {
      throw fail("no MARK on the stack");
    }
    int m = marks[--markCount];
    List<Object> view = stack.subList(m, stack.size());
    List<Object> items = new ArrayList<>(view);
    view.clear();
    return items;
  }

  private void memoPut(long key, Object value) throws IOException {
    if (memo.size() >= MAX_MEMO && !memo.containsKey(key)) {
      throw fail("the memo grows beyond " + MAX_MEMO + " entries");
    }
    memo.put(key, value);
  }

  private Object memoGet(long key) throws IOException {
    if (!memo.containsKey(key)) {
      throw fail("memo key " + key + " was never stored");
    }
    return memo.get(key);
  }

  private long parseMemoKey(String line) throws IOException {
    try {
      return Long.parseLong(line);
    } catch (NumberFormatException e) {
      throw fail("memo key '" + abbreviate(line) + "' is not a number");
    }
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> dictAt() throws IOException {
    Object target = peek();
    if (!(target instanceof LinkedHashMap)) {
      throw fail((op == 's' ? "SETITEM" : "SETITEMS") + " on " + typeName(target) + ", not a dict");
    }
    return (Map<Object, Object>) target;
  }

  @SuppressWarnings("unchecked")
  private List<Object> listAt() throws IOException {
    Object target = peek();
    if (!(target instanceof ArrayList)) {
      throw fail((op == 'a' ? "APPEND" : "APPENDS") + " on " + typeName(target) + ", not a list");
    }
    return (List<Object>) target;
  }

  // ---- input --------------------------------------------------------------------------------------------------------

  private int readByte() throws IOException {
    if (pos >= length) {
      throw truncated();
    }
    int b = in.read();
    if (b < 0) {
      throw truncated();
    }
    pos++;
    return b;
  }

  private IOException truncated() {
    return fail("truncated pickle: the input ends at byte " + pos + " inside " + opName(op));
  }

  private byte[] readBytes(long n, String what) throws IOException {
    if (n < 0 || n > length - pos || n > MAX_ITEM_BYTES) {
      throw fail(what + " declares " + (n < 0 ? "a negative or huge length" : n + " bytes") + " but only "
          + (length - pos) + " bytes remain in the input (truncated or corrupt pickle)");
    }
    byte[] b = in.readNBytes((int) n);
    if (b.length < n) {
      pos += b.length;
      throw truncated();
    }
    pos += n;
    return b;
  }

  private int readI32() throws IOException {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v |= readByte() << (8 * i);
    }
    return v;
  }

  private long readU32() throws IOException {
    return readI32() & 0xffffffffL;
  }

  private long readLong8() throws IOException {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v |= ((long) readByte()) << (8 * i);
    }
    return v;
  }

  private byte[] readLineBytes() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (true) {
      int b = readByte();
      if (b == '\n') {
        return out.toByteArray();
      }
      out.write(b);
    }
  }

  private String readLine() throws IOException {
    byte[] b = readLineBytes();
    int n = b.length;
    if (n > 0 && b[n - 1] == '\r') {
      n--;
    }
    return new String(b, 0, n, StandardCharsets.UTF_8);
  }

  // ---- scalars ----------------------------------------------------------------------------------------------------

  private Object parseInteger(String s) throws IOException {
    try {
      BigInteger v = new BigInteger(s.strip());
      return v.bitLength() < 64 ? (Object) v.longValue() : v;
    } catch (NumberFormatException e) {
      throw fail("'" + abbreviate(s) + "' is not an integer");
    }
  }

  private static Object decodeLong(byte[] le) {
    if (le.length == 0) {
      return 0L;
    }
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private Double parseFloat(String s) throws IOException {
    String t = s.strip();
    switch (t) {
      case "inf", "+inf" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-inf" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "nan", "-nan", "+nan" -> {
        return Double.NaN;
      }
      default -> {
        try {
          if (t.isEmpty() || !t.chars().allMatch(c -> (c >= '0' && c <= '9') || "+-.eE".indexOf(c) >= 0)) {
            throw new NumberFormatException();
          }
          return Double.parseDouble(t);
        } catch (NumberFormatException e) {
          throw fail("'" + abbreviate(s) + "' is not a float");
        }
      }
    }
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Protocol 0's STRING argument: a Python bytes literal in single or double quotes, with backslash escapes. */
  private byte[] unescapeStringLiteral(byte[] b) throws IOException {
    int n = b.length;
    if (n > 0 && b[n - 1] == '\r') {
      n--;
    }
    if (n < 2 || b[0] != b[n - 1] || (b[0] != '\'' && b[0] != '"')) {
      throw fail("STRING argument is not a quoted literal");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 1; i < n - 1; i++) {
      int c = b[i] & 0xff;
      if (c != '\\' || i + 1 >= n - 1) {
        out.write(c);
        continue;
      }
      int e = b[++i] & 0xff;
      switch (e) {
        case 'n' -> out.write('\n');
        case 't' -> out.write('\t');
        case 'r' -> out.write('\r');
        case 'a' -> out.write(7);
        case 'b' -> out.write(8);
        case 'f' -> out.write(12);
        case 'v' -> out.write(11);
        case '\\', '\'', '"' -> out.write(e);
        case '\n' -> { }
        case 'x' -> {
          if (i + 2 >= n - 1 || hex(b[i + 1]) < 0 || hex(b[i + 2]) < 0) {
            throw fail("STRING has a bad \\x escape");
          }
          out.write(hex(b[i + 1]) * 16 + hex(b[i + 2]));
          i += 2;
        }
        default -> {
          if (e >= '0' && e <= '7') {
            int v = e - '0';
            for (int k = 0; k < 2 && i + 1 < n - 1 && b[i + 1] >= '0' && b[i + 1] <= '7'; k++) {
              v = v * 8 + (b[++i] - '0');
            }
            out.write(v & 0xff);
          } else {
            out.write('\\');
            out.write(e);
          }
        }
      }
    }
    return out.toByteArray();
  }

  private static int hex(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** Python's raw-unicode-escape: bytes are Latin-1 characters except {@code \\uXXXX} and {@code \\UXXXXXXXX}. */
  private String rawUnicodeEscape(byte[] b) throws IOException {
    StringBuilder s = new StringBuilder(b.length);
    int i = 0;
    while (i < b.length) {
      int c = b[i] & 0xff;
      if (c != '\\') {
        s.append((char) c);
        i++;
        continue;
      }
      int run = 0;
      while (i + run < b.length && b[i + run] == '\\') {
        run++;
      }
      int next = i + run < b.length ? b[i + run] : -1;
      if (run % 2 == 1 && (next == 'u' || next == 'U')) {
        s.append("\\".repeat(run - 1));
        int digits = next == 'u' ? 4 : 8;
        int start = i + run + 1;
        if (start + digits > b.length) {
          throw fail("UNICODE has a truncated \\" + (char) next + " escape");
        }
        int cp = 0;
        for (int k = 0; k < digits; k++) {
          int h = hex(b[start + k]);
          if (h < 0) {
            throw fail("UNICODE has a bad \\" + (char) next + " escape");
          }
          cp = cp * 16 + h;
        }
        if (!Character.isValidCodePoint(cp)) {
          throw fail("UNICODE escape \\U" + Integer.toHexString(cp) + " is not a code point");
        }
        s.appendCodePoint(cp);
        i = start + digits;
      } else {
        s.append("\\".repeat(run));
        i += run;
      }
    }
    return s.toString();
  }

  // ---- containers -------------------------------------------------------------------------------------------------

  private PyTuple tuple(Object[] items) throws IOException {
    boolean hashable = true;
    int depth = 1;
    for (Object o : items) {
      hashable &= isHashable(o);
      if (o instanceof PyTuple t) {
        depth = Math.max(depth, t.depth + 1);
      }
    }
    if (depth > MAX_TUPLE_DEPTH) {
      throw fail("tuples nest deeper than " + MAX_TUPLE_DEPTH);
    }
    return new PyTuple(items, hashable, depth);
  }

  private static boolean isHashable(Object o) {
    return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double
        || o instanceof Boolean || o instanceof byte[] || o instanceof Global || (o instanceof PyTuple t && t.hashable);
  }

  /** A dict key or set element: Python allows only hashable values there, and so does genzoo. */
  private Object key(Object k) throws IOException {
    if (!isHashable(k)) {
      throw fail("unhashable " + typeName(k) + " used as a dict key or set element");
    }
    return k;
  }

  // ---- globals and calls --------------------------------------------------------------------------------------------

  private Object resolveGlobal(String module, String name) throws IOException {
    String m = switch (module) {
      case "__builtin__" -> "builtins";
      case "copy_reg" -> "copyreg";
      default -> module;
    };
    String full = m + "." + name;
    DType storage = STORAGE_TYPES.get(full);
    if (storage != null) {
      return new Global(full, storage);
    }
    DType dtype = TORCH_DTYPES.get(full);
    if (dtype != null) {
      return new Global(full, dtype);
    }
    if (CALLABLES.contains(full)) {
      return new Global(full, null);
    }
    String hint = "";
    if (m.equals("__main__") || m.startsWith("torch.nn.") || m.startsWith("torch.optim.")) {
      hint = "The file pickles whole Python objects (torch.save(model)); save model.state_dict() instead";
    } else if (m.equals("torch") || m.startsWith("torch.")) {
      hint = "genzoo reads plain dense tensors; quantized, sparse, complex, meta tensors and tensor subclasses are "
          + "not supported";
    }
    throw new UnsafePickleException(source + " (byte " + opStart + ")", full, hint);
  }

  private PyTuple args(Object args, String callee, int min, int max) throws IOException {
    if (!(args instanceof PyTuple t)) {
      throw fail(callee + " called with " + typeName(args) + " instead of an argument tuple");
    }
    if (t.size() < min || t.size() > max) {
      throw fail(callee + " called with " + t.size() + " arguments, expected "
          + (min == max ? String.valueOf(min) : min + " to " + max));
    }
    return t;
  }

  private Object reduce(Object callable, Object argsObject) throws IOException {
    if (!(callable instanceof Global g)) {
      throw fail("REDUCE calls " + typeName(callable) + ", which is not a callable");
    }
    String f = g.name();
    switch (f) {
      case "torch._utils._rebuild_tensor" -> {
        PyTuple a = args(argsObject, f, 4, 4);
        return tensor(f, a, null);
      }
      case "torch._utils._rebuild_tensor_v2" -> {
        PyTuple a = args(argsObject, f, 6, 7);
        return tensor(f, a, null);
      }
      case "torch._utils._rebuild_tensor_v3" -> {
        PyTuple a = args(argsObject, f, 7, 8);
        if (!(a.get(6) instanceof Global d) || !TORCH_DTYPES.containsKey(d.name())) {
          throw fail(f + " needs a torch dtype as argument 7, got " + typeName(a.get(6)));
        }
        return tensor(f, a, d.dtype());
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
        PyTuple a = args(argsObject, f, f.endsWith("state") ? 4 : 3, 4);
        if (!(a.get(0) instanceof TensorRef)) {
          throw fail(f + " needs a tensor, got " + typeName(a.get(0)));
        }
        return a.get(0);
      }
      case "collections.OrderedDict" -> {
        PyTuple a = args(argsObject, f, 0, 1);
        Map<Object, Object> m = new LinkedHashMap<>();
        if (a.size() == 1) {
          for (Object pair : iterable(a.get(0), f)) {
            if (!(pair instanceof List<?> kv) || kv.size() != 2) {
              throw fail(f + " needs (key, value) pairs, got " + typeName(pair));
            }
            m.put(key(kv.get(0)), kv.get(1));
          }
        }
        orderedDicts.add(m);
        return m;
      }
      case "argparse.Namespace" -> {
        args(argsObject, f, 0, 0);
        return new TorchCheckpoint.Namespace(new LinkedHashMap<>());
      }
      case "torch.Size" -> {
        PyTuple a = args(argsObject, f, 0, 1);
        List<Object> dims = a.size() == 0 ? List.of() : iterable(a.get(0), f);
        for (Object d : dims) {
          if (!(d instanceof Long)) {
            throw fail("torch.Size of " + typeName(d));
          }
        }
        return tuple(dims.toArray());
      }
      case "builtins.set", "builtins.frozenset" -> {
        PyTuple a = args(argsObject, f, 0, 1);
        Set<Object> s = new LinkedHashSet<>();
        if (a.size() == 1) {
          for (Object o : iterable(a.get(0), f)) {
            s.add(key(o));
          }
        }
        return f.endsWith("frozenset") ? Collections.unmodifiableSet(s) : s;
      }
      case "_codecs.encode" -> {
        PyTuple a = args(argsObject, f, 1, 2);
        String enc = a.size() == 2 && a.get(1) instanceof String e ? e.toLowerCase() : "utf-8";
        if (!(a.get(0) instanceof String s)) {
          throw fail(f + " of " + typeName(a.get(0)));
        }
        if (enc.equals("latin1") || enc.equals("latin-1") || enc.equals("iso-8859-1")) {
          byte[] out = new byte[s.length()];
          for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > 0xff) {
              throw fail(f + ": character U+" + Integer.toHexString(c) + " is not Latin-1");
            }
            out[i] = (byte) c;
          }
          return out;
        }
        if (enc.equals("utf-8") || enc.equals("utf8")) {
          return s.getBytes(StandardCharsets.UTF_8);
        }
        throw fail(f + " with encoding " + abbreviate(enc) + " (only latin1 and utf-8)");
      }
      case "numpy.dtype" -> {
        PyTuple a = args(argsObject, f, 1, 3);
        if (!(a.get(0) instanceof String code)) {
          throw fail("numpy.dtype of " + typeName(a.get(0)));
        }
        NumpyDtype d = new NumpyDtype(code);
        numpyType(d); // refuse structured, object and string dtypes up front
        return d;
      }
      case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar" -> {
        PyTuple a = args(argsObject, f, 1, 2);
        if (!(a.get(0) instanceof NumpyDtype d)) {
          throw fail(f + " needs a numpy dtype, got " + typeName(a.get(0)));
        }
        if (a.size() < 2) {
          throw fail(f + " without data (object scalars are not supported)");
        }
        return numpyScalar(d, bytesOf(a.get(1), f));
      }
      case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct" -> {
        PyTuple a = args(argsObject, f, 3, 3);
        if (!(a.get(0) instanceof Global c) || !c.name().equals("numpy.ndarray")) {
          throw fail(f + " of " + typeName(a.get(0)) + " (only numpy.ndarray)");
        }
        return new NumpyArray();
      }
      default -> throw fail(f + " cannot be called");
    }
  }

  private Object newObject(Object cls, Object argsObject, Object kwargs) throws IOException {
    if (!(cls instanceof Global g)) {
      throw fail("NEWOBJ of " + typeName(cls) + ", which is not a class");
    }
    if (kwargs != null && !(kwargs instanceof Map<?, ?> m && m.isEmpty())) {
      throw fail("NEWOBJ_EX of " + g.name() + " with keyword arguments");
    }
    return switch (g.name()) {
      case "argparse.Namespace" -> {
        args(argsObject, g.name(), 0, 0);
        yield new TorchCheckpoint.Namespace(new LinkedHashMap<>());
      }
      case "collections.OrderedDict" -> {
        args(argsObject, g.name(), 0, 0);
        Map<Object, Object> m = new LinkedHashMap<>();
        orderedDicts.add(m);
        yield m;
      }
      case "builtins.set" -> {
        args(argsObject, g.name(), 0, 0);
        yield new LinkedHashSet<>();
      }
      default -> throw fail("NEWOBJ of " + g.name() + " is not supported");
    };
  }

  private void build(Object target, Object state) throws IOException {
    if (target instanceof Map<?, ?> && orderedDicts.contains(target)) {
      // An OrderedDict's attributes (a state dict's _metadata): they must not touch its entries, and genzoo does not
      // need them.
      return;
    }
    if (target instanceof TorchCheckpoint.Namespace ns) {
      Object dict = state instanceof PyTuple t && t.size() == 2 ? t.get(0) : state;
      if (!(dict instanceof Map<?, ?> m)) {
        throw fail("BUILD of argparse.Namespace with " + typeName(state));
      }
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String name)) {
          throw fail("argparse.Namespace attribute named by " + typeName(e.getKey()));
        }
        ns.values().put(name, e.getValue());
      }
      return;
    }
    if (target instanceof NumpyDtype d) {
      if (!(state instanceof PyTuple t) || t.size() < 8) {
        throw fail("BUILD of a numpy dtype with " + typeName(state));
      }
      if (t.get(2) != null || t.get(3) != null || t.get(4) != null) {
        throw fail("structured numpy dtype " + d.code + " is not supported");
      }
      if (!(t.get(1) instanceof String order) || order.length() != 1 || "<>|=".indexOf(order.charAt(0)) < 0) {
        throw fail("numpy dtype byte order " + typeName(t.get(1)));
      }
      d.byteOrder = order.charAt(0);
      return;
    }
    if (target instanceof NumpyArray a) {
      buildArray(a, state);
      return;
    }
    throw fail("BUILD on " + typeName(target) + " is not supported");
  }

  private List<Object> iterable(Object o, String callee) throws IOException {
    if (o instanceof List<?> l) {
      return new ArrayList<>(l);
    }
    if (o instanceof Set<?> s) {
      return new ArrayList<>(s);
    }
    throw fail(callee + " of " + typeName(o) + " (a list or tuple expected)");
  }

  private byte[] bytesOf(Object o, String callee) throws IOException {
    if (o instanceof byte[] b) {
      return b;
    }
    if (o instanceof String s) { // Python 2 str holding raw bytes
      byte[] b = new byte[s.length()];
      for (int i = 0; i < s.length(); i++) {
        if (s.charAt(i) > 0xff) {
          throw fail(callee + ": raw data holds a non-Latin-1 character");
        }
        b[i] = (byte) s.charAt(i);
      }
      return b;
    }
    throw fail(callee + " needs raw bytes, got " + typeName(o));
  }

  // ---- torch --------------------------------------------------------------------------------------------------------

  private TensorRef tensor(String f, PyTuple a, DType dtype) throws IOException {
    if (!(a.get(0) instanceof StorageRef storage)) {
      throw fail(f + " needs a storage as argument 1, got " + typeName(a.get(0)));
    }
    if (!(a.get(1) instanceof Long offset)) {
      throw fail(f + " needs an integer storage offset, got " + typeName(a.get(1)));
    }
    long[] size = longs(a.get(2), f + " size");
    long[] stride = longs(a.get(3), f + " stride");
    if (size.length != stride.length) {
      throw fail(f + ": size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride)
          + " differ in rank");
    }
    return new TensorRef(storage, offset, size, stride, dtype == null ? storage.dtype() : dtype);
  }

  private long[] longs(Object o, String what) throws IOException {
    if (!(o instanceof List<?> l)) {
      throw fail(what + " is " + typeName(o) + ", not a tuple of integers");
    }
    long[] out = new long[l.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(l.get(i) instanceof Long v)) {
        throw fail(what + " holds " + typeName(l.get(i)) + ", not an integer");
      }
      out[i] = v;
    }
    return out;
  }

  /**
   * torch's persistent ids: {@code ('storage', StorageType, key, location, numel)} in the zip format, with a sixth
   * element {@code None} or {@code (view_key, offset, view_numel)} in the legacy format.
   */
  private StorageRef persistentLoad(Object pid) throws IOException {
    if (!(pid instanceof PyTuple t) || t.size() < 5 || t.size() > 6 || !"storage".equals(t.get(0))) {
      throw fail("unsupported persistent id " + abbreviate(String.valueOf(pid))
          + " (genzoo knows torch's ('storage', type, key, location, numel))");
    }
    if (!(t.get(1) instanceof Global g) || !STORAGE_TYPES.containsKey(g.name())) {
      throw fail("persistent id names " + typeName(t.get(1)) + ", not a torch storage type");
    }
    if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)
        || !(t.get(4) instanceof Long numel) || numel < 0) {
      throw fail("persistent id " + abbreviate(String.valueOf(pid)) + " is not (type, str key, str location, numel)");
    }
    StorageRef root = storages.get(key);
    if (root == null) {
      root = new StorageRef(key, g.dtype(), numel, 0, numel, location);
      storages.put(key, root);
    } else if (root.dtype() != g.dtype() || root.rootNumel() != numel) {
      throw fail("storage " + key + " is referenced as " + g.dtype() + "[" + numel + "] and as " + root.dtype() + "["
          + root.rootNumel() + "]");
    }
    Object view = t.size() == 6 ? t.get(5) : null;
    if (view == null) {
      return root;
    }
    if (!(view instanceof PyTuple v) || v.size() != 3 || !(v.get(1) instanceof Long off)
        || !(v.get(2) instanceof Long n)) {
      throw fail("storage view " + abbreviate(String.valueOf(view)) + " is not (key, offset, numel)");
    }
    if (off < 0 || n < 0 || off > numel || n > numel - off) {
      throw fail("storage view [" + off + ", +" + n + ") lies outside storage " + key + " of " + numel + " elements");
    }
    return new StorageRef(key, g.dtype(), numel, off, n, location);
  }

  // ---- numpy --------------------------------------------------------------------------------------------------------

  /** The genzoo type of a NumPy dtype code ({@code f8}, {@code i4}, {@code u1}, {@code b1}, ...). */
  private DType numpyType(NumpyDtype d) throws IOException {
    String code = d.code.startsWith("<") || d.code.startsWith(">") || d.code.startsWith("|")
        || d.code.startsWith("=") ? d.code.substring(1) : d.code;
    if (code.length() >= 2 && "fiub".indexOf(code.charAt(0)) >= 0) {
      try {
        return DType.ofNumpy((code.endsWith("1") && code.length() == 2 ? "|" : "<") + code);
      } catch (IllegalArgumentException e) {
        // fall through
      }
    }
    throw fail("numpy dtype '" + abbreviate(d.code) + "' is not a plain number type (genzoo rebuilds only bool, "
        + "integer and float numpy values)");
  }

  private static boolean bigEndian(NumpyDtype d) {
    return d.byteOrder == '>' || d.code.startsWith(">");
  }

  private Object numpyScalar(NumpyDtype d, byte[] raw) throws IOException {
    DType t = numpyType(d);
    if (raw.length != t.byteSize()) {
      throw fail("numpy " + d.descr() + " scalar with " + raw.length + " bytes");
    }
    byte[] le = bigEndian(d) ? swapped(raw, t.byteSize()) : raw;
    ByteBuffer b = ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN);
    return switch (t) {
      case BOOL -> le[0] != 0;
      case U8 -> (long) (le[0] & 0xff);
      case I8 -> (long) le[0];
      case I16 -> (long) b.getShort();
      case U16 -> (long) (b.getShort() & 0xffff);
      case I32 -> (long) b.getInt();
      case U32 -> b.getInt() & 0xffffffffL;
      case I64 -> b.getLong();
      case U64 -> {
        long v = b.getLong();
        yield v >= 0 ? (Object) v : new BigInteger(Long.toUnsignedString(v));
      }
      case F16, BF16, F32, F64 -> new NamedTensor("", t, new long[0], le).toDoubles()[0];
    };
  }

  private void buildArray(NumpyArray a, Object state) throws IOException {
    if (!(state instanceof PyTuple t) || (t.size() != 5 && t.size() != 4)) {
      throw fail("BUILD of a numpy array with " + typeName(state));
    }
    int o = t.size() == 5 ? 1 : 0;
    long[] shape = longs(t.get(o), "numpy array shape");
    if (!(t.get(o + 1) instanceof NumpyDtype d)) {
      throw fail("numpy array with dtype " + typeName(t.get(o + 1)));
    }
    if (!(t.get(o + 2) instanceof Boolean fortran)) {
      throw fail("numpy array order flag " + typeName(t.get(o + 2)));
    }
    if (t.get(o + 3) instanceof List) {
      throw fail("numpy object arrays are not supported");
    }
    DType type = numpyType(d);
    byte[] raw = bytesOf(t.get(o + 3), "numpy array");
    long n = 1;
    for (long s : shape) {
      if (s < 0) {
        throw fail("numpy array shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, s);
    }
    if (n * type.byteSize() != raw.length) {
      throw fail("numpy " + d.descr() + Arrays.toString(shape) + " array with " + raw.length + " bytes of data");
    }
    byte[] le = bigEndian(d) ? swapped(raw, type.byteSize()) : raw;
    if (fortran && shape.length > 1) {
      long[] reversed = new long[shape.length];
      int[] perm = new int[shape.length];
      for (int i = 0; i < shape.length; i++) {
        reversed[i] = shape[shape.length - 1 - i];
        perm[i] = shape.length - 1 - i;
      }
      a.value = new NamedTensor("", type, reversed, le).transpose(perm);
    } else {
      a.value = new NamedTensor("", type, shape, le);
    }
  }

  static byte[] swapped(byte[] data, int elementSize) {
    byte[] out = new byte[data.length];
    for (int i = 0; i + elementSize <= data.length; i += elementSize) {
      for (int k = 0; k < elementSize; k++) {
        out[i + k] = data[i + elementSize - 1 - k];
      }
    }
    return out;
  }

  // ---- messages -----------------------------------------------------------------------------------------------------

  private IOException fail(String message) {
    return new IOException(source + ": byte " + opStart + " (" + opName(op) + "): " + message);
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  static String typeName(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof Global g) {
      return g.name();
    }
    if (o instanceof PyTuple) {
      return "a tuple";
    }
    if (o instanceof List) {
      return "a list";
    }
    if (o instanceof Map) {
      return "a dict";
    }
    if (o instanceof Set) {
      return "a set";
    }
    if (o instanceof String) {
      return "a str";
    }
    if (o instanceof byte[]) {
      return "bytes";
    }
    if (o instanceof Long || o instanceof BigInteger) {
      return "an int";
    }
    if (o instanceof Double) {
      return "a float";
    }
    if (o instanceof Boolean) {
      return "a bool";
    }
    if (o instanceof TensorRef) {
      return "a tensor";
    }
    if (o instanceof StorageRef) {
      return "a storage";
    }
    if (o instanceof TorchCheckpoint.Namespace) {
      return "an argparse.Namespace";
    }
    if (o instanceof NumpyDtype) {
      return "a numpy dtype";
    }
    if (o instanceof NumpyArray) {
      return "a numpy array";
    }
    return o.getClass().getSimpleName();
  }

  private static String opName(int op) {
    return switch (op) {
      case 0x80 -> "PROTO";
      case 0x95 -> "FRAME";
      case '.' -> "STOP";
      case '(' -> "MARK";
      case '0' -> "POP";
      case '1' -> "POP_MARK";
      case '2' -> "DUP";
      case 'N' -> "NONE";
      case 0x88 -> "NEWTRUE";
      case 0x89 -> "NEWFALSE";
      case 'I' -> "INT";
      case 'J' -> "BININT";
      case 'K' -> "BININT1";
      case 'M' -> "BININT2";
      case 'L' -> "LONG";
      case 0x8a -> "LONG1";
      case 0x8b -> "LONG4";
      case 'F' -> "FLOAT";
      case 'G' -> "BINFLOAT";
      case 'S' -> "STRING";
      case 'T' -> "BINSTRING";
      case 'U' -> "SHORT_BINSTRING";
      case 'V' -> "UNICODE";
      case 'X' -> "BINUNICODE";
      case 0x8c -> "SHORT_BINUNICODE";
      case 0x8d -> "BINUNICODE8";
      case 'B' -> "BINBYTES";
      case 'C' -> "SHORT_BINBYTES";
      case 0x8e -> "BINBYTES8";
      case 0x96 -> "BYTEARRAY8";
      case '}' -> "EMPTY_DICT";
      case 'd' -> "DICT";
      case 's' -> "SETITEM";
      case 'u' -> "SETITEMS";
      case ']' -> "EMPTY_LIST";
      case 'l' -> "LIST";
      case 'a' -> "APPEND";
      case 'e' -> "APPENDS";
      case ')' -> "EMPTY_TUPLE";
      case 't' -> "TUPLE";
      case 0x85 -> "TUPLE1";
      case 0x86 -> "TUPLE2";
      case 0x87 -> "TUPLE3";
      case 0x8f -> "EMPTY_SET";
      case 0x90 -> "ADDITEMS";
      case 0x91 -> "FROZENSET";
      case 'c' -> "GLOBAL";
      case 0x93 -> "STACK_GLOBAL";
      case 'i' -> "INST";
      case 'o' -> "OBJ";
      case 'R' -> "REDUCE";
      case 0x81 -> "NEWOBJ";
      case 0x92 -> "NEWOBJ_EX";
      case 'b' -> "BUILD";
      case 'p' -> "PUT";
      case 'q' -> "BINPUT";
      case 'r' -> "LONG_BINPUT";
      case 0x94 -> "MEMOIZE";
      case 'g' -> "GET";
      case 'h' -> "BINGET";
      case 'j' -> "LONG_BINGET";
      case 'P' -> "PERSID";
      case 'Q' -> "BINPERSID";
      default -> String.format("opcode 0x%02x", op);
    };
  }
}
