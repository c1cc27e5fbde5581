package dev.genzoo.graphs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.data.Batch;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.TrainGraph;
import java.nio.file.Path;
import org.tensorflow.Session;

/**
 * A generative model in a TensorFlow graph with its session: what every family offers.
 *
 * <p>A model is built either for inference (sampling and, where defined, likelihoods) or for training (the same, plus
 * the training step in {@link #trainGraph()}). Variables are fresh when built; {@link #restoreWeights(Path)} loads a
 * bundle's checkpoint. Close the model to free its native graph and session.
 */
public interface GenerativeModel extends AutoCloseable {
  /** The family name: "flow", "ddpm", ... */
  String family();

  /** The family's config, as JSON (the form saved in model.json). */
  JsonNode config();

  /** Shape of one example: [H, W, C] for images, [d] for points. */
  long[] dataShape();

  /** Draws {@code n} samples: images in [0, 1] NHWC, points in data coordinates. */
  Samples sample(int n, SampleOptions options);

  /** True when {@link #logProb} is defined (exactly or as a bound). */
  boolean hasLikelihood();

  /**
   * Log-likelihood in nats per example: exact for flows, a lower bound for VAEs and DDPM. Images are given on the 8-bit
   * scale (values in [0, 256) after dequantisation); the value is then the log-probability of the discrete image, so
   * bits/dim = -logProb / (D ln 2). Points get their log-density.
   *
   * @throws UnsupportedOperationException if the family has no likelihood
   */
  double[] logProb(Batch batch);

  /**
   * What {@link #logProb} computes: "exact" (flows), or a description of the bound (e.g. DDPM's variational bound),
   * which evaluations print beside their numbers.
   */
  default String likelihoodKind() {
    return "exact";
  }

  /** True when {@link #energy} is defined: energy-based models, whose density is exp(-U(x)) / Z with Z unknown. */
  default boolean hasEnergy() {
    return false;
  }

  /**
   * The energy U(x) = -log p(x) - log Z of each example, in nats, for models defined by an unnormalised density;
   * examples are given as for {@link #logProb}.
   *
   * @throws UnsupportedOperationException if the family has no energy
   */
  default double[] energy(Batch batch) {
    throw new UnsupportedOperationException(family() + " models have no energy function");
  }

  /** Mean bits per dimension over batches on the 8-bit scale: -logProb / (D ln 2). */
  default double bitsPerDim(Iterable<Batch> batches) {
    double total = 0;
    long count = 0;
    long dims = 1;
    for (long d : dataShape()) {
      dims *= d;
    }
    for (Batch b : batches) {
      for (double lp : logProb(b)) {
        total += -lp / (dims * Math.log(2));
        count++;
      }
    }
    if (count == 0) {
      throw new IllegalArgumentException("no data to evaluate bits/dim on");
    }
    return total / count;
  }

  /** The variables, by checkpoint name. */
  VarStore variables();

  /** The session the model runs in. */
  Session session();

  /** The training step and its handles; null when the model was built for inference only. */
  TrainGraph trainGraph();

  /** Number of trainable parameters. */
  default long parameterCount() {
    return variables().parameterCount();
  }

  /** Writes the model's weights (the EMA averages where the model keeps them) as a checkpoint at {@code prefix}. */
  void saveWeights(Path prefix);

  /** Loads weights saved by {@link #saveWeights(Path)} (a bundle's {@code variables} checkpoint). */
  void restoreWeights(Path prefix);

  @Override
  void close();
}
