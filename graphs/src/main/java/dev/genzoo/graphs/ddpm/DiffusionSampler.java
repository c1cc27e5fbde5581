package dev.genzoo.graphs.ddpm;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * The reverse-process samplers of a {@link GaussianDiffusion} over any {@link EpsFunction}: ancestral sampling
 * (Ho et al. 2020, Algorithm 2) with either fixed variance, and DDIM (Song, Meng & Ermon 2021) with eta and S steps.
 * Each step is one Session.run that feeds x_t and fetches x_{t-1}; the noise of a step is TensorFlow's stateless
 * normal draw seeded by (seed, t), so samples are a pure function of the seed.
 */
public final class DiffusionSampler {
  /** A sampler by name, with its settings. */
  public record Spec(Kind kind, VarianceType varianceType, int steps, double eta) {
    public enum Kind { ANCESTRAL, DDIM }

    @Override
    public String toString() {
      return kind == Kind.ANCESTRAL ? "ancestral (" + varianceType.name().toLowerCase(Locale.ROOT) + ")"
          : String.format(Locale.ROOT, "ddim (S = %d, eta = %s)", steps, eta);
    }
  }

  /**
   * Parses a sampler name: {@code ancestral} (the config's variance), {@code ancestral:fixedlarge},
   * {@code ancestral:fixedsmall}, {@code ddim} (the config's eta), {@code ddim:ETA}. {@code steps} is DDIM's S (0:
   * the config's, or every timestep); the ancestral sampler always takes every step.
   */
  public static Spec parse(String name, int steps, DdpmConfig config) {
    String n = name == null || name.isBlank() ? config.sampling().sampler() : name.trim().toLowerCase(Locale.ROOT);
    int timesteps = config.diffusion().timesteps();
    String[] parts = n.split(":", 2);
    switch (parts[0]) {
      case "ancestral" -> {
        VarianceType v = config.diffusion().varianceType();
        if (parts.length == 2) {
          v = switch (parts[1]) {
            case "fixedlarge", "large" -> VarianceType.FIXED_LARGE;
            case "fixedsmall", "small" -> VarianceType.FIXED_SMALL;
            default -> throw new IllegalArgumentException("--sampler ancestral:" + parts[1]
                + ": the variance must be fixedlarge or fixedsmall");
          };
        }
        if (steps != 0 && steps != timesteps) {
          throw new IllegalArgumentException("--steps " + steps + ": the ancestral sampler takes all T = "
              + timesteps + " steps; use --sampler ddim for fewer");
        }
        return new Spec(Spec.Kind.ANCESTRAL, v, timesteps, 1);
      }
      case "ddim" -> {
        double eta = config.sampling().eta();
        if (parts.length == 2) {
          try {
            eta = Double.parseDouble(parts[1]);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--sampler ddim:" + parts[1] + ": eta must be a number");
          }
        }
        if (!(eta >= 0)) {
          throw new IllegalArgumentException("--sampler ddim: eta must be >= 0, got " + eta);
        }
        int s = steps > 0 ? steps : config.sampling().steps() > 0 ? config.sampling().steps() : timesteps;
        if (s > timesteps) {
          throw new IllegalArgumentException("--steps " + s + " exceeds the model's T = " + timesteps);
        }
        return new Spec(Spec.Kind.DDIM, config.diffusion().varianceType(), s, eta);
      }
      default -> throw new IllegalArgumentException("unknown DDPM sampler '" + n
          + "'; valid: ancestral, ancestral:fixedlarge, ancestral:fixedsmall, ddim, ddim:ETA");
    }
  }

  private final GaussianDiffusion diffusion;
  private final long[] exampleShape;
  private final Class<TFloating> dt;
  private final Placeholder<TFloating> xt;
  private final Placeholder<TInt32> t;
  private final Placeholder<TInt32> tPrev;
  private final Placeholder<TFloat32> eta;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt32> n;
  private final Operand<TFloating> prior;
  private final Operand<TFloating> ancestralLarge;
  private final Operand<TFloating> ancestralSmall;
  private final Operand<TFloating> ddim;
  private final Operand<TFloating> eps;

  /**
   * Adds the sampling ops to the graph of {@code tf}.
   *
   * @param exampleShape the shape of one example ([H, W, C] or [d])
   * @param decoder decides the FIXED_LARGE variance at t = 0 (irrelevant to sampling: no noise is added there)
   * @param clipDenoised clip predicted x_0 to [-1, 1]
   */
  public DiffusionSampler(Ops tf, Class<TFloating> dt, GaussianDiffusion diffusion, EpsFunction epsFn,
      long[] exampleShape, GaussianDiffusion.Decoder decoder, boolean clipDenoised) {
    this.diffusion = diffusion;
    this.exampleShape = exampleShape.clone();
    this.dt = dt;
    long[] batchShape = Tensors.batchShape(-1, exampleShape);
    Ops s = tf.withSubScope("sampler");
    this.xt = s.withName("x_t").placeholder(dt, Placeholder.shape(Shape.of(batchShape)));
    this.t = s.withName("t").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    this.tPrev = s.withName("t_prev").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    this.eta = s.withName("eta").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    this.seed = s.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    this.n = s.withName("n").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    Operand<TInt32> batch = tf.stridedSlice(tf.shape(xt), org.tensorflow.ndarray.index.Indices.slice(0, 1));
    Operand<TInt32> tVec = tf.fill(batch, t);
    Operand<TInt32> tPrevVec = tf.fill(batch, tPrev);
    List<Operand<TInt32>> dims = new ArrayList<>();
    dims.add(tf.reshape(n, tf.constant(new int[] {1})));
    dims.add(tf.constant(toInts(exampleShape)));
    this.prior = tf.random.statelessRandomNormal(tf.concat(dims, tf.constant(0)), seed, dt);
    Operand<TFloating> z = tf.random.statelessRandomNormal(tf.shape(xt), seed, dt);
    this.eps = epsFn.apply(tf, xt, tVec);
    this.ancestralLarge = diffusion.ancestralStep(tf, xt, tVec, eps, VarianceType.FIXED_LARGE, decoder,
        clipDenoised, z);
    this.ancestralSmall = diffusion.ancestralStep(tf, xt, tVec, eps, VarianceType.FIXED_SMALL, decoder,
        clipDenoised, z);
    this.ddim = diffusion.ddimStep(tf, xt, tVec, tPrevVec, eps, Tensors.cast(tf, eta, dt), clipDenoised, z);
  }

