package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.TensorSet;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Turns an upstream release (the authors' TF1 or PyTorch checkpoint) into genzoo weights: it reads the file and picks
 * the tensors that hold the model (EMA shadows, the {@code ema_state} entry, ...), chooses the genzoo config those
 * weights belong to, and gives the {@link NameMap} from upstream names to genzoo variables. {@link Converters#toBundle}
 * does the rest (shape checks, the bundle, a load test).
 */
public interface ModelConverter {
  /** The converter's name in the registry and on the command line ({@code ddpm-tf1}). */
  String name();

  /** The genzoo family it produces. */
  String family();

  /** One line: which upstream release, which format. */
  String description();

  /**
   * Reads the upstream checkpoint and returns the tensors to convert, under their upstream names (after choosing
   * among several copies, e.g. EMA over raw weights). Non-tensor facts a config needs (NVAE's {@code args}) go into
   * the set's metadata.
   *
   * @param checkpoint the file (for a TF checkpoint: its prefix or its {@code .index} file)
   */
  TensorSet read(Path checkpoint) throws IOException;

  /**
   * The genzoo config of these weights: the family's CIFAR-10 preset, adjusted to what the checkpoint holds (e.g. its
   * channel count), or {@code requested} when given (checked by the name map's shapes).
   */
  JsonNode config(TensorSet upstream, JsonNode requested);

  /** The table from upstream names to the variables of a model with {@code config}. */
  NameMap nameMap(JsonNode config);
}
