package dev.genzoo.graphs.nvae;

import dev.genzoo.data.Batch;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.Exportable;
import dev.genzoo.graphs.LatentVariableModel;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.export.ExportScope;
import dev.genzoo.graphs.export.GraphSeeds;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nvae.Layers.Ctx;
import dev.genzoo.graphs.nvae.Layers.Mode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * An NVAE (Vahdat & Kautz 2020) as a {@link dev.genzoo.graphs.GenerativeModel}: the {@link NvaeNetwork} hierarchy
 * trained on the ELBO with the KL warm-up and balancing of {@link KlBalancer}, the spectral regulariser
 * lambda sum_i s(W_i) over every convolution (largest singular values by power iteration, upstream's
 * spectral_norm_parallel) and the BatchNorm penalty lambda sum_l max |gamma_l|, and Adamax with warm-up and cosine
 * decay; sampled ancestrally at a temperature after readjusting the decoder's BatchNorm statistics to prior samples at
 * that temperature (section 3.2 of the paper); scored by the ELBO and the importance-weighted bound
 * ({@link #bounds}), in nats per example (bits/dim = -bound / (D ln 2)).
 *
 * <p>Data: 8-bit images (DMOL: the 256 values of each subpixel, mapped to [-1, 1] for the encoder), binarised images
 * (BERNOULLI: pixels in [0, 256) are binarised with probability x / 255, stochastically per training step, with a
 * seed-determined draw when evaluating; a binary image stays as it is), or points (GAUSSIAN, a density).
 */
public final class NvaeModel extends ModelBase implements LatentVariableModel, Exportable {
  private final NvaeConfig config;
  private final NvaeConfig.Model m;
  private final NvaeNetwork net;
  private final long dims;
  // evaluation of the bounds
  private final Placeholder<TFloat32> evalX;
  private final Placeholder<TInt64> evalSeed;
  private final Operand<TFloat32> evalLogPx;
  private final Operand<TFloat32> evalKl;
  private final Operand<TFloat32> evalLogPz;
  private final Operand<TFloat32> evalLogQz;
  private final Operand<TFloat32> reconstruction;
  // sampling
  private final Placeholder<TInt32> sampleCount;
  private final Placeholder<TFloat32> sampleTemperature;
  private final Placeholder<TInt64> sampleSeed;
  private final Placeholder<TFloat32> readjustRate;
  private final Operand<TFloat32> samples;
  private final Operand<TFloat32> sampleParamsMean;
  private final Operand<TFloat32> readjust;
  private final Op copyStatistics;

  public NvaeModel(NvaeConfig config, ModelOptions options) {
    super("nvae", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      this.dims = m.dims();
      this.net = new NvaeNetwork(store.root().child("nvae"), m);
      long[] batchShape = Tensors.batchShape(-1, m.dataShape());

      this.evalX = tf.withName("eval_x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape)));
      this.evalSeed = tf.withName("eval_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      Ctx ec = new Ctx(tf, dt, Mode.EVAL, Pass.inference(), null);
      Operand<TFloating> ex = Tensors.cast(tf, evalX, dt);
      NvaeNetwork.Posterior post = net.posterior(ec, encoderInput(ex), evalSeed);
      this.evalLogPx = Tensors.toFloat32(tf, logPx(post.params(), observed(ex)));
      this.evalKl = Tensors.toFloat32(tf, sum(post.klPerGroup()));
      this.evalLogPz = Tensors.toFloat32(tf, post.logP());
      this.evalLogQz = Tensors.toFloat32(tf, post.logQ());
      this.reconstruction = Tensors.toFloat32(tf, mean(crop(post.params())));

      this.sampleCount = tf.withName("sample_count").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      this.sampleTemperature = tf.withName("sample_temperature").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      this.sampleSeed = tf.withName("sample_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.readjustRate = tf.withName("readjust_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Operand<TFloating> t = Tensors.cast(tf, sampleTemperature, dt);
      Ctx sc = new Ctx(tf, dt, Mode.SAMPLE, Pass.inference(), null);
      Operand<TFloating> params = net.prior(sc, sampleCount, t, sampleSeed);
      this.samples = Tensors.toFloat32(tf, draw(crop(params), tf.math.add(sampleSeed, tf.constant(new long[] {0,
          7}))));
      this.sampleParamsMean = Tensors.toFloat32(tf, Tensors.mean(tf, params, 0, 1, 2, 3));
      Pass readjustPass = Pass.training();
      Ctx rc = new Ctx(tf, dt, Mode.READJUST, readjustPass, Tensors.cast(tf, readjustRate, dt));
      Operand<TFloating> readjusted = net.prior(rc, sampleCount, t, sampleSeed);
      List<Op> deps = new ArrayList<>(readjustPass.updates());
      this.readjust = tf.withControlDependencies(deps).identity(Tensors.toFloat32(tf, Tensors.mean(tf,
          readjusted, 0, 1, 2, 3)));
      this.copyStatistics = copyStatisticsOp();

      if (options.training()) {
        buildTraining();
      }
      open();
      session().runner().addTarget(copyStatistics).run().close();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public NvaeConfig nvaeConfig() {
    return config;
  }

  /** Copies every BatchNorm's moving statistics into its sampling statistics. */
  private Op copyStatisticsOp() {
    List<Op> copies = new ArrayList<>();
    for (VarStore.Var v : store.ofKind(VarStore.Kind.SCRATCH)) {
      String name = v.name();
      String source = name.endsWith("/sample_mean") ? name.replace("/sample_mean", "/moving_mean")
          : name.endsWith("/sample_variance") ? name.replace("/sample_variance", "/moving_variance") : null;
      if (source != null) {
        copies.add(tf.assign(v.<TFloating>as(), store.get(source).<TFloating>value()));
      }
    }
    return tf.withControlDependencies(copies).noOp();
  }

  private void buildTraining() {
    long[] batchShape = Tensors.batchShape(-1, m.dataShape());
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape)));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    globalStep();
    buildTraining(config.training(), x, null, seed, this::towerLoss, null);
  }

  /**
   * The negative ELBO with KL warm-up and balancing (Vahdat and Kautz 2020, section 3) on a tower's rows. The dynamic
   * binarisation is drawn for the whole batch and sliced; the posterior samples and the BatchNorm statistics are the
   * tower's own (NVAE's own multi-GPU training synchronises BatchNorm; genzoo's towers do not).
   */
  private TowerLoss towerLoss(Tower tower) {
    var tc = config.training();
    var obj = config.objective();
    Output<TInt64> step = globalStep();
    Operand<TInt64> seed = tower.seed();
    Operand<TFloating> xs = Tensors.cast(tf, tower.x(), dt);
    if (m.likelihood() == NvaeConfig.Likelihood.BERNOULLI) {
      // dynamic binarisation: pixel = 1 with probability x / 255
      Operand<TFloating> u = tower.slice(tf, tf.random.statelessRandomUniform(tower.globalShape(tf),
          tf.math.add(seed, tf.constant(new long[] {0, 3})), dt));
      xs = tf.math.mul(tf.dtypes.cast(tf.math.less(u, tf.math.div(clip8(xs), c(255))), dt), c(255));
    }
    Pass pass = Pass.training();
    Ctx ctx = new Ctx(tf, dt, Mode.TRAIN, pass, null);
    NvaeNetwork.Posterior post = net.posterior(ctx, encoderInput(xs), tf.math.add(seed, tf.constant(new long[] {0,
        5})));
    Operand<TFloating> recon = tf.math.neg(logPx(post.params(), observed(xs)));
    Operand<TFloating> klAll = tf.stack(post.klPerGroup(), org.tensorflow.op.core.Stack.axis(1L));
    double total = Math.max(1, tc.steps());
    Operand<TFloating> beta = KlBalancer.klCoeff(tf, dt, tf.identity(step), obj.klAnnealPortion() * total,
        obj.klConstPortion() * total, obj.klConstCoeff());
    double[] alphas = KlBalancer.alphas(m.groups());
    Operand<TFloating> weightedKl = obj.klBalance() ? KlBalancer.balance(tf, dt, klAll, beta, alphas)
        : tf.math.mul(beta, Tensors.sum(tf, klAll, 1));
    Operand<TFloating> kl = Tensors.sum(tf, klAll, 1);
    Operand<TFloating> loss = Tensors.mean(tf, tf.math.add(recon, weightedKl), 0);
    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    metrics.put("recon", Tensors.mean(tf, recon, 0));
    metrics.put("kl", Tensors.mean(tf, kl, 0));
    metrics.put(m.isImage() ? "elbo_bpd" : "neg_elbo", tf.math.div(Tensors.mean(tf, tf.math.add(recon, kl), 0),
        c(m.isImage() ? dims * Math.log(2) : 1)));
    metrics.put("kl_coeff", beta);
    if (obj.spectralRegularization() > 0) {
      Operand<TFloating> spectral = spectralRegularizer(ctx, pass, obj.powerIterations());
      Operand<TFloating> bnLoss = c(0);
      for (Operand<TFloating> gamma : ctx.bnScales) {
        bnLoss = tf.math.add(bnLoss, tf.max(tf.math.abs(gamma), tf.constant(0)));
      }
      metrics.put("spectral", spectral);
      metrics.put("bn_max", bnLoss);
      loss = tf.math.add(loss, tf.math.mul(c(obj.spectralRegularization()), tf.math.add(spectral, bnLoss)));
    }
    return new TowerLoss(loss, metrics, pass);
  }

  /**
   * Upstream's spectral_norm_parallel: the convolutions' kernels as [out, fan-in] matrices, grouped by shape, each
   * group's largest singular values s(W) = u^T W v by {@code iterations} power iterations per step from persistent u
   * and v (OPTIMIZER variables {@code nvae/spectral_regularizer/<rows>x<cols>/u|v}: training state, not part of a
   * bundle), gradients through W only. Upstream runs 10x the iterations on its first step; here the vectors start
   * random and converge over the first steps.
   */
  private Operand<TFloating> spectralRegularizer(Ctx ctx, Pass pass, int iterations) {
    Map<String, List<Operand<TFloating>>> byShape = new LinkedHashMap<>();
    for (Operand<TFloating> w : ctx.convMatrices) {
      String key = w.shape().get(0) + "x" + w.shape().get(1);
      byShape.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
    }
    Operand<TFloating> total = c(0);
    for (Map.Entry<String, List<Operand<TFloating>>> e : byShape.entrySet()) {
      List<Operand<TFloating>> ws = e.getValue();
      long rows = ws.get(0).shape().get(0);
      long cols = ws.get(0).shape().get(1);
      Operand<TFloating> w = tf.stack(ws);
      String prefix = "nvae/spectral_regularizer/" + e.getKey() + "/";
      // Towers share the vectors: the first creates them, every tower iterates from them, tower 0's update is run.
      Output<TFloating> uRef = store.contains(prefix + "u") ? store.get(prefix + "u").as()
          : store.create(prefix + "u", new long[] {ws.size(), rows}, VarStore.Kind.OPTIMIZER,
              normalized(Initializer.normal(1)));
      Output<TFloating> vRef = store.contains(prefix + "v") ? store.get(prefix + "v").as()
          : store.create(prefix + "v", new long[] {ws.size(), cols}, VarStore.Kind.OPTIMIZER,
              normalized(Initializer.normal(1)));
      Operand<TFloating> u = store.read(uRef);
      Operand<TFloating> v = store.read(vRef);
      Operand<TFloating> wFixed = tf.stopGradient(w);
      for (int i = 0; i < iterations; i++) {
        v = normalize(tf.linalg.einsum(List.of(u, wFixed), "nr,nrc->nc"));
        u = normalize(tf.linalg.einsum(List.of(wFixed, v), "nrc,nc->nr"));
      }
      u = tf.stopGradient(u);
      v = tf.stopGradient(v);
      pass.addUpdate(tf.assign(uRef, u));
      pass.addUpdate(tf.assign(vRef, v));
      Operand<TFloating> wv = tf.linalg.einsum(List.of(w, v), "nrc,nc->nr");
      Operand<TFloating> sigma = Tensors.sum(tf, tf.math.mul(u, wv), 1);
      total = tf.math.add(total, Tensors.sum(tf, sigma, 0));
    }
    return total;
  }

  private static Initializer normalized(Initializer base) {
    return c -> {
      Operand<TFloating> x = base.create(c);
      Ops tf = c.tf();
      return tf.math.div(x, tf.math.maximum(tf.math.sqrt(tf.sum(tf.math.square(x), tf.constant(1),
          org.tensorflow.op.core.Sum.keepDims(true))), c.constant(1e-3)));
    };
  }

  /** F.normalize(x, dim=1, eps=1e-3). */
  private Operand<TFloating> normalize(Operand<TFloating> x) {
    Operand<TFloating> norm = tf.math.sqrt(tf.sum(tf.math.square(x), tf.constant(1),
        org.tensorflow.op.core.Sum.keepDims(true)));
    return tf.math.div(x, tf.math.maximum(norm, c(1e-3)));
  }

  private Operand<TFloating> clip8(Operand<TFloating> x) {
    return tf.clipByValue(tf.math.floor(x), c(0), c(255));
  }

  /** What the likelihood scores: 8-bit integers (DMOL), {0, 1} (BERNOULLI, given as 0 or 255), points. */
  private Operand<TFloating> observed(Operand<TFloating> x) {
    return switch (m.likelihood()) {
      case DMOL -> clip8(x);
      case BERNOULLI -> tf.math.div(clip8(x), c(255));
      case GAUSSIAN -> x;
    };
  }

  /** The encoder's input: images as 2 x / 255 - 1 zero-padded in [0, 1] (upstream), points as [N, 1, 1, d]. */
  private Operand<TFloating> encoderInput(Operand<TFloating> x) {
    if (!m.isImage()) {
      return tf.reshape(x, tf.constant(new long[] {-1, 1, 1, m.dataShape()[0]}));
    }
    Operand<TFloating> unit = tf.math.div(clip8(x), c(255));
    if (m.likelihood() == NvaeConfig.Likelihood.BERNOULLI) {
      unit = tf.math.floor(tf.math.add(unit, c(0.5)));
    }
    int p = m.padding();
    if (p > 0) {
      unit = tf.pad(unit, tf.constant(new int[][] {{0, 0}, {p, p}, {p, p}, {0, 0}}), c(0));
    }
    return tf.math.sub(tf.math.mul(unit, c(2)), c(1));
  }

  /** The decoder's parameters on the data's own pixels (upstream's crop_output). */
  private Operand<TFloating> crop(Operand<TFloating> params) {
    int p = m.padding();
    if (p == 0 || !m.isImage()) {
      return params;
    }
    long h = m.dataShape()[0];
    long w = m.dataShape()[1];
    return tf.stridedSlice(params, Indices.all(), Indices.slice(p, p + h), Indices.slice(p, p + w), Indices.all());
  }

  /** log p(x | z) per example [N]. */
  private Operand<TFloating> logPx(Operand<TFloating> params, Operand<TFloating> observed) {
    Operand<TFloating> cropped = crop(params);
    return switch (m.likelihood()) {
      case DMOL -> Tensors.sum(tf, new DiscMixLogistic(tf, dt, cropped, m.numMix(), (int) m.dataShape()[2])
          .logProb(tf, observed), 1, 2);
      case BERNOULLI -> Tensors.sum(tf, Bernoulli.logProb(tf, cropped, observed), 1, 2, 3);
      case GAUSSIAN -> Tensors.sum(tf, gaussian(cropped).logP(tf, observed), 1);
    };
  }

  /**
   * p(x | z) for points: N(mu, diag exp(log sigma)^2) from the decoder's [N, 1, 1, 2d] output, without upstream's soft
   * clamp (points are not confined to [-1, 1]).
   */
  private Normal gaussian(Operand<TFloating> params) {
    long d = m.dataShape()[0];
    Operand<TFloating> flat = tf.reshape(params, tf.constant(new long[] {-1, 2 * d}));
    List<Output<TFloating>> parts = tf.split(tf.constant(1), flat, 2L).output();
    return Normal.exact(tf, parts.get(0), parts.get(1));
  }

  /** The decoder's mean image (reconstructions): DMOL's upstream mean(), Bernoulli probabilities, Gaussian mean. */
  private Operand<TFloating> mean(Operand<TFloating> params) {
    return switch (m.likelihood()) {
      case DMOL -> new DiscMixLogistic(tf, dt, params, m.numMix(), (int) m.dataShape()[2]).mean(tf);
      case BERNOULLI -> Bernoulli.mean(tf, params);
      case GAUSSIAN -> gaussian(params).mu();
    };
  }

  /** A sample of p(x | z): DMOL draws at temperature 1; Bernoulli shows its mean (as upstream's samples); points. */
  private Operand<TFloating> draw(Operand<TFloating> params, Operand<TInt64> seed) {
    return switch (m.likelihood()) {
      case DMOL -> new DiscMixLogistic(tf, dt, params, m.numMix(), (int) m.dataShape()[2]).sample(tf, seed, 1.0);
      case BERNOULLI -> Bernoulli.mean(tf, params);
      case GAUSSIAN -> {
        Normal n = gaussian(params);
        yield n.sample(tf, tf.random.statelessRandomNormal(tf.shape(n.mu()), seed, dt));
      }
    };
  }

  private Operand<TFloating> sum(List<Operand<TFloating>> terms) {
    Operand<TFloating> s = terms.get(0);
    for (int i = 1; i < terms.size(); i++) {
      s = tf.math.add(s, terms.get(i));
    }
    return s;
  }

  private Operand<TFloating> c(double v) {
    return Tensors.constant(tf, dt, v);
  }

  @Override
  public Samples sample(int count, SampleOptions options) {
    int chunk = options.batchSize() > 0 ? options.batchSize() : config.sampling().batchSize();
    double t = options.temperature();
    readjustBatchNorm(t, config.sampling().readjustBnIterations(), Math.min(chunk, Math.max(count, 100)),
        options.seed());
    return sampleInChunks(count, chunk, "sample", 1, (start, k, part, onStep) -> {
      long seed = Seeds.mix(options.seed(), part);
      try (TInt32 n = TInt32.scalarOf(k); TFloat32 temp = TFloat32.scalarOf((float) t);
          TInt64 s = TInt64.vectorOf(seed, 0);
          Result r = session().runner().feed(sampleCount, n).feed(sampleTemperature, temp).feed(sampleSeed, s)
              .fetch(samples).run()) {
        onStep.accept(1);
        return HostTensors.toDoubles(r.get(0));
      }
    });
  }

  /**
   * The paper's BatchNorm readjustment (section 3.2, "Sampling with temperature"): the decoder's sampling statistics
   * become the average batch statistics of {@code iterations} batches of {@code batch} prior samples at temperature
   * {@code t}; with 0 iterations they are the training statistics. The model's saved statistics are not changed.
   */
  public void readjustBatchNorm(double t, int iterations, int batch, long seed) {
    session().runner().addTarget(copyStatistics).run().close();
    for (int i = 0; i < iterations; i++) {
      runSampler(readjust, batch, t, Seeds.mix(seed, 0x5EAD), i, 1f / (i + 1));
    }
  }

  /**
   * Runs {@code output} of the prior sampler (the readjustment pass, or the mean of p(x | z)'s parameters under the
   * sampling statistics) for {@code n} samples at temperature t with seed (s0, s1); returns its scalar value.
   */
  double runSampler(Operand<TFloat32> output, int n, double t, long s0, long s1, float rate) {
    try (TInt32 count = TInt32.scalarOf(n); TFloat32 temp = TFloat32.scalarOf((float) t);
        TInt64 s = TInt64.vectorOf(s0, s1); TFloat32 r = TFloat32.scalarOf(rate);
        Result res = session().runner().feed(sampleCount, count).feed(sampleTemperature, temp).feed(sampleSeed, s)
            .feed(readjustRate, r).fetch(output).run()) {
      return ((TFloat32) res.get(0)).getFloat();
    }
  }

  /**
   * {@code sample}: the ancestral pass of {@link #sample} for chunk 0 (seed [Seeds.mix(seed, 0), 0]) at the export's
   * temperature, with the decoder's sampling statistics readjusted now, as {@link #sample} does, with the export's
   * seed (they are saved in the SavedModel; with {@code sampling.readjustBnIterations = 0} they are the training
   * statistics and any seed matches {@link #sample}). {@code log_prob}: the ELBO of {@link #logProb} (one posterior
   * draw, seed 0); omitted for BERNOULLI models, whose {@code logProb} binarises the input on the host first.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    ExportScope e = new ExportScope(tf, batch);
    double t = sampling.temperature();
    int chunk = config.sampling().batchSize();
    readjustBatchNorm(t, config.sampling().readjustBnIterations(),
        Math.min(chunk, Math.max(batch > 0 ? batch : 100, 100)), sampling.seed());
    Operand<TInt64> key = GraphSeeds.key(e.tf(), e.chunkSeed(), 0L);
    Ctx sc = new Ctx(tf, dt, Mode.SAMPLE, Pass.inference(), null);
    Operand<TFloating> params = net.prior(sc, e.n(), Tensors.cast(tf, e.tf().constant((float) t), dt), key);
    Operand<TFloat32> x = Tensors.toFloat32(tf, draw(crop(params), tf.math.add(key, tf.constant(new long[] {0, 7}))));
    List<ExportedSignature> out = new ArrayList<>();
    out.add(e.sample(x, m.dataShape(), String.format(java.util.Locale.ROOT, "ancestral sample of the latent "
        + "hierarchy at temperature %s, BatchNorm statistics readjusted at export (%d iterations, seed %d); equal to "
        + "genzoo sample(n, seed) for n <= %d%s", t, config.sampling().readjustBnIterations(), sampling.seed(), chunk,
        config.sampling().readjustBnIterations() > 0 ? " and that seed" : "")));
    if (m.likelihood() != NvaeConfig.Likelihood.BERNOULLI) {
      Placeholder<TFloat32> in = e.examples("x", m.dataShape());
      Ctx ec = new Ctx(tf, dt, Mode.EVAL, Pass.inference(), null);
      Operand<TFloating> ex = Tensors.cast(tf, in, dt);
      NvaeNetwork.Posterior post = net.posterior(ec, encoderInput(ex), tf.constant(new long[] {Seeds.mix(0, 2), 0}));
      Operand<TFloat32> elbo = tf.math.sub(Tensors.toFloat32(tf, logPx(post.params(), observed(ex))),
          Tensors.toFloat32(tf, sum(post.klPerGroup())));
      out.add(e.perExample("log_prob", "x", in, "log_prob", elbo, "the ELBO (a lower bound on log p(x)) in nats per "
          + "example, one posterior draw with genzoo logp's seed 0; x " + (m.isImage() ? "8-bit images" : "points")));
    }
    return out;
  }

  /** For tests: the readjustment pass's output and the sampling pass's output (means of p(x | z)'s parameters). */
  Operand<TFloat32> readjustOutput() {
    return readjust;
  }

  Operand<TFloat32> sampleOutput() {
    return sampleParamsMean;
  }

  /**
   * Reconstructions: the decoder's mean given z drawn from q(z | x) (seeded), for images on the 8-bit scale; images
   * come back in [0, 1], points in data coordinates.
   */
  public Samples reconstruct(Batch batch, long seed) {
    checkShape(batch);
    float[] x = prepare(batch, seed);
    try (TFloat32 xt = HostTensors.float32(x, batch.shape()); TInt64 s = TInt64.vectorOf(Seeds.mix(seed, 1), 0);
        Result r = session().runner().feed(evalX, xt).feed(evalSeed, s).fetch(reconstruction).run()) {
      double[] v = HostTensors.toDoubles(r.get(0));
      float[] out = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        out[i] = (float) v[i];
      }
      return new Samples(out, batch.shape().clone());
    }
  }

  @Override
  public boolean hasLikelihood() {
    return true;
  }

  @Override
  public String likelihoodKind() {
    String data = switch (m.likelihood()) {
      case DMOL -> "discretised mixture of logistics";
      case BERNOULLI -> "Bernoulli on the stochastically binarised image";
      case GAUSSIAN -> "Gaussian p(x | z)";
    };
    return "ELBO (" + data + ", analytic KL per group given the drawn z)";
  }

  /** The ELBO of each example, one posterior draw (seed 0). */
  @Override
  public double[] logProb(Batch batch) {
    return bounds(batch, 1, 0).elbo();
  }

  @Override
  public int defaultImportanceSamples() {
    return config.sampling().importanceSamples();
  }

  /**
   * The ELBO (log p(x | z) - sum_l KL(q(z_l | x, z_{<l}) || p(z_l | z_{<l})), the KL analytic per group, averaged over
   * the k draws) and the importance-weighted bound log (1/k sum_i p(x | z_i) p(z_i) / q(z_i | x)) (Burda et al. 2016)
   * of each example, from k posterior draws seeded by (seed, i). Binarised models binarise the batch once with the seed.
   */
  @Override
  public Bounds bounds(Batch batch, int k, long seed) {
    if (k < 1) {
      throw new IllegalArgumentException("the importance-weighted bound needs k >= 1 samples, got " + k);
    }
    checkShape(batch);
    float[] x = prepare(batch, seed);
    int n = batch.size();
    int chunk = Math.max(1, config.sampling().batchSize());
    double[] elbo = new double[n];
    double[] iw = new double[n];
    long per = dims;
    for (int start = 0; start < n; start += chunk) {
      int b = Math.min(chunk, n - start);
      float[] part = Arrays.copyOfRange(x, (int) (start * per), (int) ((start + b) * per));
      long[] shape = batch.shape().clone();
      shape[0] = b;
      double[][] logW = new double[k][];
      double[] elboSum = new double[b];
      try (TFloat32 xt = HostTensors.float32(part, shape)) {
        for (int i = 0; i < k; i++) {
          try (TInt64 s = TInt64.vectorOf(Seeds.mix(seed, 2), i);
              Result r = session().runner().feed(evalX, xt).feed(evalSeed, s).fetch(evalLogPx).fetch(evalKl)
                  .fetch(evalLogPz).fetch(evalLogQz).run()) {
            double[] px = HostTensors.toDoubles(r.get(0));
            double[] kl = HostTensors.toDoubles(r.get(1));
            double[] pz = HostTensors.toDoubles(r.get(2));
            double[] qz = HostTensors.toDoubles(r.get(3));
            logW[i] = new double[b];
            for (int j = 0; j < b; j++) {
              elboSum[j] += px[j] - kl[j];
              logW[i][j] = px[j] + pz[j] - qz[j];
            }
          }
        }
      }
      double[] bound = ImportanceWeighted.bound(logW);
      for (int j = 0; j < b; j++) {
        elbo[start + j] = elboSum[j] / k;
        iw[start + j] = bound[j];
      }
    }
    return new Bounds(elbo, iw, k);
  }

  private void checkShape(Batch batch) {
    if (!Arrays.equals(batch.exampleShape(), m.dataShape())) {
      throw new IllegalArgumentException("data of shape " + Arrays.toString(batch.exampleShape())
          + " given to an NVAE for " + Arrays.toString(m.dataShape()));
    }
  }

  /** Binarised models: pixel = 255 with probability x / 255 (a binary image stays as it is), from the seed. */
  private float[] prepare(Batch batch, long seed) {
    if (m.likelihood() != NvaeConfig.Likelihood.BERNOULLI) {
      return batch.x();
    }
    SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, 0xB1));
    float[] x = batch.x();
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      double p = Math.min(255, Math.max(0, Math.floor(x[i]))) / 255.0;
      out[i] = rng.nextDouble() < p ? 255f : 0f;
    }
    return out;
  }

  /** The latent groups, in decoder order (top first). */
  public int latentGroups() {
    return net.groupCount();
  }

}
