package dev.genzoo.checkpoints.formats;

import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * NumPy {@code .npy} and {@code .npz} files as {@link TensorSet}s, through graphs' {@link Npy} and {@link Npz}
 * readers: an {@code .npz} key is the tensor name ({@code a/b} is fine: the entry is {@code a/b.npy}), and an
 * {@code .npy} file holds one tensor named after the file ({@code mu.npy} holds {@code mu}). Big-endian arrays are
 * converted to little-endian; NumPy has no bfloat16, so BF16 tensors cannot be written (convert them with
 * {@link NamedTensor#toF32()} first). Metadata is not stored.
 */
public final class NumpyFiles {
  private static final String NPY = ".npy";

  private NumpyFiles() {}

  /** The tensor of a NumPy array (C order, converted to little-endian). */
  public static NamedTensor toTensor(String name, NpyArray a) {
    String descr = a.descr();
    char kind = descr.charAt(1);
    int size = a.itemSize();
    byte[] data = a.data();
    boolean bigEndian = descr.charAt(0) == '>'
        || (descr.charAt(0) == '=' && java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.BIG_ENDIAN);
    if (bigEndian && size > 1) {
      data = data.clone();
      for (int i = 0; i < data.length; i += size) {
        for (int j = 0; j < size / 2; j++) {
          byte t = data[i + j];
          data[i + j] = data[i + size - 1 - j];
          data[i + size - 1 - j] = t;
        }
      }
    }
    String le = (size == 1 ? "|" : "<") + kind + size;
    DType dtype;
    try {
      dtype = DType.ofNumpy(le);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("array " + name + ": " + e.getMessage(), e);
    }
    return new NamedTensor(name, dtype, a.shape(), data);
  }

  /** The NumPy array of a tensor; fails for BF16, which NumPy lacks. */
  public static NpyArray toNpy(NamedTensor t) {
    String descr = t.dtype().numpyDescr();
    if (descr == null) {
      throw new IllegalArgumentException("tensor " + t + ": NumPy has no " + t.dtype() + " dtype; convert it with "
          + "toF32() before writing .npy/.npz");
    }
    return new NpyArray(descr, t.shape(), t.data());
  }

  /** Reads an {@code .npy} file as a set of one tensor named after the file (without {@code .npy}). */
  public static TensorSet readNpy(Path file) throws IOException {
    NpyArray a = Npy.read(file);
    String name = file.getFileName().toString();
    if (name.endsWith(NPY) && name.length() > NPY.length()) {
      name = name.substring(0, name.length() - NPY.length());
    }
    TensorSet out = new TensorSet(file.toString());
    out.add(wrap(file, name, a));
    return out;
  }

  /** Reads every array of an {@code .npz} file, in archive order; keys become tensor names. */
  public static TensorSet readNpz(Path file) throws IOException {
    TensorSet out = new TensorSet(file.toString());
    for (Map.Entry<String, NpyArray> e : Npz.readAll(file).entrySet()) {
      out.add(wrap(file, e.getKey(), e.getValue()));
    }
    return out;
  }

  private static NamedTensor wrap(Path file, String name, NpyArray a) throws IOException {
    try {
      return toTensor(name, a);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  /** Writes one tensor as an {@code .npy} file, atomically. */
  public static void writeNpy(NamedTensor tensor, Path file) throws IOException {
    Npy.write(file, toNpy(tensor));
  }

  /** Writes the only tensor of {@code tensors} as an {@code .npy} file; a set of another size is an error. */
  public static void writeNpy(TensorSet tensors, Path file) throws IOException {
    if (tensors.size() != 1) {
      throw new IllegalArgumentException("an .npy file holds one array but " + tensors.source() + " has "
          + tensors.size() + " tensors; write an .npz instead");
    }
    writeNpy(tensors.iterator().next(), file);
  }

  /** Writes {@code tensors} as an uncompressed {@code .npz} ({@code numpy.savez}), atomically. */
  public static void writeNpz(TensorSet tensors, Path file) throws IOException {
    writeNpz(tensors, file, false);
  }

  /**
   * Writes {@code tensors} as an {@code .npz}, each entry deflated when {@code compress} is set (like
   * {@code numpy.savez_compressed}) or stored; atomically.
   *
   * @throws IllegalArgumentException for a BF16 tensor, or a name that is empty, starts with {@code /} or
   *     {@code \}, or has a {@code ..} path segment
   */
  public static void writeNpz(TensorSet tensors, Path file, boolean compress) throws IOException {
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    for (NamedTensor t : tensors) {
      arrays.put(t.name(), toNpy(t));
    }
    try {
      Npz.write(file, arrays, compress);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(tensors.source() + ": " + e.getMessage(), e);
    }
  }
}
