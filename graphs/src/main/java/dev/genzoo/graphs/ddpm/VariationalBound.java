package dev.genzoo.graphs.ddpm;

import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.HostTensors;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The variational bound of Ho et al. 2020 (eq. 5) for an {@link EpsFunction}, in nats per example:
 * -log p(x_0) <= L_T + sum_{t>1} L_{t-1} + L_0, each L_{t-1} evaluated at one draw x_t ~ q(x_t | x_0) (the estimator
 * of the DDPM and improved-diffusion code: T network evaluations per batch). With the discretised decoder the value
 * bounds -log P of the 8-bit image, so bits/dim = bound / (D ln 2).
 */
public final class VariationalBound {
  /** The total and its parts, per example; {@code terms[t]} is the batch mean of L_t (t = 0 is the decoder). */
  public record Result(double[] total, double[] priorKl, double[] terms) {}

  private final GaussianDiffusion diffusion;
  private final long[] exampleShape;
  private final Class<TFloating> dt;
  private final Placeholder<TFloating> x0;
  private final Placeholder<TInt32> t;
  private final Placeholder<TInt64> seed;
  private final Operand<TFloating> term;
  private final Operand<TFloating> prior;

  public VariationalBound(Ops tf, Class<TFloating> dt, GaussianDiffusion diffusion, EpsFunction epsFn,
      long[] exampleShape, VarianceType varianceType, GaussianDiffusion.Decoder decoder, boolean clipDenoised) {
    this.diffusion = diffusion;
    this.exampleShape = exampleShape.clone();
    this.dt = dt;
    long[] batchShape = Tensors.batchShape(-1, exampleShape);
    Ops s = tf.withSubScope("bound");
    this.x0 = s.withName("x_0").placeholder(dt, Placeholder.shape(Shape.of(batchShape)));
    this.t = s.withName("t").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    this.seed = s.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Operand<TInt32> tVec = tf.fill(tf.stridedSlice(tf.shape(x0), org.tensorflow.ndarray.index.Indices.slice(0, 1)), t);
    Operand<TFloating> noise = tf.random.statelessRandomNormal(tf.shape(x0), seed, dt);
    Operand<TFloating> xt = diffusion.qSample(tf, x0, tVec, noise);
    Operand<TFloating> eps = epsFn.apply(tf, xt, tVec);
    this.term = diffusion.vbTerm(tf, x0, xt, tVec, eps, varianceType, decoder, clipDenoised);
    this.prior = diffusion.priorKl(tf, x0);
  }

  /**
   * The bound for {@code count} examples {@code x0} (flattened, on the model scale: [-1, 1] images or points).
   *
   * @param feeds extra feeds for the eps function (labels), owned by the caller, or null
   * @param onStep told the number of timesteps done, or null
   */
  public Result evaluate(Session session, double[] x0Flat, int count, long seed, Map<? extends Operand<?>, ? extends Tensor> feeds,
      java.util.function.IntConsumer onStep) {
    long[] shape = Tensors.batchShape(count, exampleShape);
    double[] total = new double[count];
    double[] terms = new double[diffusion.timesteps()];
    double[] priorKl;
    try (Tensor xIn = HostTensors.of(dt, x0Flat, shape)) {
      try (org.tensorflow.Result r = session.runner().feed(x0, xIn).fetch(prior).run()) {
        priorKl = HostTensors.toDoubles(r.get(0));
      }
      for (int i = 0; i < count; i++) {
        total[i] = priorKl[i];
      }
      int done = 0;
      for (int step = diffusion.timesteps() - 1; step >= 0; step--) {
        try (TInt32 tT = TInt32.scalarOf(step); TInt64 sT = TInt64.vectorOf(seed, step)) {
          Session.Runner r = session.runner().feed(x0, xIn).feed(t, tT).feed(this.seed, sT).fetch(term);
          if (feeds != null) {
            feeds.forEach(r::feed);
          }
          try (org.tensorflow.Result res = r.run()) {
            double[] v = HostTensors.toDoubles(res.get(0));
            double sum = 0;
            for (int i = 0; i < count; i++) {
              total[i] += v[i];
              sum += v[i];
            }
            terms[step] = sum / count;
          }
        }
        if (onStep != null) {
          onStep.accept(++done);
        }
      }
    }
    return new Result(total, priorKl, terms);
  }
}
