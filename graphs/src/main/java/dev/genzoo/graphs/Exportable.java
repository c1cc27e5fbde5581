package dev.genzoo.graphs;

import java.util.List;
import org.tensorflow.Signature;

/**
 * A model that can describe itself as TensorFlow SavedModel signatures: functions of its graph that a SavedModel
 * consumer (TF Serving, Python {@code tf.saved_model.load}, TF Java's {@code SavedModelBundle}) calls without genzoo.
 *
 * <p>{@link #exportSignatures} adds the signature ops to the model's own graph, next to its variables, so the
 * SavedModel exporter saves the weights with them. The conventions every family follows:
 * <ul>
 *   <li>{@code sample}: input {@code seed}, an int64 scalar, the same seed as {@code genzoo sample --seed}; input
 *       {@code n}, an int32 scalar, the number of samples (absent when the export fixes the batch); output {@code x},
 *       float32, images NHWC in [0, 1] or points [n, d]. The samples are those of {@link GenerativeModel#sample} with
 *       that seed and the export's sampler settings, drawn as one chunk: equal to {@code sample(n, seed)} whenever
 *       n is at most the model's sampling batch size (larger n gives other, equally valid draws, as
 *       {@code sample} with {@code batchSize = n} does). Iterative samplers run their steps in the graph as one
 *       TensorFlow {@code While} loop ({@link dev.genzoo.graphs.export.GraphLoop}).
 *   <li>{@code log_prob}: input {@code x} (8-bit images or points, as {@link GenerativeModel#logProb}), output
 *       {@code log_prob} float32 [n], nats per example, where the family computes it in one graph.
 *   <li>{@code energy}: input {@code x}, output {@code energy} float32 [n], for energy-based models.
 * </ul>
 */
public interface Exportable {
  /**
   * One exported function: its signature (inputs and outputs are operands of the model's graph) and a sentence on
   * what it computes, printed by {@code genzoo export}.
   */
  record ExportedSignature(Signature signature, String description) {}

  /**
   * Adds this model's signatures to its graph and returns them. Each call builds a fresh set of ops (under a new
   * name scope), so call it once per export.
   *
   * @param batch the fixed number of samples of {@code sample} (no {@code n} input), or 0 for an {@code n} input
   * @param sampling the sampler settings baked into {@code sample}: temperature, sampler name and steps, guidance and
   *     label as for {@link GenerativeModel#sample}; its seed only matters where the family derives export-time state
   *     from a seed (NVAE's BatchNorm readjustment), and its batch size is ignored
   */
  List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling);
}
