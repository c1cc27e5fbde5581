package dev.genzoo.graphs.train;

import dev.genzoo.graphs.nn.Pass;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The named handles of a family's training graph: what the {@link Trainer} feeds and runs. One call of the session
 * with {@link #step()} as target is one optimiser step (gradients, update, moving statistics, EMA, step counter).
 *
 * @param x the batch (float32, shape [N, ...], images on the 8-bit scale)
 * @param labels class labels [N], or null for unconditional models
 * @param seed a [2] int64 seed for the step's in-graph randomness (noise levels, dropout), or null
 * @param loss the scalar loss (float32)
 * @param metrics further scalars logged with the loss, by name (e.g. "bpd", "grad_norm", "lr")
 * @param step the optimiser step
 * @param dataInit a data-dependent initialisation fed with {@code x}, or null
 * @param ema the weight average, or null
 * @param globalStep the int64 step counter
 * @param batchesPerStep how many batches of the configured size one step consumes, fed as one batch: 1, or a GAN's
 *     n_dis (each critic update of the step takes its own slice)
 */
public record TrainGraph(Placeholder<TFloat32> x, Placeholder<TInt32> labels, Placeholder<TInt64> seed,
    Operand<TFloat32> loss, Map<String, Operand<TFloat32>> metrics, Op step, Op dataInit, Ema ema,
    Output<TInt64> globalStep, int batchesPerStep) {

  public TrainGraph {
    if (batchesPerStep < 1) {
      throw new IllegalArgumentException("batchesPerStep must be at least 1, got " + batchesPerStep);
    }
  }

  /** A step that consumes one batch. */
  public TrainGraph(Placeholder<TFloat32> x, Placeholder<TInt32> labels, Placeholder<TInt64> seed,
      Operand<TFloat32> loss, Map<String, Operand<TFloat32>> metrics, Op step, Op dataInit, Ema ema,
      Output<TInt64> globalStep) {
    this(x, labels, seed, loss, metrics, step, dataInit, ema, globalStep, 1);
  }

  /** Groups a data-init pass's assignments into one op, or null if it recorded none. */
  public static Op dataInitOp(org.tensorflow.op.Ops tf, Pass pass) {
    return pass.initAssigns().isEmpty() ? null : tf.withControlDependencies(pass.initAssigns()).noOp();
  }
}
