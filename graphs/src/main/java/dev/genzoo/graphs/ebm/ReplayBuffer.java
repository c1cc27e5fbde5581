package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The replay buffer of IGEBM (Du and Mordatch 2019, section 3.1): past Langevin samples from which most chains of a
 * training step start, so that a few dozen steps per iteration add up to long chains across iterations; a small
 * fraction of chains restarts from noise each step, which keeps the samples diverse. It holds {@code capacity}
 * examples of any shape in one {@link VarStore.Kind#SAMPLER} variable (saved in training checkpoints, not in model
 * bundles), and works entirely in the graph of the training step:
 * <ol>
 *   <li>{@link #draw}: n distinct slots, uniformly at random (the n largest of {@code capacity} uniform keys); each
 *       chain starts from its slot's example, or, with probability {@code restartProbability}, from fresh uniform noise
 *       on the box [low, high]^D;
 *   <li>the caller runs its chains;
 *   <li>{@link #write}: the final states are scattered back into the drawn slots, in the same {@code Session.run}.
 * </ol>
 * Every slot is filled with uniform noise on the box when the variables are initialised, so a slot never written yet
 * starts its chain from noise, as a restart would. This differs in two details from the authors' train.py, which
 * keeps a growing first-in-first-out list (50,000 entries there, 10,000 in the paper): until that list holds more
 * than a batch every chain starts from noise, and a step appends all its final samples (restarted chains included)
 * instead of replacing the entries it drew. Drawing and replacing slots at random is how later reimplementations
 * store the buffer (e.g. JEM, Grathwohl et al. 2020); the fraction of chains that start from never-written noise,
 * restart + (1 - restart) (1 - n / capacity)^t after t steps, falls below 1% of the batch within a few hundred steps
 * at the paper's sizes. The authors also store the examples quantised to 8 bits and add dequantisation noise when
 * drawing them; here they are stored at full precision.
 */
public final class ReplayBuffer {
  private final VarStore store;
  private final String name;
  private final int capacity;
  private final long[] exampleShape;
  private final double low;
  private final double high;
  private final double restartProbability;
  private final Output<TFloating> contents;

  /**
   * What a draw gives the chains.
   *
   * @param start the chains' initial states [n, ...]
   * @param indices the drawn slots [n], distinct
   * @param restarted 1 where the chain starts from noise instead of its slot, else 0 [n]
   */
  public record Draw(Operand<TFloating> start, Operand<TInt32> indices, Operand<TFloating> restarted) {}

  /**
   * @param store the model's variables
   * @param name the buffer's variable name, e.g. {@code ebm/replay_buffer}
   * @param capacity the number of slots
   * @param exampleShape the shape of one example
   * @param low lower corner of the noise box (0 for images in [0, 1])
   * @param high upper corner of the noise box
   * @param restartProbability the chance that a chain starts from noise instead of its slot (0.05 in IGEBM)
   */
  public ReplayBuffer(VarStore store, String name, int capacity, long[] exampleShape, double low, double high,
      double restartProbability) {
    if (capacity < 1) {
      throw new IllegalArgumentException("the replay buffer needs at least one slot, got capacity " + capacity);
    }
    if (!(low < high) || !Double.isFinite(low) || !Double.isFinite(high)) {
      throw new IllegalArgumentException("the replay buffer's noise box [" + low + ", " + high + "] is empty");
    }
    if (!(restartProbability >= 0 && restartProbability <= 1)) {
      throw new IllegalArgumentException("the restart probability must lie in [0, 1], got " + restartProbability);
    }
    this.store = store;
    this.name = name;
    this.capacity = capacity;
    this.exampleShape = exampleShape.clone();
    this.low = low;
    this.high = high;
    this.restartProbability = restartProbability;
    long[] shape = new long[exampleShape.length + 1];
    shape[0] = capacity;
    System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
    Initializer noise = c -> uniform(c.tf(), c.dtype(), c.tf().constant(c.shape()), c.tf().constant(c.seed()));
    this.contents = store.read(store.create(name, shape, VarStore.Kind.SAMPLER, noise));
  }

  /**
   * Draws {@code n} distinct slots and the chains' starting points; randomness from {@code seed} + [0, 1], [0, 2]
   * and [0, 3]. {@code n} must not exceed the capacity (TensorFlow fails the run otherwise).
   *
   * @param n the number of chains, an int32 scalar (the batch size, known only when the step runs)
   */
  public Draw draw(Ops tf, Operand<TInt32> n, Operand<TInt64> seed) {
    Class<TFloating> dt = store.dtype();
    Operand<TFloating> keys = tf.random.statelessRandomUniform(tf.constant(new long[] {capacity}),
        tf.math.add(seed, tf.constant(new long[] {0, 1})), dt);
    Operand<TInt32> indices = tf.nn.topK(keys, n, TInt32.class).indices();
    Operand<TFloating> slots = tf.gather(contents, indices, tf.constant(0));
    Operand<TFloating> u = tf.random.statelessRandomUniform(tf.reshape(n, tf.constant(new long[] {1})),
        tf.math.add(seed, tf.constant(new long[] {0, 2})), dt);
    Operand<org.tensorflow.types.TBool> restart = tf.math.less(u, Tensors.constant(tf, dt, restartProbability));
    Operand<TFloating> noise = uniform(tf, dt, tf.shape(slots), tf.math.add(seed, tf.constant(new long[] {0, 3})));
    long[] maskShape = new long[exampleShape.length + 1];
    Arrays.fill(maskShape, 1);
    maskShape[0] = -1;
    Operand<org.tensorflow.types.TBool> mask = tf.reshape(restart, tf.constant(maskShape));
    Operand<TFloating> start = tf.select(mask, noise, slots);
    return new Draw(start, indices, Tensors.cast(tf, restart, dt));
  }

  /** Writes {@code finalStates} [n, ...] into the slots of {@code draw}; run it in the same step as the draw. */
  public Op write(Ops tf, Draw draw, Operand<TFloating> finalStates) {
    Output<TFloating> ref = store.get(name).as();
    return tf.scatterUpdate(ref, draw.indices(), tf.stopGradient(finalStates));
  }

  /** The buffer's value [capacity, ...] (for tests and diagnostics). */
  public Output<TFloating> contents() {
    return contents;
  }

  public String variableName() {
    return name;
  }

  public int capacity() {
    return capacity;
  }

  public long[] exampleShape() {
    return exampleShape.clone();
  }

  public double restartProbability() {
    return restartProbability;
  }

  private Operand<TFloating> uniform(Ops tf, Class<TFloating> dt, Operand<? extends org.tensorflow.types.family.TNumber>
      shape, Operand<TInt64> seed) {
    Operand<TFloating> u = tf.random.statelessRandomUniform(shape, seed, dt);
    return tf.math.add(tf.math.mul(u, Tensors.constant(tf, dt, high - low)), Tensors.constant(tf, dt, low));
  }
}
