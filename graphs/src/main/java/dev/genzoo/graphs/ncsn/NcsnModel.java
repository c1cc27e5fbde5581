package dev.genzoo.graphs.ncsn;

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
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * A noise-conditional score network (NCSN / NCSNv2) as a {@link dev.genzoo.graphs.GenerativeModel}: trained by
 * denoising score matching across the noise levels ({@link NoiseLevels#dsmLoss}), sampled by
 * {@link AnnealedLangevin}. Images live on [0, 1] in model space (x / 256 of the 8-bit value plus uniform
 * dequantisation, as the NCSN code feeds them); there is no likelihood.
 */
public final class NcsnModel extends ModelBase implements Exportable {
  private final NcsnConfig config;
  private final NcsnConfig.Model m;
  private final NoiseLevels levels;
  private final RefineNet refineNet;
  private final ConditionalMlp mlp;
  private final AnnealedLangevin langevin;
  private final Placeholder<TInt32> startCount;
  private final Placeholder<TInt64> startSeed;
  private final Operand<TFloating> start;

  public NcsnModel(NcsnConfig config, ModelOptions options) {
    super("ncsn", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      this.levels = config.levels();
      var scope = store.root().child("ncsn");
      switch (m.network()) {
        case REFINENET_V1 -> {
          this.refineNet = new RefineNet(scope, m.dataShape(), m.ngf(), RefineNet.Variant.V1_CONDITIONAL,
              levels.size());
          this.mlp = null;
        }
        case REFINENET_V2 -> {
          this.refineNet = new RefineNet(scope, m.dataShape(), m.ngf(), RefineNet.Variant.V2, 0);
          this.mlp = null;
        }
        default -> {
          this.refineNet = null;
          this.mlp = new ConditionalMlp(scope, m.dataShape()[0], m.ngf(), m.depth());
        }
      }
      this.langevin = new AnnealedLangevin(tf, dt, levels, this::score, m.dataShape());
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

  /** s_theta(x, sigma_i): V1 returns the score; V2 and the MLP return sigma_i times it. */
  private Operand<TFloating> score(Ops ops, Operand<TFloating> x, Operand<TInt32> index) {
    if (m.network() == NcsnConfig.Network.REFINENET_V1) {
      return refineNet.call(ops, x, index);
    }
    Operand<TFloating> out = refineNet != null ? refineNet.call(ops, x, null) : mlp.call(ops, x, index);
    return ops.math.div(out, levels.gather(ops, dt, index, x.shape().numDimensions()));
  }

  private void buildTraining() {
    long[] batchShape = Tensors.batchShape(-1, m.dataShape());
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape)));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    buildTraining(config.training(), x, null, seed, this::dsmLoss, null);
  }

  /**
   * Denoising score matching over the noise levels (Song and Ermon 2019, eq. 5) on a tower's rows; the levels and the
   * noise are drawn for the whole batch and sliced, so any split of the batch trains as one device does.
   */
  private TowerLoss dsmLoss(Tower tower) {
    Operand<TFloating> data = Tensors.cast(tf, tower.x(), dt);
    if (m.isImage()) {
      // 8-bit values (dequantised by the batch source or not) to [0, 1].
      data = tf.math.div(data, Tensors.constant(tf, dt, 256));
    }
    Operand<TInt64> seed = tower.seed();
    Operand<TInt32> index = tower.slice(tf, tf.random.statelessRandomUniformInt(tower.globalCount(tf),
        tf.math.add(seed, tf.constant(new long[] {0, 1})), tf.constant(0), tf.constant(levels.size())));
    Operand<TFloating> z = tower.slice(tf, tf.random.statelessRandomNormal(tower.globalShape(tf), tf.math.add(seed,
        tf.constant(new long[] {0, 2})), dt));
    Operand<TFloating> loss = Tensors.mean(tf, levels.dsmLoss(tf, this::score, data, index, z), 0);
    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    metrics.put("dsm", loss);
    return new TowerLoss(loss, metrics, Pass.training());
  }

  /**
   * RefineNets turn Grappler's remapper off: in TF 2.16 its oneDNN fusion fails on a residual sum that feeds an ELU
   * and other ops (the RCU and CRP units), logging "remapper failed ... fanout ... for missing node" on every run; the
   * results are right either way.
   */
  @Override
  protected org.tensorflow.proto.ConfigProto sessionConfig() {
    org.tensorflow.proto.ConfigProto base = super.sessionConfig();
    if (m.network() == NcsnConfig.Network.MLP) {
      return base;
    }
    var graph = base.getGraphOptions().toBuilder();
    graph.setRewriteOptions(graph.getRewriteOptions().toBuilder()
        .setRemapping(org.tensorflow.proto.RewriterConfig.Toggle.OFF));
    return base.toBuilder().setGraphOptions(graph).build();
  }

  public NcsnConfig ncsnConfig() {
    return config;
  }

  public NoiseLevels levels() {
    return levels;
  }

  /**
   * Annealed Langevin dynamics from uniform noise on [0, 1] (images, as the NCSN code) or N(0, sigma_1^2 I) (points),
   * drawn in the graph with the key [s, {@value #START_KEY}] (s = Seeds.mix(seed, chunk)); step j of the chain uses
   * [s, j]. {@code options.sampler()} may be null, "langevin" or "annealed-langevin"; {@code options.steps()}
   * overrides T.
   */
  @Override
  public Samples sample(int count, SampleOptions options) {
    String name = options.sampler() == null ? "annealed-langevin" : options.sampler().toLowerCase(Locale.ROOT);
    if (!name.equals("annealed-langevin") && !name.equals("langevin") && !name.equals("ald")) {
      throw new IllegalArgumentException("unknown NCSN sampler '" + options.sampler()
          + "'; valid: annealed-langevin (also langevin, ald)");
    }
    var s = config.sampling();
    int steps = options.steps() > 0 ? options.steps() : s.stepsPerSigma();
    int chunk = options.batchSize() > 0 ? options.batchSize() : s.batchSize();
    return sampleInChunks(count, chunk, "annealed Langevin", langevin.evaluations(steps, s.finalDenoise()),
        (start, k, part, onStep) -> {
          long seed = Seeds.mix(options.seed(), part);
          double[] x0;
          try (TInt32 kT = TInt32.scalarOf(k); TInt64 key = TInt64.vectorOf(seed, START_KEY);
               Result r = session().runner().feed(startCount, kT).feed(startSeed, key).fetch(this.start).run()) {
            x0 = HostTensors.toDoubles(r.get(0));
          }
          double[] x = langevin.sample(session(), x0, k, seed, steps, s.stepLr(), s.finalDenoise(), null, onStep);
          if (m.isImage()) {
            for (int i = 0; i < x.length; i++) {
              x[i] = Math.min(1, Math.max(0, x[i]));
            }
          }
          return x;
        });
  }


  /**
   * The counter of the stateless key that draws a chain's start: the steps use 0, 1, ... and the final denoising step
   * -1 (which draws no noise).
   */
  static final long START_KEY = -2;

  /** A chain's start: uniform on [0, 1) for images, N(0, sigma_1^2 I) for points, [count, shape...]. */
  private Operand<TFloating> startOf(Operand<TInt32> count, Operand<TInt64> key) {
    List<Operand<TInt32>> dims = List.of(tf.reshape(count, tf.constant(new int[] {1})),
        tf.constant(toInts(m.dataShape())));
    Operand<TInt32> shape = tf.concat(dims, tf.constant(0));
    if (m.isImage()) {
      return tf.random.statelessRandomUniform(shape, key, dt);
    }
    return tf.math.mul(Tensors.constant(tf, dt, levels.sigma(0)), tf.random.statelessRandomNormal(shape, key, dt));
  }

  private static int[] toInts(long[] a) {
    int[] r = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = (int) a[i];
    }
    return r;
  }

  /**
   * {@code sample}: {@link #sample}'s annealed Langevin dynamics for chunk 0 (s = Seeds.mix(seed, 0)) as one
   * {@code While} loop over the L T steps, step j at level floor(j / T) with alpha_i = eps sigma_i^2 / sigma_L^2 and
   * noise keyed [s, j] (the same ops as {@link AnnealedLangevin}), then the final denoising step. No likelihood.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    String name = sampling.sampler() == null ? "annealed-langevin" : sampling.sampler().toLowerCase(Locale.ROOT);
    if (!name.equals("annealed-langevin") && !name.equals("langevin") && !name.equals("ald")) {
      throw new IllegalArgumentException("unknown NCSN sampler '" + sampling.sampler()
          + "'; valid: annealed-langevin (also langevin, ald)");
    }
    var s = config.sampling();
    int steps = sampling.steps() > 0 ? sampling.steps() : s.stepsPerSigma();
    ExportScope e = new ExportScope(tf, batch);
    Ops o = e.tf();
    Operand<TInt64> chunk = e.chunkSeed();
    Operand<TFloating> x0 = startOf(e.n(), GraphSeeds.key(o, chunk, START_KEY));
    float[] alphas = new float[levels.size()];
    double last = levels.last();
    for (int i = 0; i < alphas.length; i++) {
      alphas[i] = (float) (s.stepLr() * levels.sigma(i) * levels.sigma(i) / (last * last));
    }
    GraphLoop loop = new GraphLoop(o, "annealed_langevin");
    Placeholder<TFloating> x = loop.carry("x", dt, Shape.of(Tensors.batchShape(-1, m.dataShape())));
    Placeholder<TInt64> seed = loop.invariant("seed", TInt64.class, Shape.scalar());
    Ops b = o.withSubScope("step");
    Operand<TInt32> level = b.math.floorDiv(loop.counter(), b.constant(steps));
    Operand<TInt32> idx = b.fill(b.stridedSlice(b.shape(x), org.tensorflow.ndarray.index.Indices.slice(0, 1)), level);
    Operand<TFloating> grad = score(b, x, idx);
    Operand<TFloating> a = b.dtypes.cast(b.gather(b.constant(alphas), level, b.constant(0)), dt);
    Operand<TInt64> key = GraphSeeds.key(b, seed, b.dtypes.cast(loop.counter(), TInt64.class));
    Operand<TFloating> z = b.random.statelessRandomNormal(b.shape(x), key, dt);
    Operand<TFloating> next = b.math.add(b.math.add(x, b.math.mul(a, grad)),
        b.math.mul(b.math.sqrt(b.math.mul(a, Tensors.constant(b, dt, 2))), z));
    @SuppressWarnings("unchecked")
    Operand<TFloating> xL = (Operand<TFloating>) (Operand<?>) loop.finish(levels.size() * steps, List.of(next),
        List.of(x0), List.of(chunk)).get(0);
    if (s.finalDenoise()) {
      Operand<TInt32> lastIdx = o.fill(o.stridedSlice(o.shape(xL), org.tensorflow.ndarray.index.Indices.slice(0, 1)),
          o.constant(levels.size() - 1));
      xL = o.math.add(xL, o.math.mul(Tensors.constant(o, dt, last * last), score(o, xL, lastIdx)));
    }
    Operand<TFloat32> out = Tensors.toFloat32(o, xL);
    if (m.isImage()) {
      out = o.clipByValue(out, o.constant(0f), o.constant(1f));
    }
    return List.of(e.sample(out, m.dataShape(), String.format(Locale.ROOT, "annealed Langevin dynamics, %d levels x "
        + "T = %d steps (eps = %s)%s in one While loop; equal to genzoo sample(n, seed) with those steps for n <= %d",
        levels.size(), steps, s.stepLr(), s.finalDenoise() ? " and the final denoising step" : "", s.batchSize())));
  }

  @Override
  public boolean hasLikelihood() {
    return false;
  }

  @Override
  public double[] logProb(Batch batch) {
    throw new UnsupportedOperationException("a score network has no likelihood: it models grad log p, not p");
  }
}
