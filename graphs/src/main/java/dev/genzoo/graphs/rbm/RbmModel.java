package dev.genzoo.graphs.rbm;

import dev.genzoo.data.Batch;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.Exportable;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.export.ExportScope;
import dev.genzoo.graphs.export.GraphLoop;
import dev.genzoo.graphs.export.GraphSeeds;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The lecture notes' restricted Boltzmann machine ({@link Rbm}: {-1, +1} visible spins, Gaussian hidden units) as a
 * {@link dev.genzoo.graphs.GenerativeModel}.
 *
 * <ul>
 *   <li>Data: an input value above {@code model.threshold} is the spin +1, anything else -1 (8-bit MNIST: pixel > 127),
 *       done in the graph.
 *   <li>Training: one optimiser step per {@code Session.run} on the {@link ContrastiveDivergence} surrogate loss, CD-k
 *       from the data or PCD-k from persistent chains, which live in the {@link VarStore.Kind#SAMPLER} variable
 *       {@code rbm/persistent_chains} (saved in training checkpoints, not in bundles). Metrics: {@code recon_error}
 *       (one Gibbs round trip) and {@code cd_gap} (mean free energy of the data minus that of the chain samples).
 *       With {@code training.initBatchSize > 0} the visible fields start at the data means (Hinton's guide).
 *   <li>Sampling ({@link #sample}): Gibbs chains from uniformly random spins, {@code options.steps()} sweeps
 *       ({@code sampling.steps} by default) at temperature {@code options.temperature()}. Sampler {@code gibbs}
 *       (default) returns the visible means of the last sweep, p(s_i = +1 | lambda) for images in [0, 1] (smoother
 *       grids) and E[s_i | lambda] = tanh(x_i / T) for vectors; {@code gibbs-binary} returns the final spins, as
 *       {0, 1} for images and {-1, +1} for vectors.
 *   <li>Likelihood: exact when N <= {@value RbmConfig#MAX_ENUMERABLE_VISIBLE}, by enumerating the 2^N spin states:
 *       log p(s) = -F(s) - log sum_s' exp(-F(s')), in nats per example, for the binarised example.
 * </ul>
 */
public final class RbmModel extends ModelBase implements Exportable {
  /** Spin states per Session.run when enumerating Z. */
  private static final int ENUMERATION_CHUNK = 1 << 14;
  /** Gibbs sweeps unrolled into one Session.run when sampling (the remainder runs one sweep per run). */
  private static final int SWEEPS_PER_RUN = 10;

  private final RbmConfig config;
  private final RbmConfig.Model m;
  private final int n;
  private final Rbm rbm;
  private final Placeholder<TFloating> spinsIn;
  private final Operand<TFloating> freeEnergy;
  private final Placeholder<TInt64> seedIn;
  private final Placeholder<TFloating> temperatureIn;
  private final Rbm.Sweep sweep;
  private final Rbm.Sweep block;
  private final Placeholder<TFloating> hiddenIn;
  private final Operand<TFloating> hiddenDraw;
  private final Operand<TFloating> visibleDraw;
  private final Operand<TFloating> spinsFromData;
  private final Placeholder<TFloat32> dataIn;
  private final Placeholder<TFloating> weightsIn;
  private final Placeholder<TFloating> fieldsIn;
  private final Op setWeights;
  private final Placeholder<TInt32> startCount;
  private final Placeholder<TInt64> startSeed;
  private final Operand<TFloating> start;
  private ContrastiveDivergence.Terms cd;

  public RbmModel(RbmConfig config, ModelOptions options) {
    super("rbm", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      this.n = m.visible();
      this.rbm = Rbm.create(store.root().child("rbm"), n, m.hidden(), m.initStd());
      this.spinsIn = tf.withName("spins").placeholder(dt, Placeholder.shape(Shape.of(-1, n)));
      this.freeEnergy = rbm.freeEnergy(spinsIn);
      this.seedIn = tf.withName("sample_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.temperatureIn = tf.withName("temperature").placeholder(dt, Placeholder.shape(Shape.scalar()));
      this.sweep = rbm.sweep(spinsIn, seedIn, temperatureIn);
      this.block = unrolledSweeps(SWEEPS_PER_RUN);
      this.hiddenIn = tf.withName("hidden").placeholder(dt, Placeholder.shape(Shape.of(-1, m.hidden())));
      this.hiddenDraw = rbm.sampleHidden(spinsIn, seedIn, null);
      this.visibleDraw = rbm.sampleSpins(rbm.visibleProbability(hiddenIn, null), seedIn);
      this.dataIn = tf.withName("data").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(Tensors.batchShape(-1, m.dataShape()))));
      this.spinsFromData = spins(dataIn);
      this.weightsIn = tf.withName("set_kernel").placeholder(dt, Placeholder.shape(Shape.of(n, m.hidden())));
      this.fieldsIn = tf.withName("set_visible_bias").placeholder(dt, Placeholder.shape(Shape.of(n)));
      this.setWeights = tf.withControlDependencies(List.of(store.assign(rbm.weights(), weightsIn),
          store.assign(rbm.fields(), fieldsIn))).noOp();
      this.startCount = tf.withName("start_count").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      this.startSeed = tf.withName("start_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.start = startOf(startCount, startSeed);
      if (options.training()) {
        buildTraining();
      }
      open();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * {@code count} Gibbs sweeps from {@link #spinsIn} in one graph; sweep j is keyed by {@link #seedIn} + [0, j], so the
   * chain is the same as {@code count} single sweeps fed (a, t), (a, t + 1), ...
   */
  private Rbm.Sweep unrolledSweeps(int count) {
    Operand<TFloating> s = spinsIn;
    Rbm.Sweep last = null;
    for (int j = 0; j < count; j++) {
      last = rbm.sweep(s, j == 0 ? seedIn : tf.math.add(seedIn, tf.constant(new long[] {0, j})), temperatureIn);
      s = last.spins();
    }
    return last;
  }

  /** Data on the model's input scale (float32 [B, dataShape...]) to spins [B, N]: +1 above the threshold, else -1. */
  private Operand<TFloating> spins(Operand<TFloat32> x) {
    Operand<TFloating> flat = tf.reshape(Tensors.cast(tf, x, dt), tf.constant(new long[] {-1, n}));
    Operand<TFloating> above = tf.dtypes.cast(tf.math.greater(flat, c(m.threshold())), dt);
    return tf.math.sub(tf.math.mul(above, c(2)), c(1));
  }

  private void buildTraining() {
    var t = config.training();
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(Tensors.batchShape(-1, m.dataShape()))));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Operand<TFloating> s = spins(x);
    Pass pass = Pass.training();
    Operand<TFloating> chains = null;
    if (config.cd().persistent()) {
      int count = config.cd().chains() > 0 ? config.cd().chains() : t.batchSize();
      Output<TFloating> ref = store.create("rbm/persistent_chains", Shape.of(count, n), dt, VarStore.Kind.SAMPLER,
          randomSpins().create(new Initializer.Context(tf, dt, Shape.of(count, n), new long[] {options.seed(), 17})));
      chains = store.read(ref);
    }
    this.cd = ContrastiveDivergence.build(tf, dt, rbm, s, chains, seed, config.cd().k());
    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    metrics.put("recon_error", cd.reconstructionError());
    metrics.put("cd_gap", cd.freeEnergyGap());
    // The metrics read W through its Identity, whose buffer the in-place optimiser update overwrites: making the loss
    // (hence its gradient and the update) wait for them keeps them at the pre-update weights.
    Operand<TFloating> loss = tf.withControlDependencies(List.of(cd.reconstructionError(), cd.freeEnergyGap()))
        .identity(cd.loss());
    if (chains != null) {
      pass.addUpdate(store.assign(chains, cd.chainSpins()));
    }
    Op dataInit = null;
    if (t.initBatchSize() > 0) {
      dataInit = store.assign(rbm.fields(), rbm.dataInitField(s));
    }
    buildTraining(t, new Objective(x, null, seed, loss, metrics, pass, dataInit));
  }

  /** Uniformly random spins. */
  private static Initializer randomSpins() {
    return c -> {
      Operand<TFloating> u = c.tf().random.statelessRandomUniform(c.tf().constant(c.shape()),
          c.tf().constant(c.seed()), c.dtype());
      return c.tf().math.sub(c.tf().math.mul(c.tf().dtypes.cast(c.tf().math.less(u, c.constant(0.5)), c.dtype()),
          c.constant(2)), c.constant(1));
    };
  }

  private Operand<TFloating> c(double v) {
    return Tensors.constant(tf, dt, v);
  }

  public RbmConfig rbmConfig() {
    return config;
  }

  /** The energy, conditionals and free energy as graph ops (for inspection and tests). */
  public Rbm rbm() {
    return rbm;
  }

  /** The CD-k terms of the training step (data and chain states, loss, metrics); null for an inference model. */
  public ContrastiveDivergence.Terms contrastiveDivergence() {
    return cd;
  }

  /** N, the number of visible spins. */
  public int visibleCount() {
    return n;
  }

  /** p, the number of hidden units. */
  public int hiddenCount() {
    return m.hidden();
  }

  /** The weights W ([N, p], row-major) and the visible fields h ([N]), as held now. */
  public record Parameters(double[] weights, double[] fields) {}

  /** Reads W and h. */
  public Parameters parameters() {
    try (Result r = session().runner().fetch(rbm.weights()).fetch(rbm.fields()).run()) {
      return new Parameters(HostTensors.toDoubles(r.get(0)), HostTensors.toDoubles(r.get(1)));
    }
  }

  /** Sets W ([N, p], row-major) and h ([N]). */
  public void setParameters(Parameters p) {
    if (p.weights().length != (long) n * m.hidden() || p.fields().length != n) {
      throw new IllegalArgumentException("parameters of sizes " + p.weights().length + " and " + p.fields().length
          + " given to an RBM with N = " + n + ", p = " + m.hidden() + " (need N p and N)");
    }
    try (Tensor w = HostTensors.of(dt, p.weights(), new long[] {n, m.hidden()});
         Tensor h = HostTensors.of(dt, p.fields(), new long[] {n})) {
      session().runner().feed(weightsIn, w).feed(fieldsIn, h).addTarget(setWeights).run().close();
    }
  }

  /** The spins [B, N] (row-major, values -1 or +1) the model sees for a batch of data. */
  public double[] spinsOf(Batch batch) {
    checkShape(batch);
    try (TFloat32 x = HostTensors.float32(batch.x(), batch.shape());
         Result r = session().runner().feed(dataIn, x).fetch(spinsFromData).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /** F(s) = -h.s - |W^T s|^2 / 2 for {@code count} spin rows ({-1, +1}, [count, N] row-major). */
  public double[] freeEnergy(double[] spins, int count) {
    try (Tensor s = HostTensors.of(dt, spins, new long[] {count, n});
         Result r = session().runner().feed(spinsIn, s).fetch(freeEnergy).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /**
   * One hidden half-sweep: lambda ~ N(W^T s, 1) for each of {@code count} spin rows; [count, p] row-major. Draws depend
   * only on {@code seed}.
   */
  public double[] sampleHidden(double[] spins, int count, long[] seed) {
    try (Tensor s = HostTensors.of(dt, spins, new long[] {count, n});
         TInt64 k = TInt64.vectorOf(seed);
         Result r = session().runner().feed(spinsIn, s).feed(seedIn, k).fetch(hiddenDraw).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /** One visible half-sweep: s_i = +1 with probability 1 / (1 + exp(-2 x_i)), x = W lambda + h; [count, N]. */
  public double[] sampleVisible(double[] hidden, int count, long[] seed) {
    try (Tensor l = HostTensors.of(dt, hidden, new long[] {count, m.hidden()});
         TInt64 k = TInt64.vectorOf(seed);
         Result r = session().runner().feed(hiddenIn, l).feed(seedIn, k).fetch(visibleDraw).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /**
   * log Z = log sum_s exp(-F(s)) over all 2^N spin states (F without the constant (p / 2) log 2 pi, as in
   * {@link #freeEnergy}), computed in double precision by enumeration.
   *
   * @throws UnsupportedOperationException when N > {@value RbmConfig#MAX_ENUMERABLE_VISIBLE}
   */
  public double logPartition() {
    requireEnumerable("log Z");
    long states = 1L << n;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    for (long start = 0; start < states; start += ENUMERATION_CHUNK) {
      int k = (int) Math.min(ENUMERATION_CHUNK, states - start);
      double[] f = freeEnergy(enumerate(start, k, n), k);
      for (double v : f) {
        double a = -v;
        if (a > max) {
          sum = sum * Math.exp(max - a) + 1;
          max = a;
        } else {
          sum += Math.exp(a - max);
        }
      }
    }
    return max + Math.log(sum);
  }

  /**
   * Spin states {@code start} .. {@code start + count - 1} of N spins, [count, N] row-major: bit i of the state's
   * index (least significant first) set is s_i = +1.
   */
  public static double[] enumerate(long start, int count, int n) {
    double[] out = new double[count * n];
    for (int r = 0; r < count; r++) {
      long state = start + r;
      for (int i = 0; i < n; i++) {
        out[r * n + i] = ((state >>> i) & 1) == 1 ? 1 : -1;
      }
    }
    return out;
  }

  private void requireEnumerable(String what) {
    if (!config.isEnumerable()) {
      throw new UnsupportedOperationException(what + " of an RBM needs a sum over 2^N spin states; N = " + n
          + " visible spins is more than " + RbmConfig.MAX_ENUMERABLE_VISIBLE + ", so this model has no likelihood");
    }
  }

  private void checkShape(Batch batch) {
    if (!Arrays.equals(batch.exampleShape(), m.dataShape())) {
      throw new IllegalArgumentException("data of shape " + Arrays.toString(batch.exampleShape())
          + " given to an RBM for " + Arrays.toString(m.dataShape()));
    }
  }

  /**
   * Runs {@code count} Gibbs chains from uniformly random spins (drawn in the graph with the key
   * [s, {@value #START_KEY}], s = Seeds.mix(seed, chunk); sweep t is keyed [s, t]) for {@code options.steps()} sweeps (the config's
   * {@code sampling.steps} when 0) at temperature {@code options.temperature()} (p(s)^{1/T}; must be positive).
   * Sampler {@code gibbs} (default) returns the visible means of the last sweep, {@code gibbs-binary} the final spins
   * (see the class comment for the scales). Chunk i of the chains depends only on the seed and i.
   */
  @Override
  public Samples sample(int count, SampleOptions options) {
    String sampler = options.sampler() == null ? "gibbs" : options.sampler();
    boolean binary = switch (sampler) {
      case "gibbs" -> false;
      case "gibbs-binary" -> true;
      default -> throw new IllegalArgumentException("unknown RBM sampler '" + sampler + "'; valid: gibbs (visible "
          + "means of the last sweep), gibbs-binary (final spins)");
    };
    if (!(options.temperature() > 0)) {
      throw new IllegalArgumentException("--temperature must be positive for Gibbs sampling, got "
          + options.temperature());
    }
    int steps = options.steps() > 0 ? options.steps() : config.sampling().steps();
    int chunk = options.batchSize() > 0 ? options.batchSize() : config.sampling().batchSize();
    Session session = session();
    return sampleInChunks(count, chunk, "sample gibbs", steps, (start, k, part, onStep) -> {
      long seed = Seeds.mix(options.seed(), part);
      double[] s;
      try (TInt32 kT = TInt32.scalarOf(k); TInt64 key = TInt64.vectorOf(seed, START_KEY);
           Result r = session.runner().feed(startCount, kT).feed(startSeed, key).fetch(this.start).run()) {
        s = HostTensors.toDoubles(r.get(0));
      }
      double[] p = null;
      try (Tensor temp = HostTensors.of(dt, new double[] {options.temperature()}, new long[0])) {
        for (int t = 0; t < steps;) {
          Rbm.Sweep run = steps - t >= SWEEPS_PER_RUN ? block : sweep;
          int done = run == block ? SWEEPS_PER_RUN : 1;
          boolean last = t + done == steps;
          try (Tensor st = HostTensors.of(dt, s, new long[] {k, n});
               TInt64 key = TInt64.vectorOf(seed, t)) {
            Session.Runner runner = session.runner().feed(spinsIn, st).feed(seedIn, key).feed(temperatureIn, temp)
                .fetch(run.spins());
            if (last) {
              runner.fetch(run.probability());
            }
            try (Result r = runner.run()) {
              s = HostTensors.toDoubles(r.get(0));
              if (last) {
                p = HostTensors.toDoubles(r.get(1));
              }
            }
          }
          t += done;
          onStep.accept(t);
        }
      }
      double[] out = new double[k * n];
      for (int i = 0; i < out.length; i++) {
        if (m.isImage()) {
          out[i] = binary ? (s[i] + 1) / 2 : p[i];
        } else {
          out[i] = binary ? s[i] : 2 * p[i] - 1;
        }
      }
      return out;
    });
  }

  /** The counter of the stateless key that draws the chains' start (sweep t uses [s, t] for t = 0, 1, ...). */
  static final long START_KEY = -1;

  /** Uniformly random spins [count, N]: +1 where a uniform draw is below 1/2, else -1. */
  private Operand<TFloating> startOf(Operand<TInt32> count, Operand<TInt64> key) {
    Operand<TInt32> shape = tf.stack(List.of(count, tf.constant(n)));
    Operand<TFloating> u = tf.random.statelessRandomUniform(shape, key, dt);
    return tf.math.sub(tf.math.mul(tf.dtypes.cast(tf.math.less(u, c(0.5)), dt), c(2)), c(1));
  }

  /**
   * {@code sample}: {@link #sample}'s Gibbs chains for chunk 0 (s = Seeds.mix(seed, 0)) as one {@code While} loop over
   * the first steps - 1 sweeps (sweep t keyed [s, t]) and the last sweep after it, returning its visible means
   * ({@code gibbs}) or spins ({@code gibbs-binary}) on {@link #sample}'s scale. {@code free_energy}: F(s) of the
   * binarised examples; {@code log_prob}, for models small enough to enumerate: -F(s) - log Z with log Z computed now
   * by enumeration and stored as a constant.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    String sampler = sampling.sampler() == null ? "gibbs" : sampling.sampler();
    boolean binary = switch (sampler) {
      case "gibbs" -> false;
      case "gibbs-binary" -> true;
      default -> throw new IllegalArgumentException("unknown RBM sampler '" + sampler + "'; valid: gibbs (visible "
          + "means of the last sweep), gibbs-binary (final spins)");
    };
    if (!(sampling.temperature() > 0)) {
      throw new IllegalArgumentException("--temperature must be positive for Gibbs sampling, got "
          + sampling.temperature());
    }
    int steps = sampling.steps() > 0 ? sampling.steps() : config.sampling().steps();
    ExportScope e = new ExportScope(tf, batch);
    Ops o = e.tf();
    Operand<TInt64> chunk = e.chunkSeed();
    Operand<TFloating> s0 = startOf(e.n(), GraphSeeds.key(o, chunk, START_KEY));
    Operand<TFloating> temperature = Tensors.constant(tf, dt, sampling.temperature());
    GraphLoop loop = new GraphLoop(o, "gibbs");
    Placeholder<TFloating> spins = loop.carry("spins", dt, Shape.of(-1, n));
    Placeholder<TInt64> seed = loop.invariant("seed", TInt64.class, Shape.scalar());
    Operand<TInt64> key = GraphSeeds.key(o, seed, o.dtypes.cast(loop.counter(), TInt64.class));
    Operand<TFloating> next = rbm.sweep(spins, key, temperature).spins();
    @SuppressWarnings("unchecked")
    Operand<TFloating> before = (Operand<TFloating>) (Operand<?>) loop.finish(steps - 1, List.of(next), List.of(s0),
        List.of(chunk)).get(0);
    Rbm.Sweep last = rbm.sweep(before, GraphSeeds.key(o, chunk, steps - 1L), temperature);
    Operand<TFloating> x;
    if (m.isImage()) {
      x = binary ? tf.math.div(tf.math.add(last.spins(), c(1)), c(2)) : last.probability();
    } else {
      x = binary ? last.spins() : tf.math.sub(tf.math.mul(last.probability(), c(2)), c(1));
    }
    Operand<TFloat32> samples = tf.reshape(Tensors.toFloat32(tf, x), tf.constant(Tensors.batchShape(-1, m.dataShape())));
    List<ExportedSignature> out = new ArrayList<>();
    out.add(e.sample(samples, m.dataShape(), String.format(java.util.Locale.ROOT, "%d Gibbs sweeps at T = %s from "
        + "random spins in one While loop, %s; equal to genzoo sample(n, seed) with those settings for n <= %d",
        steps, sampling.temperature(), binary ? "the final spins" : "the visible means of the last sweep",
        config.sampling().batchSize())));
    Placeholder<TFloat32> in = e.examples("x", m.dataShape());
    Operand<TFloating> f = rbm.freeEnergy(spins(in));
    out.add(e.perExample("free_energy", "x", in, "free_energy", Tensors.toFloat32(tf, f), "the free energy F(s) = "
        + "-h.s - |W^T s|^2 / 2 of the example's spins (binarised at " + m.threshold() + "), p(s) = exp(-F(s)) / Z"));
    if (config.isEnumerable()) {
      Placeholder<TFloat32> lpIn = e.examples("x", m.dataShape());
      Operand<org.tensorflow.types.TFloat64> f64 = tf.dtypes.cast(rbm.freeEnergy(spins(lpIn)),
          org.tensorflow.types.TFloat64.class);
      Operand<TFloat32> lp = tf.dtypes.cast(tf.math.sub(tf.math.neg(f64), tf.constant(logPartition())), TFloat32.class);
      out.add(e.perExample("log_prob", "x", lpIn, "log_prob", lp, "exact log p(s) = -F(s) - log Z of the binarised "
          + "example in nats, log Z by enumerating the 2^" + n + " spin states at export"));
    }
    return out;
  }

  @Override
  public boolean hasLikelihood() {
    return config.isEnumerable();
  }

  @Override
  public String likelihoodKind() {
    return "exact (Z by enumerating the 2^" + n + " spin states; log p of the binarised example)";
  }

  /**
   * The exact log-probability log p(s) = -F(s) - log Z of each example's spins (nats per example; the example is
   * binarised at {@code model.threshold} first, so this is a distribution over the 2^N spin states, not a density on
   * the 8-bit scale).
   *
   * @throws UnsupportedOperationException when N > {@value RbmConfig#MAX_ENUMERABLE_VISIBLE}
   */
  @Override
  public double[] logProb(Batch batch) {
    requireEnumerable("the likelihood");
    double[] s = spinsOf(batch);
    double logZ = logPartition();
    double[] f = freeEnergy(s, batch.size());
    double[] out = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = -f[i] - logZ;
    }
    return out;
  }
}
