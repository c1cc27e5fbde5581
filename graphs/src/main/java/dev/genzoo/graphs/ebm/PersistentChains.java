package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.VarStore;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Persistent contrastive divergence, PCD (Tieleman 2008; "stochastic maximum likelihood", Younes 1989): a set of N
 * walkers that survives from one training step to the next. At every step the walkers take k steps of an MCMC kernel
 * under the current energy, the moved walkers are the negatives of the {@link MaximumLikelihood} loss, and they are
 * written back, all in the same {@code Session.run}. Unlike CD-k the chains are never restarted at the data, so with
 * small parameter updates they stay close to the model's distribution; they inherit the kernel's mixing, though: a
 * Langevin walker that cannot cross an energy barrier keeps the mode shares it started with, which is how PCD
 * collapses modes (the lecture's bimodal toy, {@link BimodalExperiment}).
 *
 * <p>The walkers live in one variable of {@link VarStore.Kind#SAMPLER}: saved in training checkpoints, so that a
 * resumed run continues the same chains, and left out of model bundles. They start from a given initial distribution
 * (an {@link Initializer}, e.g. uniform noise or exact samples of the initial model), set when the store's
 * initialisers run.
 */
public final class PersistentChains {
  private final VarStore store;
  private final String name;
  private final Output<TFloating> state;
  private final long[] shape;

  /**
   * @param store the model's variables
   * @param name the walkers' variable name, e.g. {@code ebm/pcd/walkers}
   * @param shape [N, ...]: N walkers of the data's example shape
   * @param init their initial distribution
   */
  public PersistentChains(VarStore store, String name, long[] shape, Initializer init) {
    if (shape.length < 1 || shape[0] < 1) {
      throw new IllegalArgumentException("persistent chains need a shape [N, ...] with N >= 1, got "
          + java.util.Arrays.toString(shape));
    }
    this.store = store;
    this.name = name;
    this.shape = shape.clone();
    this.state = store.read(store.create(name, shape, VarStore.Kind.SAMPLER, init));
  }

  /**
   * Walkers initialised by graph ops: {@code initial} receives the ops and a [2] int64 seed (derived from the store
   * seed and the variable's name, as every initialiser's) and returns the [N, ...] initial states.
   */
  public static PersistentChains of(VarStore store, String name, long[] shape,
      Function<Initializer.Context, Operand<TFloating>> initial) {
    return new PersistentChains(store, name, shape, initial::apply);
  }

  /**
   * What one training step does with the chains.
   *
   * @param negatives the walkers after the k steps (the negatives of the loss) [N, ...]
   * @param acceptance the kernel's mean acceptance per walker over the k steps [N], or null for kernels that always
   *     move
   * @param update the assignment of {@code negatives} to the walkers: add it to the step's targets
   */
  public record Advance(Operand<TFloating> negatives, Operand<TFloating> acceptance, Op update) {}

  /**
   * Moves the walkers {@code k} steps of {@code kernel} under {@code energy} (step i with seed + [0, i + 1]) and
   * assigns the result back. Add {@link Advance#update} to the training step's targets; use
   * {@link Advance#negatives} in the loss (for example {@code MaximumLikelihood.contrastive(tf, energy, data,
   * advance.negatives(), alpha)}).
   */
  public Advance advance(Ops tf, Energy energy, McmcKernel kernel, Operand<TInt64> seed, int k) {
    McmcKernel.Move move = kernel.unroll(tf, energy, state, seed, k);
    Operand<TFloating> next = tf.stopGradient(move.x());
    Op update = store.assign(state, next);
    return new Advance(next, move.accepted(), update);
  }

  /** The walkers' current states (the variable's read value) [N, ...]. */
  public Output<TFloating> state() {
    return state;
  }

  /** The variable's name. */
  public String name() {
    return name;
  }

  /** [N, ...]. */
  public Shape shape() {
    return Shape.of(shape);
  }

  /** The op that resets the walkers to a fresh draw of their initial distribution. */
  public Op reset() {
    return store.get(name).initializer();
  }
}
