package dev.genzoo.graphs.ddpm;

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
import dev.genzoo.graphs.nn.ConditionalMlp;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * A DDPM (Ho et al. 2020) as a {@link dev.genzoo.graphs.GenerativeModel}: the noise predictor ({@link UNet} or an MLP
 * for points) with the {@link GaussianDiffusion} process, trained with L_simple, sampled by {@link DiffusionSampler}
 * (ancestral or DDIM), and scored by the {@link VariationalBound} (bits/dim for 8-bit images). A class-conditional
 * model (numClasses > 0) is trained with label dropout and sampled with classifier-free guidance (Ho & Salimans 2022):
 * eps = (1 + w) eps(x, y) - w eps(x, none).
 */
public final class DdpmModel extends ModelBase implements Exportable {
  private final DdpmConfig config;
  private final DdpmConfig.Model m;
  private final GaussianDiffusion diffusion;
  private final UNet unet;
  private final ConditionalMlp mlp;
  private final Placeholder<TInt32> sampleLabels;
  private final Placeholder<TFloat32> guidance;
  private final Placeholder<TInt32> boundLabels;
  private final DiffusionSampler sampler;
  private final VariationalBound bound;

  public DdpmModel(DdpmConfig config, ModelOptions options) {
    super("ddpm", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      this.diffusion = config.process();
      if (m.network() == DdpmConfig.Network.UNET) {
        this.unet = new UNet(store.root().child("unet"), m);
        this.mlp = null;
      } else {
        this.unet = null;
        this.mlp = new ConditionalMlp(store.root().child("mlp"), m.dataShape()[0], m.ch(), m.numResBlocks());
      }
      boolean conditional = m.numClasses() > 0;
      this.sampleLabels = conditional
          ? tf.withName("sample_labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))) : null;
      this.guidance = conditional
          ? tf.withName("guidance").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar())) : null;
      this.boundLabels = conditional
          ? tf.withName("bound_labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))) : null;
      var d = config.diffusion();
      this.sampler = new DiffusionSampler(tf, dt, diffusion, this::guidedEps, m.dataShape(), config.decoder(),
          d.clipDenoised());
      this.bound = new VariationalBound(tf, dt, diffusion, (ops, xt, t) -> net(ops, xt, t, boundLabels, null),
          m.dataShape(), d.varianceType(), config.decoder(), d.clipDenoised());
      if (options.training()) {
        buildTraining();
      }
      open();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** eps_theta(x_t, t, y) of the network; {@code seed} non-null turns dropout on. */
  private Operand<TFloating> net(Ops ops, Operand<TFloating> xt, Operand<TInt32> t, Operand<TInt32> labels,
      Operand<TInt64> seed) {
    return unet != null ? unet.call(ops, xt, t, labels, seed) : mlp.call(ops, xt, t);
  }

  /** Classifier-free guidance: one batch of [conditional; unconditional] through the network. */
  private Operand<TFloating> guidedEps(Ops ops, Operand<TFloating> xt, Operand<TInt32> t) {
    return guidedEps(ops, xt, t, sampleLabels, guidance);
  }

  /** {@link #guidedEps(Ops, Operand, Operand)} with given labels [N] and guidance weight (unused when unconditional). */
  private Operand<TFloating> guidedEps(Ops ops, Operand<TFloating> xt, Operand<TInt32> t, Operand<TInt32> labels,
      Operand<TFloat32> weight) {
    if (m.numClasses() == 0) {
      return net(ops, xt, t, null, null);
    }
    Operand<TInt32> none = ops.fill(ops.shape(labels), ops.constant(m.numClasses()));
    Operand<TFloating> both = net(ops, ops.concat(List.of(xt, xt), ops.constant(0)),
        ops.concat(List.of(t, t), ops.constant(0)), ops.concat(List.of(labels, none), ops.constant(0)), null);
    List<org.tensorflow.Output<TFloating>> halves = ops.split(ops.constant(0), both, 2L).output();
    Operand<TFloating> w = Tensors.cast(ops, weight, dt);
    return ops.math.sub(ops.math.mul(ops.math.add(Tensors.constant(ops, dt, 1), w), halves.get(0)),
        ops.math.mul(w, halves.get(1)));
  }

  private void buildTraining() {
    long[] batchShape = Tensors.batchShape(-1, m.dataShape());
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape)));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Placeholder<TInt32> labels = m.numClasses() > 0
        ? tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))) : null;
    buildTraining(config.training(), x, labels, seed, this::lossSimple, null);
  }

  /**
   * L_simple (Ho et al. 2020, eq. 14) on a tower's rows: timesteps, noise and label dropout are drawn for the whole
   * batch and sliced, so any split of the batch trains as one device does (up to dropout masks, drawn per tower).
   */
  private TowerLoss lossSimple(Tower tower) {
    Operand<TFloating> x0 = toModelScale(Tensors.cast(tf, tower.x(), dt));
    Operand<TInt64> seed = tower.seed();
    Operand<TInt32> n = tower.globalCount(tf);
    Operand<TInt32> steps = tower.slice(tf, tf.random.statelessRandomUniformInt(n, tf.math.add(seed,
        tf.constant(new long[] {0, 1})), tf.constant(0), tf.constant(diffusion.timesteps())));
    Operand<TFloating> noise = tower.slice(tf, tf.random.statelessRandomNormal(tower.globalShape(tf),
        tf.math.add(seed, tf.constant(new long[] {0, 2})), dt));
    Operand<TFloating> xt = diffusion.qSample(tf, x0, steps, noise);
    Operand<TInt32> y = null;
    if (tower.labels() != null) {
      // Label dropout for classifier-free guidance: with probability p_uncond train on the "no label" class.
      Operand<TFloating> u = tower.slice(tf, tf.random.statelessRandomUniform(n, tf.math.add(seed,
          tf.constant(new long[] {0, 3})), dt));
      y = tf.select(tf.math.less(u, Tensors.constant(tf, dt, m.classDropProb())),
          tf.fill(tf.shape(tower.labels()), tf.constant(m.numClasses())), tower.labels());
    }
    Operand<TFloating> eps = net(tf, xt, steps, y, m.dropout() > 0 ? tf.math.add(seed, tf.constant(new long[] {0, 4}))
        : null);
    Operand<TFloating> loss = Tensors.mean(tf, GaussianDiffusion.lossSimple(tf, noise, eps), 0);
    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    metrics.put("mse", loss);
    return new TowerLoss(loss, metrics, Pass.training());
  }

  /** 8-bit images (values in [0, 256)) to the model's [-1, 1] grid k / 127.5 - 1; points unchanged. */
  private Operand<TFloating> toModelScale(Operand<TFloating> x) {
    if (!m.isImage()) {
      return x;
    }
    Operand<TFloating> k = tf.clipByValue(tf.math.floor(x), c(0), c(255));
    return tf.math.sub(tf.math.div(k, c(127.5)), c(1));
  }

  private Operand<TFloating> c(double v) {
    return Tensors.constant(tf, dt, v);
  }

  public DdpmConfig ddpmConfig() {
    return config;
  }

  /**
   * One step of a sampler from timestep t on model-scale x_t ([count, shape...] flattened), for benchmarks; a
   * class-conditional model draws classes 0, 1, ... with the config's guidance weight. {@link #sample} runs whole chains.
   */
  public double[] sampleStep(double[] xt, int count, int t, long seed, DiffusionSampler.Spec spec) {
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = m.numClasses() > 0 ? i % m.numClasses() : 0;
    }
    try (TInt32 l = TInt32.vectorOf(labels); TFloat32 g = TFloat32.scalarOf((float) config.sampling().guidance())) {
      Map<Operand<?>, Tensor> feeds = sampleLabels == null ? null : Map.of(sampleLabels, l, guidance, g);
      return sampler.step(session(), xt, count, t, t - 1, seed, spec, feeds);
    }
  }

  /** The diffusion process (its schedule arrays). */
  public GaussianDiffusion diffusion() {
    return diffusion;
  }

  /**
   * Samples with the sampler named in {@code options} (see {@link DiffusionSampler#parse}); images come back in
   * [0, 1]. A class-conditional model draws class {@code options.label()} (or cycles through the classes) with guidance
   * weight {@code options.guidance()} (or the config's).
   */
  @Override
  public Samples sample(int count, SampleOptions options) {
    DiffusionSampler.Spec spec = DiffusionSampler.parse(options.sampler(), options.steps(), config);
    if (m.numClasses() > 0 && options.label() >= m.numClasses()) {
      throw new IllegalArgumentException("--label " + options.label() + ": the model has classes 0.."
          + (m.numClasses() - 1));
    }
    double w = Double.isNaN(options.guidance()) ? config.sampling().guidance() : options.guidance();
    int chunk = options.batchSize() > 0 ? options.batchSize() : config.sampling().batchSize();
    return sampleInChunks(count, chunk, "sample " + spec, sampler.evaluations(spec), (start, k, part, onStep) -> {
      long seed = Seeds.mix(options.seed(), part);
      int[] labels = new int[k];
      for (int i = 0; i < k; i++) {
        labels[i] = options.label() >= 0 ? options.label() : m.numClasses() > 0 ? (start + i) % m.numClasses() : 0;
      }
      double[] x;
      try (TInt32 l = TInt32.vectorOf(labels); TFloat32 g = TFloat32.scalarOf((float) w)) {
        Map<Operand<?>, Tensor> feeds = sampleLabels == null ? null : Map.of(sampleLabels, l, guidance, g);
        x = sampler.sample(session(), sampler.priorNoise(session(), k, seed), k, seed, spec, feeds, onStep);
      }
      if (m.isImage()) {
        for (int i = 0; i < x.length; i++) {
          x[i] = Math.min(1, Math.max(0, (x[i] + 1) / 2));
        }
      }
      return x;
    });
  }


  /**
   * {@code sample}: the whole reverse process of {@link #sample} for chunk 0 as one {@code While} loop over the
   * sampler's steps (ancestral: all T; DDIM: its S), exactly the steps {@link DiffusionSampler} runs from Java: x_T
   * drawn with the key [s, 0] and step t's noise with [s, t + 1], s = Seeds.mix(seed, 0); images mapped to [0, 1].
   * A class-conditional model draws the export's label (or cycles through the classes) with its guidance weight.
   * No {@code log_prob}: the variational bound takes T network evaluations over a host loop.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    DiffusionSampler.Spec spec = DiffusionSampler.parse(sampling.sampler(), sampling.steps(), config);
    if (m.numClasses() > 0 && sampling.label() >= m.numClasses()) {
      throw new IllegalArgumentException("--label " + sampling.label() + ": the model has classes 0.."
          + (m.numClasses() - 1));
    }
    double w = Double.isNaN(sampling.guidance()) ? config.sampling().guidance() : sampling.guidance();
    ExportScope e = new ExportScope(tf, batch);
    Ops o = e.tf();
    Operand<TInt64> s = e.chunkSeed();
    long[] shape = m.dataShape();
    List<Operand<TInt32>> dims = List.of(o.reshape(e.n(), o.constant(new int[] {1})), o.constant(toInts(shape)));
    Operand<TFloating> xT = o.random.statelessRandomNormal(o.concat(dims, o.constant(0)), GraphSeeds.key(o, s, 0L),
        dt);
    int[] ts;
    if (spec.kind() == DiffusionSampler.Spec.Kind.ANCESTRAL) {
      ts = new int[diffusion.timesteps()];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = ts.length - 1 - i;
      }
    } else {
      ts = DiffusionSampler.ddimTimesteps(diffusion.timesteps(), spec.steps());
    }
    int[] prev = new int[ts.length];
    for (int i = 0; i < ts.length; i++) {
      prev[i] = i + 1 < ts.length ? ts[i + 1] : -1;
    }

    GraphLoop loop = new GraphLoop(o, "ddpm_sampler");
    Placeholder<TFloating> x = loop.carry("x_t", dt, Shape.of(Tensors.batchShape(-1, shape)));
    Placeholder<TInt64> seed = loop.invariant("seed", TInt64.class, Shape.scalar());
    Ops b = o.withSubScope("step");
    Operand<TInt32> t = b.gather(b.constant(ts), loop.counter(), b.constant(0));
    Operand<TInt32> tPrev = b.gather(b.constant(prev), loop.counter(), b.constant(0));
    Operand<TInt32> count = b.stridedSlice(b.shape(x), org.tensorflow.ndarray.index.Indices.slice(0, 1));
    Operand<TInt32> tVec = b.fill(count, t);
    Operand<TInt32> tPrevVec = b.fill(count, tPrev);
    Operand<TInt64> stepKey = GraphSeeds.key(b, seed, b.math.add(b.dtypes.cast(t, TInt64.class), b.constant(1L)));
    Operand<TFloating> z = b.random.statelessRandomNormal(b.shape(x), stepKey, dt);
    Operand<TInt32> labels = null;
    if (m.numClasses() > 0) {
      Operand<TInt32> n = b.reshape(count, b.constant(new int[0]));
      labels = sampling.label() >= 0 ? b.fill(count, b.constant(sampling.label()))
          : b.math.floorMod(b.range(b.constant(0), n, b.constant(1)), b.constant(m.numClasses()));
    }
    Operand<TFloating> eps = guidedEps(b, x, tVec, labels, b.constant((float) w));
    var d = config.diffusion();
    Operand<TFloating> next = switch (spec.kind()) {
      case ANCESTRAL -> diffusion.ancestralStep(b, x, tVec, eps, spec.varianceType(), config.decoder(),
          d.clipDenoised(), z);
      case DDIM -> diffusion.ddimStep(b, x, tVec, tPrevVec, eps, Tensors.cast(b, b.constant((float) spec.eta()), dt),
          d.clipDenoised(), z);
    };
    @SuppressWarnings("unchecked")
    Operand<TFloating> x0 = (Operand<TFloating>) (Operand<?>) loop.finish(ts.length, List.of(next), List.of(xT),
        List.of(s)).get(0);
    Operand<TFloat32> out = Tensors.toFloat32(o, x0);
    if (m.isImage()) {
      Operand<TFloat32> half = o.constant(0.5f);
      out = o.clipByValue(o.math.mul(o.math.add(out, o.constant(1f)), half), o.constant(0f), o.constant(1f));
    }
    return List.of(e.sample(out, shape, String.format(java.util.Locale.ROOT, "%s, %d network evaluations in one "
        + "While loop; equal to genzoo sample(n, seed) with that sampler for n <= %d (the sampling batch)", spec,
        ts.length, config.sampling().batchSize())));
  }

  private static int[] toInts(long[] a) {
    int[] r = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = (int) a[i];
    }
    return r;
  }

  @Override
  public String likelihoodKind() {
    return "variational bound (Ho et al. 2020 eq. 5, " + diffusion.timesteps() + " terms, one x_t draw each, "
        + (m.isImage() ? "discretised Gaussian decoder" : "Gaussian decoder") + ")";
  }

  @Override
  public boolean hasLikelihood() {
    return true;
  }

  /**
   * The negative variational bound in nats per example (T network evaluations per batch): for images, a lower bound
   * on log P of the 8-bit image (the GenerativeModel convention: bits/dim = -logProb / (D ln 2)); for points, a
   * lower bound on the log-density. The draws of x_t come from a fixed seed, so the value is reproducible.
   */
  @Override
  public double[] logProb(Batch batch) {
    VariationalBound.Result r = bound(batch, 0, null);
    double[] out = new double[r.total().length];
    for (int i = 0; i < out.length; i++) {
      out[i] = -r.total()[i];
    }
    return out;
  }

  /**
   * The bound and its parts for a batch (images on the 8-bit scale, or points). A conditional model is scored with the
   * batch's labels where it has them, and as the unconditional model (the "no label" class) otherwise.
   */
  public VariationalBound.Result bound(Batch batch, long seed, java.util.function.IntConsumer onStep) {
    if (!Arrays.equals(batch.exampleShape(), m.dataShape())) {
      throw new IllegalArgumentException("data of shape " + Arrays.toString(batch.exampleShape())
          + " given to a DDPM for " + Arrays.toString(m.dataShape()));
    }
    double[] x0 = new double[batch.x().length];
    for (int i = 0; i < x0.length; i++) {
      double v = batch.x()[i];
      x0[i] = m.isImage() ? Math.min(255, Math.max(0, Math.floor(v))) / 127.5 - 1 : v;
    }
    int count = (int) batch.shape()[0];
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = batch.labels() != null ? batch.labels()[i] : m.numClasses();
    }
    try (TInt32 l = TInt32.vectorOf(labels)) {
      Map<Operand<?>, Tensor> feeds = boundLabels == null ? null : Map.of(boundLabels, l);
      return bound.evaluate(session(), x0, count, seed, feeds, onStep);
    }
  }

}