  private static int[] toInts(long[] a) {
    int[] r = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = (int) a[i];
    }
    return r;
  }

  /** The DDIM timesteps for S steps, descending: t_i = i * floor(T / S) (the DDIM code's "uniform" skip). */
  public static int[] ddimTimesteps(int timesteps, int steps) {
    int skip = Math.max(1, timesteps / steps);
    List<Integer> ts = new ArrayList<>();
    for (int v = 0; v < timesteps && ts.size() < steps; v += skip) {
      ts.add(v);
    }
    int[] out = new int[ts.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ts.get(ts.size() - 1 - i);
    }
    return out;
  }

  /** The number of network evaluations (Session.runs) a spec takes. */
  public int evaluations(Spec spec) {
    return spec.kind() == Spec.Kind.ANCESTRAL ? diffusion.timesteps()
        : ddimTimesteps(diffusion.timesteps(), spec.steps()).length;
  }

  /** Draws x_T ~ N(0, I) for {@code count} examples from {@code seed}. */
  public double[] priorNoise(Session session, int count, long seed) {
    try (TInt32 nT = TInt32.scalarOf(count);
         TInt64 sT = TInt64.vectorOf(seed, 0);
         Result r = session.runner().feed(n, nT).feed(this.seed, sT).fetch(prior).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /**
   * Runs the reverse process from {@code xT} ([count, shape...] flattened, on the model scale) and returns x_0.
   *
   * @param feeds extra feeds for the eps function (labels, guidance weight), owned by the caller, or null
   * @param onStep told the number of steps done after each step, or null
   */
  public double[] sample(Session session, double[] xT, int count, long seed, Spec spec,
      Map<? extends Operand<?>, ? extends Tensor> feeds, java.util.function.IntConsumer onStep) {
    long[] shape = Tensors.batchShape(count, exampleShape);
    double[] x = xT.clone();
    int[] ts;
    if (spec.kind() == Spec.Kind.ANCESTRAL) {
      ts = new int[diffusion.timesteps()];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = ts.length - 1 - i;
      }
    } else {
      ts = ddimTimesteps(diffusion.timesteps(), spec.steps());
    }
    Operand<TFloating> op = spec.kind() == Spec.Kind.DDIM ? ddim
        : spec.varianceType() == VarianceType.FIXED_LARGE ? ancestralLarge : ancestralSmall;
    for (int i = 0; i < ts.length; i++) {
      int prev = i + 1 < ts.length ? ts[i + 1] : -1;
      x = step(session, op, x, shape, ts[i], prev, spec.eta(), seed, feeds);
      if (onStep != null) {
        onStep.accept(i + 1);
      }
    }
    return x;
  }

  /** One step of {@code spec}'s sampler from timestep t (to t - 1, or to {@code tPrev} for DDIM); for benchmarks. */
  public double[] step(Session session, double[] x, int count, int t, int tPrev, long seed, Spec spec,
      Map<? extends Operand<?>, ? extends Tensor> feeds) {
    long[] shape = Tensors.batchShape(count, exampleShape);
    Operand<TFloating> op = spec.kind() == Spec.Kind.DDIM ? ddim
        : spec.varianceType() == VarianceType.FIXED_LARGE ? ancestralLarge : ancestralSmall;
    return step(session, op, x, shape, t, tPrev, spec.eta(), seed, feeds);
  }

  private double[] step(Session session, Operand<TFloating> op, double[] x, long[] shape, int t, int tPrev,
      double etaValue, long seed, Map<? extends Operand<?>, ? extends Tensor> feeds) {
    try (Tensor xIn = HostTensors.of(dt, x, shape);
         TInt32 tT = TInt32.scalarOf(t);
         TInt32 pT = TInt32.scalarOf(tPrev);
         TFloat32 eT = TFloat32.scalarOf((float) etaValue);
         TInt64 sT = TInt64.vectorOf(seed, t + 1L)) {
      Session.Runner r = session.runner().feed(xt, xIn).feed(this.t, tT).feed(this.tPrev, pT).feed(eta, eT)
          .feed(this.seed, sT).fetch(op);
      if (feeds != null) {
        feeds.forEach(r::feed);
      }
      try (org.tensorflow.Result res = r.run()) {
        return HostTensors.toDoubles(res.get(0));
      }
    }
  }

  /** The placeholder of x_t, for feeding an eps function's own inputs. */
  public Placeholder<TFloating> xt() {
    return xt;
  }
}
