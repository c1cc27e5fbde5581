package dev.genzoo.graphs.ebm;

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
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * A deep energy-based model p(x) = exp(-U(x)) / Z trained as IGEBM (Du and Mordatch 2019, "Implicit Generation and
 * Generalization in Energy-Based Models"), as a {@link dev.genzoo.graphs.GenerativeModel}. One training step is one
 * {@code Session.run}:
 * <ol>
 *   <li>the negatives: one chain per example of the batch starts from a slot of the {@link ReplayBuffer} (or, with
 *       probability 0.05, from uniform noise), takes K steps of {@link Langevin} dynamics unrolled in the graph (60
 *       steps of 10 on the gradient clipped to 0.01, noise 0.005, images clipped to [0, 1] for CIFAR-10), and its
 *       final state x- is written back into its slot;
 *   <li>the loss {@code mean U(x+) - mean U(stopgrad(x-)) + alpha (mean U(x+)^2 + mean U(x-)^2)}
 *       ({@link MaximumLikelihood#contrastive}), whose gradient is the contrastive estimate of the negative
 *       log-likelihood's plus the L2 energy regulariser of section 3.3;
 *   <li>one Adam update; the spectral-norm vectors advance by one power iteration (shared by every energy evaluation
 *       of the step, as in the authors' graph).
 * </ol>
 * With a dropout rate (the ResNet of the CIFAR-10 preset: 0.5, as the code's ResNet32Large(train=True)), every energy
 * evaluation of the step, in the chains and in the loss, draws its own masks; sampling and {@code energy} use none.
 * Images are x+ = x / 256 of the 8-bit batch (dequantised by the batch source, as the code's data loader adds
 * U[0, 1/256)), so model space is [0, 1]; points are used as they are. The authors' Langevin step adds the noise
 * before taking the gradient (x' = clip(x + s xi - eta grad U(x + s xi))); {@link Langevin} takes the gradient first
 * (x' = clip(x - eta grad U(x) + s xi)); the two chains differ only in where the noise enters within a step. The
 * code's optional "KL" term (off with --zero_kl, as the README trains CIFAR-10) is not built.
 *
 * <p>The model is unnormalised: there is no likelihood. {@link #energy(Batch)} and {@link #energy(double[])} evaluate
 * U (e.g. for a heat map of a 2-D model), and {@link #sample} runs Langevin chains from noise.
 */
public final class EbmModel extends ModelBase implements Exportable {
  /** Seed streams of a training step (see {@link ObjectiveSeeds}). */
  private static final long CHAIN_STREAM = 0x49474542L;
  private static final long BUFFER_STREAM = CHAIN_STREAM + 1;
  private static final long DROPOUT_STREAM = CHAIN_STREAM + 2;

  private final EbmConfig config;
  private final EbmConfig.Model m;
  private final ResNetEnergy resnet;
  private final MlpEnergy mlp;
  private ReplayBuffer buffer;
  private final Placeholder<TFloat32> evalX;
  private final Operand<TFloat32> evalEnergy;
  private final Placeholder<TFloat32> sampleX;
  private final Placeholder<TInt64> sampleSeed;
  private final Placeholder<TFloat32> sampleBeta;
  private final Operand<TFloat32> sampleNext;
  private final Energy inferenceEnergy;
  private final Placeholder<TInt32> startCount;
  private final Placeholder<TInt64> startSeed;
  private final Operand<TFloat32> start;

  public EbmModel(EbmConfig config, ModelOptions options) {
    super("ebm", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      VarScope scope = store.root().child("ebm").child("energy");
      if (m.network() == EbmConfig.Network.RESNET32_LARGE) {
        this.resnet = new ResNetEnergy(scope, m.dataShape()[2], m.width(), m.dropout());
        this.mlp = null;
      } else {
        this.mlp = new MlpEnergy(scope, m.dataShape()[0], m.width(), m.depth(), m.spectralNorm(), m.activation());
        this.resnet = null;
      }
      Shape batchShape = Shape.of(Tensors.batchShape(-1, m.dataShape()));
      Pass inference = Pass.inference();
      Energy u = energy(inference, null);
      this.inferenceEnergy = u;

      this.evalX = tf.withName("energy_x").placeholder(TFloat32.class, Placeholder.shape(batchShape));
      this.evalEnergy = Tensors.toFloat32(tf, u.apply(tf, Tensors.cast(tf, evalX, dt)));

      this.sampleX = tf.withName("sample_x").placeholder(TFloat32.class, Placeholder.shape(batchShape));
      this.sampleSeed = tf.withName("sample_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.sampleBeta = tf.withName("sample_beta").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Operand<TFloating> beta = Tensors.cast(tf, sampleBeta, dt);
      Energy tempered = (ops, x) -> ops.math.mul(u.apply(ops, x), beta);
      this.sampleNext = Tensors.toFloat32(tf, config.sampling().kernel(m.isImage())
          .step(tf, tempered, Tensors.cast(tf, sampleX, dt), sampleSeed).x());
      this.startCount = tf.withName("start_count").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      this.startSeed = tf.withName("start_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.start = Tensors.toFloat32(tf, startOf(startCount, startSeed));
      if (options.training()) {
        buildTraining();
      }
      open();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** U as an {@link Energy} in {@code pass}; {@code dropoutSeeds} gives each evaluation its masks (null: none). */
  private Energy energy(Pass pass, Supplier<Operand<TInt64>> dropoutSeeds) {
    return resnet != null ? resnet.energy(pass, dropoutSeeds) : mlp.energy(pass);
  }

  private void buildTraining() {
    Shape batchShape = Shape.of(Tensors.batchShape(-1, m.dataShape()));
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(batchShape));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Operand<TFloating> data = Tensors.cast(tf, x, dt);
    if (m.isImage()) {
      data = tf.math.div(data, Tensors.constant(tf, dt, 256));
    }
    EbmConfig.Buffer b = config.buffer();
    this.buffer = new ReplayBuffer(store, "ebm/replay_buffer", b.capacity(), m.dataShape(), b.low(), b.high(),
        b.restartProbability());
    Pass pass = Pass.training();
    Operand<TInt64> dropoutStream = ObjectiveSeeds.derive(tf, seed, DROPOUT_STREAM);
    long[] calls = {0};
    Energy u = energy(pass, () -> tf.math.add(dropoutStream, tf.constant(new long[] {0, ++calls[0]})));

    Operand<TInt32> n = tf.reshape(tf.stridedSlice(tf.shape(x), org.tensorflow.ndarray.index.Indices.slice(0, 1)),
        tf.constant(new long[0]));
    ReplayBuffer.Draw draw = buffer.draw(tf, n, ObjectiveSeeds.derive(tf, seed, BUFFER_STREAM));
    EbmConfig.Chains c = config.chains();
    McmcKernel.Move move = c.kernel(m.isImage()).unroll(tf, u, draw.start(), ObjectiveSeeds.derive(tf, seed,
        CHAIN_STREAM), c.steps());
    Operand<TFloating> negatives = tf.stopGradient(move.x());
    MaximumLikelihood.Loss loss = MaximumLikelihood.contrastive(tf, u, data, negatives, config.l2());
    pass.addUpdate(buffer.write(tf, draw, negatives));

    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    metrics.put("e_pos", loss.positiveEnergy());
    metrics.put("e_neg", loss.negativeEnergy());
    metrics.put("restarts", Tensors.mean(tf, draw.restarted(), 0));
    buildTraining(config.training(), new Objective(x, null, seed, loss.loss(), metrics, pass, null));
  }

  public EbmConfig ebmConfig() {
    return config;
  }

  /** The replay buffer of the training step; null for an inference model. */
  public ReplayBuffer replayBuffer() {
    return buffer;
  }

  @Override
  public boolean hasEnergy() {
    return true;
  }

  /**
   * Energies U(x) of a batch in the data's convention: images on the 8-bit scale (divided by 256 here), points as
   * they are. Evaluated in inference (the stored spectral-norm vectors, no dropout).
   */
  @Override
  public double[] energy(Batch batch) {
    if (!Arrays.equals(batch.exampleShape(), m.dataShape())) {
      throw new IllegalArgumentException("batch examples have shape " + Arrays.toString(batch.exampleShape())
          + " but the model expects " + Arrays.toString(m.dataShape()));
    }
    float[] x = batch.x();
    double[] v = new double[x.length];
    double scale = m.isImage() ? 1.0 / 256 : 1.0;
    for (int i = 0; i < x.length; i++) {
      v[i] = x[i] * scale;
    }
    return energy(v);
  }

  /**
   * Energies U(x) of points in model space, row-major [N, dims]: 2-D points as (x, y) pairs for a heat map; images in
   * [0, 1].
   */
  public double[] energy(double[] points) {
    long per = m.dims();
    if (points.length == 0 || points.length % per != 0) {
      throw new IllegalArgumentException("energy(points) needs N * " + per + " values, got " + points.length);
    }
    long n = points.length / per;
    float[] f = new float[points.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) points[i];
    }
    try (TFloat32 xt = HostTensors.float32(f, Tensors.batchShape(n, m.dataShape()));
         Result r = session().runner().feed(evalX, xt).fetch(evalEnergy).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /**
   * Langevin chains from noise (uniform on the sampling box, [0, 1] for images, or Gaussian) drawn in the graph with
   * the key [s, {@value #START_KEY}] (s = Seeds.mix(seed, chunk)), {@code options.steps()} steps (0: the preset's) of
   * the configured dynamics in inference, step i keyed [s, i], one {@code Session.run} per step. {@code options.sampler()} may
   * be null or "langevin"; {@code options.temperature()} T samples exp(-U / T) (the drift is divided by T).
   */
  @Override
  public Samples sample(int count, SampleOptions options) {
    String name = options.sampler() == null ? "langevin" : options.sampler().toLowerCase(Locale.ROOT);
    if (!name.equals("langevin")) {
      throw new IllegalArgumentException("unknown EBM sampler '" + options.sampler() + "'; valid: langevin");
    }
    if (!(options.temperature() > 0)) {
      throw new IllegalArgumentException("--temperature must be positive for Langevin sampling of exp(-U / T), got "
          + options.temperature());
    }
    EbmConfig.Sampling s = config.sampling();
    int steps = options.steps() > 0 ? options.steps() : s.steps();
    int chunk = options.batchSize() > 0 ? options.batchSize() : s.batchSize();
    return sampleInChunks(count, chunk, "Langevin", steps, (start, k, part, onStep) -> {
      long seed = Seeds.mix(options.seed(), part);
      double[] x0;
      try (TInt32 kT = TInt32.scalarOf(k); TInt64 key = TInt64.vectorOf(seed, START_KEY);
           Result r = session().runner().feed(startCount, kT).feed(startSeed, key).fetch(this.start).run()) {
        x0 = HostTensors.toDoubles(r.get(0));
      }
      return langevin(x0, k, seed, steps, options.temperature(), onStep);
    });
  }

  /**
   * {@code steps} steps of the sampling dynamics from {@code x0} ([n, ...] row-major, model space), step i drawing its
   * noise from the seed [seed, i]; exp(-U / temperature) is the target. Returns the final states.
   */
  public double[] langevin(double[] x0, int n, long seed, int steps, double temperature, IntConsumer onStep) {
    if (x0.length != n * m.dims()) {
      throw new IllegalArgumentException("langevin: " + x0.length + " values for " + n + " chains of " + m.dims());
    }
    float[] x = new float[x0.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) x0[i];
    }
    long[] shape = Tensors.batchShape(n, m.dataShape());
    try (TFloat32 beta = TFloat32.scalarOf((float) (1 / temperature))) {
      for (int i = 0; i < steps; i++) {
        try (TFloat32 xt = HostTensors.float32(x, shape); TInt64 st = TInt64.vectorOf(seed, i);
             Result r = session().runner().feed(sampleX, xt).feed(sampleSeed, st).feed(sampleBeta, beta)
                 .fetch(sampleNext).run()) {
          x = HostTensors.toFloats((TFloat32) r.get(0));
        }
        if (onStep != null) {
          onStep.accept(i + 1);
        }
      }
    }
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i];
    }
    return out;
  }

  /** The counter of the stateless key that draws a chain's start (the steps use 0, 1, ...). */
  static final long START_KEY = -1;

  /** A chain's start, [count, shape...]: N(0, std^2 I) or uniform on [low, high) as the sampling config says. */
  private Operand<TFloating> startOf(Operand<TInt32> count, Operand<TInt64> key) {
    EbmConfig.Sampling s = config.sampling();
    long[] example = m.dataShape();
    int[] dims = new int[example.length];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = (int) example[i];
    }
    Operand<TInt32> shape = tf.concat(List.of(tf.reshape(count, tf.constant(new int[] {1})), tf.constant(dims)),
        tf.constant(0));
    if (s.init() == EbmConfig.Init.GAUSSIAN) {
      return tf.math.mul(Tensors.constant(tf, dt, s.std()), tf.random.statelessRandomNormal(shape, key, dt));
    }
    return tf.math.add(Tensors.constant(tf, dt, s.low()), tf.math.mul(Tensors.constant(tf, dt, s.high() - s.low()),
        tf.random.statelessRandomUniform(shape, key, dt)));
  }

  /**
   * {@code sample}: {@link #sample}'s Langevin chains for chunk 0 (s = Seeds.mix(seed, 0)) as one {@code While} loop
   * over the steps, the same kernel step as {@link #langevin} keyed [s, i]; {@code energy}: U(x) of
   * {@link #energy(Batch)} (images on the 8-bit scale). An EBM has no normalised likelihood, so no {@code log_prob}.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    String name = sampling.sampler() == null ? "langevin" : sampling.sampler().toLowerCase(Locale.ROOT);
    if (!name.equals("langevin")) {
      throw new IllegalArgumentException("unknown EBM sampler '" + sampling.sampler() + "'; valid: langevin");
    }
    if (!(sampling.temperature() > 0)) {
      throw new IllegalArgumentException("--temperature must be positive for Langevin sampling of exp(-U / T), got "
          + sampling.temperature());
    }
    EbmConfig.Sampling s = config.sampling();
    int steps = sampling.steps() > 0 ? sampling.steps() : s.steps();
    ExportScope e = new ExportScope(tf, batch);
    Ops o = e.tf();
    Operand<TInt64> chunk = e.chunkSeed();
    Operand<TFloat32> x0 = Tensors.toFloat32(tf, startOf(e.n(), GraphSeeds.key(o, chunk, START_KEY)));
    Shape batchShape = Shape.of(Tensors.batchShape(-1, m.dataShape()));
    GraphLoop loop = new GraphLoop(o, "langevin");
    Placeholder<TFloat32> x = loop.carry("x", TFloat32.class, batchShape);
    Placeholder<TInt64> seed = loop.invariant("seed", TInt64.class, Shape.scalar());
    Ops b = o.withSubScope("step");
    Operand<TFloating> beta = Tensors.cast(b, b.constant((float) (1 / sampling.temperature())), dt);
    Energy tempered = (ops, v) -> ops.math.mul(inferenceEnergy.apply(ops, v), beta);
    Operand<TInt64> key = GraphSeeds.key(b, seed, b.dtypes.cast(loop.counter(), TInt64.class));
    Operand<TFloat32> next = Tensors.toFloat32(b, s.kernel(m.isImage()).step(b, tempered, Tensors.cast(b, x, dt), key)
        .x());
    @SuppressWarnings("unchecked")
    Operand<TFloat32> xs = (Operand<TFloat32>) (Operand<?>) loop.finish(steps, List.of(next), List.of(x0),
        List.of(chunk)).get(0);
    List<ExportedSignature> out = new ArrayList<>();
    out.add(e.sample(xs, m.dataShape(), String.format(Locale.ROOT, "%d steps of Langevin dynamics on exp(-U / T), "
        + "T = %s, from %s in one While loop; equal to genzoo sample(n, seed) with those steps for n <= %d", steps,
        sampling.temperature(), s.init() == EbmConfig.Init.GAUSSIAN ? "N(0, " + s.std() + "^2 I)"
            : "U[" + s.low() + ", " + s.high() + ")", s.batchSize())));
    Placeholder<TFloat32> in = e.examples("x", m.dataShape());
    Operand<TFloating> v = Tensors.cast(tf, in, dt);
    if (m.isImage()) {
      v = tf.math.mul(v, Tensors.constant(tf, dt, 1.0 / 256));
    }
    out.add(e.perExample("energy", "x", in, "energy", Tensors.toFloat32(tf, inferenceEnergy.apply(tf, v)),
        "the energy U(x) = -log p(x) - log Z in nats per example (Z unknown); x "
            + (m.isImage() ? "8-bit images" : "points")));
    return out;
  }

  @Override
  public boolean hasLikelihood() {
    return false;
  }

  @Override
  public double[] logProb(Batch batch) {
    throw new UnsupportedOperationException("an energy-based model is unnormalised: exp(-U) has an unknown partition "
        + "function, so there is no likelihood; use energy() for U");
  }
}
