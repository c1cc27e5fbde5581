package dev.genzoo.graphs.sngan;

import dev.genzoo.data.Batch;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.Exportable;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.export.ExportScope;
import dev.genzoo.graphs.export.GraphSeeds;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.VarStore.Kind;
import dev.genzoo.graphs.nn.VarStore.Var;
import dev.genzoo.graphs.train.LearningRate;
import dev.genzoo.graphs.train.Optimizers;
import dev.genzoo.graphs.train.TrainGraph;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * SN-GAN (Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral Normalization for Generative Adversarial Networks") as a
 * {@link dev.genzoo.graphs.GenerativeModel}: a generator G (scope {@code generator}) and a spectrally normalised critic
 * D (scope {@code critic}), trained adversarially; sampling is one pass of G, and there is no likelihood.
 *
 * <p><b>One training step is one generator iteration, in one {@code Session.run}</b>: the fed batch holds n_dis
 * batches of real examples (the {@link TrainGraph#batchesPerStep()}); critic update k (k = 0 .. n_dis-1) takes slice
 * k and fresh latents z_k, builds its copy of D under {@code critic.reuseAfter(update_{k-1})} so that it reads the
 * weights and power-iteration vectors as update k-1 left them, and applies Adam to the gradient of its loss with
 * respect to those reads; its power iterations (u := u') are part of the update. Then the generator update runs a
 * copy of D built after the last critic update (one more power iteration, as PyTorch's D in training mode does) on
 * G(z) for fresh z and applies Adam to G. Both networks share the learning rate, decayed linearly over the generator
 * iterations (Mimicry's schedule: lr_s = lr (1 - s / steps)); each has its own Adam slots
 * ({@code optimizer/critic/...}, {@code optimizer/generator/...}), and the critic's bias correction counts its own
 * updates, t = s n_dis + k + 1, as PyTorch's per-optimiser step count does.
 *
 * <p>Differences from Mimicry's loop, none of which changes what is optimised: Mimicry updates G first in each
 * iteration and then D n_dis times (so the sequence of updates is the same except that its first G update meets an
 * untrained D); D sees real and generated examples as one concatenated batch with one power iteration per update (D
 * has no batch statistics, so its outputs are those of two calls; PyTorch's two calls run two iterations); and the
 * generator's BatchNorm moving statistics are updated once per iteration, from the batch of the generator update
 * (PyTorch also updates them from each batch generated for the critic).
 *
 * <p>Images are 8-bit values in the data, [-1, 1] in model space (x / 127.5 - 1, as Mimicry's {@code Normalize(0.5,
 * 0.5)}); {@link #sample} returns (G(z) + 1) / 2 in [0, 1]. G samples with its BatchNorm moving statistics (eval mode,
 * as Mimicry's FID and IS evaluation and the paper's Chainer code sample). Points are modelled in data coordinates.
 */
public final class SnganModel extends ModelBase implements Exportable {
  private final SnganConfig config;
  private final SnganConfig.Model m;
  private final VarScope criticScope;
  private final Generator generator;
  private final Critic critic;
  private final Placeholder<TInt64> sampleSeed;
  private final Placeholder<TInt32> sampleCount;
  private final Placeholder<TFloat32> sampleTemperature;
  private final Operand<TFloat32> sampled;

  public SnganModel(SnganConfig config, ModelOptions options) {
    super("sngan", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      VarScope generatorScope = store.root().child("generator");
      this.criticScope = store.root().child("critic");
      this.generator = m.network() == SnganConfig.Network.RESNET ? new ResNetGenerator(generatorScope, m)
          : new MlpGenerator(generatorScope, m);
      this.critic = newCritic(criticScope);
      this.sampleSeed = tf.withName("sample_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.sampleCount = tf.withName("sample_count").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      this.sampleTemperature = tf.withName("sample_temperature").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      this.sampled = samplesOf(sampleCount, sampleSeed, sampleTemperature);
      if (options.training()) {
        buildTraining();
      }
      open();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** x = G(T z) for z from the stateless seed [2], images mapped to [0, 1]: one chunk of {@link #sample}. */
  private Operand<TFloat32> samplesOf(Operand<TInt32> count, Operand<TInt64> seed, Operand<TFloat32> temperature) {
    Operand<TFloating> z = tf.math.mul(latents(count, seed), Tensors.cast(tf, temperature, dt));
    Operand<TFloating> x = generator.call(tf, z, Pass.inference());
    if (m.isImage()) {
      x = tf.clipByValue(tf.math.mul(tf.math.add(x, c(1)), c(0.5)), c(0), c(1));
    }
    return Tensors.toFloat32(tf, x);
  }

  /**
   * {@code sample}: one generator pass at the export's temperature, z keyed by [Seeds.mix(seed, 0), 0] as chunk 0 of
   * {@link #sample}. A GAN has no likelihood, so there is no {@code log_prob}.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    ExportScope e = new ExportScope(tf, batch);
    Operand<TInt64> key = GraphSeeds.key(e.tf(), e.chunkSeed(), 0L);
    Operand<TFloat32> x = samplesOf(e.n(), key, e.tf().constant((float) sampling.temperature()));
    return List.of(e.sample(x, m.dataShape(), String.format(Locale.ROOT, "one pass of the generator G(T z), "
        + "T = %s; equal to genzoo sample(n, seed) for n <= %d (the sampling batch)", sampling.temperature(),
        config.sampling().batchSize())));
  }

  private Critic newCritic(VarScope scope) {
    return m.network() == SnganConfig.Network.RESNET ? new ResNetCritic(scope, m) : new SnMlpCritic(scope, m);
  }

  /** z ~ N(0, I), [n, zDim], from a stateless seed. */
  private Operand<TFloating> latents(Operand<TInt32> n, Operand<TInt64> seed) {
    Operand<TInt32> shape = tf.stack(List.of(n, tf.constant(m.zDim())));
    return tf.random.statelessRandomNormal(shape, seed, dt);
  }

  private Operand<TInt64> offset(Operand<TInt64> seed, long k) {
    return tf.math.add(seed, tf.constant(new long[] {0, k}));
  }

  private void buildTraining() {
    TrainingConfig t = config.training();
    int nDis = config.gan().nDis();
    SnganConfig.Loss lossType = config.gan().loss();
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(Tensors.batchShape(-1, m.dataShape()))));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Output<TInt64> globalStep = store.create("global_step", Shape.scalar(), TInt64.class, Kind.STEP,
        tf.constant(0L));
    Operand<TFloating> lr = LearningRate.schedule(tf, dt, t, globalStep);
    Operand<TFloating> real = toModelScale(Tensors.cast(tf, x, dt));
    List<Operand<TFloating>> slices = new ArrayList<>();
    if (nDis == 1) {
      slices.add(real);
    } else {
      slices.addAll(tf.split(tf.constant(0), real, (long) nDis).output());
    }
    List<Var> criticVars = store.trainable("critic/");
    List<Var> generatorVars = store.trainable("generator/");
    Operand<TInt64> criticSteps = tf.math.mul(globalStep, tf.constant((long) nDis));

    List<Op> after = List.of();
    Operand<TFloating> dLossSum = c(0);
    Operand<TFloating> dRealSum = c(0);
    Operand<TFloating> dFakeSum = c(0);
    Operand<TInt32> n = null;
    for (int k = 0; k < nDis; k++) {
      Critic copy = k == 0 ? critic : newCritic(criticScope.reuseAfter(after));
      Operand<TFloating> realK = slices.get(k);
      Operand<TInt32> nk = tf.reshape(tf.slice(tf.shape(realK), tf.constant(new int[] {0}), tf.constant(new int[] {1})),
          tf.constant(new int[0]));
      if (n == null) {
        n = nk;
      }
      // Generated examples for the critic: batch statistics, as PyTorch's G in training mode; no gradient to G.
      Operand<TFloating> fake = tf.stopGradient(generator.call(tf, latents(nk, offset(seed, 1 + k)),
          Pass.training()));
      Pass pass = Pass.training();
      Operand<TFloating> logits = copy.call(tf, tf.concat(List.of(realK, fake), tf.constant(0)), pass);
      List<Output<TFloating>> halves = tf.split(tf.constant(0), logits, 2L).output();
      Operand<TFloating> dLoss = GanLoss.critic(tf, lossType, halves.get(0), halves.get(1));
      List<Operand<TFloating>> grads = gradients(dLoss, criticVars, copy.trainable(), after);
      Op apply = Optimizers.apply(store, "optimizer/critic", t.optimizer(), criticVars, grads, lr,
          tf.math.add(criticSteps, tf.constant((long) k)));
      List<Op> ops = new ArrayList<>();
      ops.add(apply);
      ops.addAll(pass.updates());
      after = List.of(tf.withControlDependencies(ops).noOp());
      dLossSum = tf.math.add(dLossSum, dLoss);
      dRealSum = tf.math.add(dRealSum, Tensors.mean(tf, halves.get(0), 0));
      dFakeSum = tf.math.add(dFakeSum, Tensors.mean(tf, halves.get(1), 0));
    }

    // The generator update against the critic as the last critic update left it.
    Critic last = newCritic(criticScope.reuseAfter(after));
    Pass generatorPass = Pass.training();
    Pass criticPass = Pass.training();
    Operand<TFloating> fake = generator.call(tf, latents(n, offset(seed, 1 + nDis)), generatorPass);
    Operand<TFloating> gLoss = GanLoss.generator(tf, lossType, last.call(tf, fake, criticPass));
    Optimizers.Step g = Optimizers.minimize(store, "optimizer/generator", t, gLoss, generatorVars, globalStep);

    List<Op> updates = new ArrayList<>(after);
    updates.add(g.apply());
    updates.addAll(generatorPass.updates());
    updates.addAll(criticPass.updates());
    Op increment = tf.withControlDependencies(updates).assignAdd(globalStep, tf.constant(1L));
    Op step = tf.withControlDependencies(List.of(increment)).noOp();

    Operand<TFloating> count = c(nDis);
    Operand<TFloating> dLossMean = tf.math.div(dLossSum, count);
    Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
    metrics.put("d_loss", Tensors.toFloat32(tf, dLossMean));
    metrics.put("g_loss", Tensors.toFloat32(tf, gLoss));
    metrics.put("d_real", Tensors.toFloat32(tf, tf.math.div(dRealSum, count)));
    metrics.put("d_fake", Tensors.toFloat32(tf, tf.math.div(dFakeSum, count)));
    metrics.put("lr", Tensors.toFloat32(tf, lr));
    useTrainGraph(new TrainGraph(x, null, seed, Tensors.toFloat32(tf, dLossMean), metrics, step, null, null,
        globalStep, nDis));
  }

  /**
   * d loss / d reads, in the order of {@code vars}, each gradient ordered after {@code after} (the previous update:
   * Adam then reads its slots as that update left them).
   */
  private List<Operand<TFloating>> gradients(Operand<TFloating> loss, List<Var> vars,
      Map<String, Output<TFloating>> reads, List<Op> after) {
    if (reads.size() != vars.size()) {
      throw new IllegalStateException("the critic copy has " + reads.size() + " trainable variables, the store "
          + vars.size());
    }
    List<Operand<?>> xs = new ArrayList<>();
    for (Var v : vars) {
      Output<TFloating> r = reads.get(v.name());
      if (r == null) {
        throw new IllegalStateException("the critic copy does not read " + v.name());
      }
      xs.add(r);
    }
    Gradients g = tf.gradients(loss, xs);
    Ops ordered = after.isEmpty() ? tf : tf.withControlDependencies(after);
    List<Operand<TFloating>> out = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      @SuppressWarnings("unchecked")
      Operand<TFloating> gi = (Operand<TFloating>) (Operand<?>) g.dy(i);
      if (gi == null) {
        throw new IllegalStateException("the critic loss does not depend on " + vars.get(i).name());
      }
      out.add(after.isEmpty() ? gi : ordered.identity(gi));
    }
    return out;
  }

  /** 8-bit images (values in [0, 256)) to [-1, 1]: floor(x) / 127.5 - 1; points unchanged. */
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

  public SnganConfig snganConfig() {
    return config;
  }

  /**
   * x = G(T z), z ~ N(0, I) with T = {@code options.temperature()} (1: the model), one generator pass per chunk;
   * images in [0, 1]. The sampler may be null or "generator"; it has no steps.
   */
  @Override
  public Samples sample(int count, SampleOptions options) {
    String name = options.sampler() == null ? "generator" : options.sampler().toLowerCase(Locale.ROOT);
    if (!name.equals("generator")) {
      throw new IllegalArgumentException("unknown SN-GAN sampler '" + options.sampler() + "'; valid: generator (one "
          + "pass of G)");
    }
    if (options.steps() != 0) {
      throw new IllegalArgumentException("--steps: a GAN samples in one generator pass, it has no sampler steps");
    }
    int chunk = options.batchSize() > 0 ? options.batchSize() : config.sampling().batchSize();
    return sampleInChunks(count, chunk, "sample", 1, (start, k, part, onStep) -> {
      long seed = Seeds.mix(options.seed(), part);
      try (TInt64 s = TInt64.vectorOf(seed, 0); TInt32 n = TInt32.scalarOf(k);
           TFloat32 temp = TFloat32.scalarOf((float) options.temperature());
           Result r = session().runner().feed(sampleSeed, s).feed(sampleCount, n).feed(sampleTemperature, temp)
               .fetch(sampled).run()) {
        double[] x = HostTensors.toDoubles(r.get(0));
        onStep.accept(1);
        return x;
      }
    });
  }

  @Override
  public boolean hasLikelihood() {
    return false;
  }

  @Override
  public String likelihoodKind() {
    return "none (a GAN's generator has no tractable density)";
  }

  @Override
  public double[] logProb(Batch batch) {
    throw new UnsupportedOperationException("a GAN has no likelihood: its generator defines samples, not a density");
  }
}
