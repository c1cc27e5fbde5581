package dev.genzoo.checkpoints.formats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads, writes and lists checkpoints of any supported {@link CheckpointFormat}, detected from the file's content.
 */
public final class Checkpoints {
  private Checkpoints() {}

  /**
   * What {@link #list(Path)} reports of one tensor.
   *
   * @param name the tensor's name in the file
   * @param dtype a {@link DType} name ({@code F32}), or the format's own name of a type genzoo does not read
   *     ({@code DT_STRING})
   * @param shape dimensions; empty for a scalar
   * @param bytes size of the tensor's data in bytes
   */
  public record TensorInfo(String name, String dtype, long[] shape, long bytes) {
    public TensorInfo {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    /** The {@link DType}, or null when genzoo does not read this tensor's type. */
    public DType type() {
      try {
        return DType.valueOf(dtype);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }

    /** {@code name F32[3, 3]}. */
    @Override
    public String toString() {
      return name + " " + dtype + NamedTensor.shapeString(shape);
    }
  }

  /** Reads every tensor of {@code path}, whatever its format (see {@link CheckpointFormat#detect(Path)}). */
  public static TensorSet read(Path path) throws IOException {
    return read(path, CheckpointFormat.detect(path));
  }

  /** Reads {@code path} as {@code format}. */
  public static TensorSet read(Path path, CheckpointFormat format) throws IOException {
    return switch (format) {
      case TF_BUNDLE -> TensorBundle.read(path);
      case SAFETENSORS -> Safetensors.read(path);
      case NPZ -> NumpyFiles.readNpz(path);
      case NPY -> NumpyFiles.readNpy(path);
      case PYTORCH -> TorchCheckpoint.read(path).tensors();
    };
  }

  /**
   * Writes {@code tensors} to {@code path} in {@code format}, atomically. For {@link CheckpointFormat#TF_BUNDLE}
   * {@code path} is the prefix; {@link CheckpointFormat#NPY} needs a set of exactly one tensor.
   *
   * @throws UnsupportedOperationException for {@link CheckpointFormat#PYTORCH}, which genzoo only reads
   */
  public static void write(TensorSet tensors, Path path, CheckpointFormat format) throws IOException {
    switch (format) {
      case TF_BUNDLE -> TensorBundle.write(tensors, path);
      case SAFETENSORS -> Safetensors.write(tensors, path);
      case NPZ -> NumpyFiles.writeNpz(tensors, path);
      case NPY -> NumpyFiles.writeNpy(tensors, path);
      case PYTORCH -> throw new UnsupportedOperationException("writing PyTorch checkpoints is not supported (genzoo "
          + "never writes pickles); write safetensors or .npz instead, which torch reads through safetensors or "
          + "numpy: " + path);
    }
  }

  /**
   * Names, dtypes, shapes and sizes of the tensors of {@code path}. TensorFlow bundles and safetensors are listed
   * from their headers alone; NumPy and PyTorch files are read.
   */
  public static List<TensorInfo> list(Path path) throws IOException {
    CheckpointFormat format = CheckpointFormat.detect(path);
    return switch (format) {
      case TF_BUNDLE -> TensorBundle.list(path);
      case SAFETENSORS -> Safetensors.list(path);
      default -> describe(read(path, format));
    };
  }

  /** The infos of tensors in memory. */
  public static List<TensorInfo> describe(TensorSet tensors) {
    List<TensorInfo> out = new ArrayList<>();
    for (NamedTensor t : tensors) {
      out.add(new TensorInfo(t.name(), t.dtype().name(), t.shape(), t.data().length));
    }
    return out;
  }
}
