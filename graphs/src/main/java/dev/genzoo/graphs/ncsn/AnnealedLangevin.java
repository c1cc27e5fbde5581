package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.HostTensors;
import java.util.Map;
import java.util.function.IntConsumer;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) over any {@link ScoreFunction}: for each level
 * sigma_i, alpha_i = eps sigma_i^2 / sigma_L^2 and T steps x <- x + alpha_i s(x, sigma_i) + sqrt(2 alpha_i) z; then,
 * optionally, the final denoising step of Song & Ermon 2020 (Tweedie's formula), x <- x + sigma_L^2 s(x, sigma_L).
 * Each step is one Session.run; the noise is TensorFlow's stateless normal draw seeded by (seed, step), so samples are
 * a pure function of the seed. {@link #langevin} runs plain Langevin dynamics at one level.
 */
public final class AnnealedLangevin {
  private final NoiseLevels levels;
  private final long[] exampleShape;
  private final Class<TFloating> dt;
  private final Placeholder<TFloating> x;
  private final Placeholder<TInt32> index;
  private final Placeholder<TFloat32> alpha;
  private final Placeholder<TInt64> seed;
  private final Operand<TFloating> step;
  private final Operand<TFloating> denoise;

  public AnnealedLangevin(Ops tf, Class<TFloating> dt, NoiseLevels levels, ScoreFunction score, long[] exampleShape) {
    this.levels = levels;
    this.exampleShape = exampleShape.clone();
    this.dt = dt;
    long[] batchShape = Tensors.batchShape(-1, exampleShape);
    Ops s = tf.withSubScope("langevin");
    this.x = s.withName("x").placeholder(dt, Placeholder.shape(Shape.of(batchShape)));
    this.index = s.withName("sigma_index").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    this.alpha = s.withName("alpha").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    this.seed = s.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Operand<TInt32> idx = tf.fill(tf.stridedSlice(tf.shape(x), org.tensorflow.ndarray.index.Indices.slice(0, 1)),
        index);
    Operand<TFloating> grad = score.apply(tf, x, idx);
    Operand<TFloating> a = tf.dtypes.cast(alpha, dt);
    Operand<TFloating> z = tf.random.statelessRandomNormal(tf.shape(x), seed, dt);
    this.step = tf.math.add(tf.math.add(x, tf.math.mul(a, grad)),
        tf.math.mul(tf.math.sqrt(tf.math.mul(a, dev.genzoo.graphs.nn.Tensors.constant(tf, dt, 2))), z));
    this.denoise = tf.math.add(x, tf.math.mul(dev.genzoo.graphs.nn.Tensors.constant(tf, dt,
        levels.last() * levels.last()), grad));
  }

  /** Network evaluations of a full run. */
  public int evaluations(int stepsPerSigma, boolean finalDenoise) {
    return levels.size() * stepsPerSigma + (finalDenoise ? 1 : 0);
  }

  /**
   * Annealed Langevin dynamics from {@code x0} ([count, shape...] flattened).
   *
   * @param stepsPerSigma T
   * @param eps the step-size scale epsilon: alpha_i = eps sigma_i^2 / sigma_L^2
   * @param finalDenoise end with x + sigma_L^2 s(x, sigma_L)
   * @param feeds extra feeds owned by the caller, or null
   * @param onStep told the number of evaluations done, or null
   */
  public double[] sample(Session session, double[] x0, int count, long seed, int stepsPerSigma, double eps,
      boolean finalDenoise, Map<? extends Operand<?>, ? extends Tensor> feeds, IntConsumer onStep) {
    double[] cur = x0.clone();
    double last = levels.last();
    int done = 0;
    for (int i = 0; i < levels.size(); i++) {
      double a = eps * levels.sigma(i) * levels.sigma(i) / (last * last);
      for (int t = 0; t < stepsPerSigma; t++) {
        cur = run(session, step, cur, count, i, a, seed, (long) i * stepsPerSigma + t, feeds);
        if (onStep != null) {
          onStep.accept(++done);
        }
      }
    }
    if (finalDenoise) {
      cur = run(session, denoise, cur, count, levels.size() - 1, 0, seed, -1, feeds);
      if (onStep != null) {
        onStep.accept(++done);
      }
    }
    return cur;
  }

  /** Plain Langevin dynamics: {@code steps} steps of size {@code stepSize} with the score at level {@code level}. */
  public double[] langevin(Session session, double[] x0, int count, long seed, int level, int steps,
      double stepSize) {
    double[] cur = x0.clone();
    for (int t = 0; t < steps; t++) {
      cur = run(session, step, cur, count, level, stepSize, seed, t, null);
    }
    return cur;
  }

  private double[] run(Session session, Operand<TFloating> op, double[] cur, int count, int level, double a,
      long seed, long counter, Map<? extends Operand<?>, ? extends Tensor> feeds) {
    long[] shape = Tensors.batchShape(count, exampleShape);
    try (Tensor xt = HostTensors.of(dt, cur, shape);
         TInt32 it = TInt32.scalarOf(level);
         TFloat32 at = TFloat32.scalarOf((float) a);
         TInt64 st = TInt64.vectorOf(seed, counter)) {
      Session.Runner r = session.runner().feed(x, xt).feed(index, it).feed(alpha, at).feed(this.seed, st).fetch(op);
      if (feeds != null) {
        feeds.forEach(r::feed);
      }
      try (Result res = r.run()) {
        return HostTensors.toDoubles(res.get(0));
      }
    }
  }
}
