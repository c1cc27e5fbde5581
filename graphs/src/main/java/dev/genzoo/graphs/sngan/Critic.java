package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Pass;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A GAN critic (discriminator) D(x): examples [N, ...] to logits [N]. Its layers are spectrally normalised; a training
 * pass runs one power iteration per layer and records the update of the persistent vectors on the pass.
 */
public interface Critic {
  Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass);

  /**
   * The values of this copy's trainable variables by checkpoint name, in creation order: the regular reads for the
   * network built in a scope, the fresh reads for a copy built under {@link dev.genzoo.graphs.nn.VarScope#reuseAfter}.
   * Gradients of a copy's loss are taken with respect to these.
   */
  Map<String, Output<TFloating>> trainable();
}
