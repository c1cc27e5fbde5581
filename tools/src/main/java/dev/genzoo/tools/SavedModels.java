package dev.genzoo.tools;

import dev.genzoo.graphs.Exportable;
import dev.genzoo.graphs.Exportable.ExportedSignature;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.proto.DataType;
import org.tensorflow.ndarray.Shape;

/**
 * Writes a model as a TensorFlow SavedModel ({@code saved_model.pb} with the graph, its functions and signatures, and
 * {@code variables/} with every variable), atomically: the folder is filled as a hidden temporary sibling and renamed
 * into place, so a failed export leaves nothing behind. The signatures are the model's own
 * ({@link Exportable#exportSignatures}); the SavedModel's tag is {@code serve}.
 */
public final class SavedModels {
  /** The tag of the exported meta graph, as {@code SavedModelBundle.load(dir, "serve")} expects. */
  public static final String TAG = "serve";

  private SavedModels() {}

  /**
   * Adds {@code model}'s signatures to its graph and writes the SavedModel to {@code dir}.
   *
   * @param batch the fixed batch of {@code sample} (0: an {@code n} input)
   * @param sampling the sampler settings baked into {@code sample}
   * @param force replace an existing non-empty {@code dir}; without it such a folder is refused (an empty one is
   *     replaced)
   * @return the exported signatures
   * @throws FileAlreadyExistsException if {@code dir} exists, is not empty and {@code force} is off
   * @throws UnsupportedOperationException if the model's family cannot be exported
   */
  public static List<ExportedSignature> export(GenerativeModel model, Path dir, int batch, SampleOptions sampling,
      boolean force) throws IOException {
    if (!(model instanceof Exportable exportable)) {
      throw new UnsupportedOperationException(model.family() + " models cannot be exported as SavedModels");
    }
    boolean exists = checkTarget(dir, force);
    List<ExportedSignature> signatures = exportable.exportSignatures(batch, sampling);
    AtomicFiles.writeFolder(dir, exists, tmp -> {
      SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(tmp.toString()).withTags(TAG)
          .withSession(model.session());
      for (ExportedSignature s : signatures) {
        exporter.withFunction(SessionFunction.create(s.signature(), model.session()));
      }
      exporter.export();
    });
    return signatures;
  }

  /**
   * Checks that a SavedModel may be written to {@code dir}: it does not exist, is an empty folder, or {@code force}
   * is set (a file is never replaced). Returns whether it exists.
   *
   * @throws FileAlreadyExistsException otherwise, with a message naming the folder
   */
  public static boolean checkTarget(Path dir, boolean force) throws IOException {
    boolean exists = Files.exists(dir);
    if (exists && !Files.isDirectory(dir)) {
      throw new FileAlreadyExistsException(dir.toString(), null, "the --saved-model path is a file, not a folder");
    }
    if (exists && !force && !isEmpty(dir)) {
      throw new FileAlreadyExistsException(dir.toString(), null,
          "the --saved-model folder exists and is not empty; use --force to replace it");
    }
    return exists;
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.findAny().isEmpty();
    }
  }

  /**
   * The signatures as text, one block per signature: its key and description, then each input and output with its
   * dtype and shape ({@code -1} for a dimension given at run time), e.g. {@code   input seed: int64 []}.
   */
  public static String describe(List<ExportedSignature> signatures) {
    StringBuilder b = new StringBuilder();
    for (ExportedSignature s : signatures) {
      b.append(describe(s.signature()));
      if (s.description() != null && !s.description().isBlank()) {
        b.append("  ").append(s.description()).append('\n');
      }
    }
    return b.toString();
  }

  /** One signature as text (see {@link #describe(List)}). */
  public static String describe(Signature s) {
    StringBuilder b = new StringBuilder("signature ").append(s.key()).append('\n');
    tensors(b, "input", s.getInputs());
    tensors(b, "output", s.getOutputs());
    return b.toString();
  }

  private static void tensors(StringBuilder b, String what, Map<String, Signature.TensorDescription> map) {
    for (Map.Entry<String, Signature.TensorDescription> e : map.entrySet()) {
      b.append("  ").append(what).append(' ').append(e.getKey()).append(": ").append(dtype(e.getValue().dataType))
          .append(' ').append(shape(e.getValue().shape)).append('\n');
    }
  }

  /** "float32", "int64", ... for a TensorFlow dtype. */
  static String dtype(DataType t) {
    return switch (t) {
      case DT_FLOAT -> "float32";
      case DT_DOUBLE -> "float64";
      case DT_HALF -> "float16";
      case DT_BFLOAT16 -> "bfloat16";
      default -> t.name().substring(3).toLowerCase(Locale.ROOT);
    };
  }

  /** "[-1, 28, 28, 1]", "[]" for a scalar, "unknown" for an unknown rank. */
  static String shape(Shape shape) {
    if (shape.isUnknown()) {
      return "unknown";
    }
    List<String> dims = new ArrayList<>();
    for (int i = 0; i < shape.numDimensions(); i++) {
      dims.add(Long.toString(shape.get(i)));
    }
    return "[" + String.join(", ", dims) + "]";
  }
}
