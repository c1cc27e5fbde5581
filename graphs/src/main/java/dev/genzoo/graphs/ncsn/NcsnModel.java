package dev.genzoo.graphs.ncsn;

import dev.genzoo.data.Batch;
import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.ConditionalMlp;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
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
public final class NcsnModel extends ModelBase {
  private final NcsnConfig config;
  private final NcsnConfig.Model m;
  private final NoiseLevels levels;
  private final RefineNet refineNet;
  private final ConditionalMlp mlp;
  private final AnnealedLangevin langevin;

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
    long[] shape = m.dataShape();
    long[] batchShape = Tensors.batchShape(-1, shape);
    Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape)));
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Operand<TFloating> data = Tensors.cast(tf, x, dt);
    if (m.isImage()) {
      // 8-bit values (dequantised by the batch source or not) to [0, 1].
      data = tf.math.div(data, Tensors.constant(tf, dt, 256));
    }
    Operand<TInt32> n = tf.stridedSlice(tf.shape(x), org.tensorflow.ndarray.index.Indices.slice(0, 1));
    Operand<TInt32> index = tf.random.statelessRandomUniformInt(n, tf.math.add(seed, tf.constant(new long[] {0, 1})),
        tf.constant(0), tf.constant(levels.size()));
    Operand<TFloating> z = tf.random.statelessRandomNormal(tf.shape(x), tf.math.add(seed,
        tf.constant(new long[] {0, 2})), dt);
    Operand<TFloating> loss = Tensors.mean(tf, levels.dsmLoss(tf, this::score, data, index, z), 0);
    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    metrics.put("dsm", loss);
    buildTraining(config.training(), new Objective(x, null, seed, loss, metrics, Pass.training(), null));
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
   * Annealed Langevin dynamics from uniform noise on [0, 1] (images, as the NCSN code) or N(0, sigma_1^2 I) (points).
   * {@code options.sampler()} may be null, "langevin" or "annealed-langevin"; {@code options.steps()} overrides T.
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
    long per = m.dims();
    return sampleInChunks(count, chunk, "annealed Langevin", langevin.evaluations(steps, s.finalDenoise()),
        (start, k, part, onStep) -> {
          long seed = Seeds.mix(options.seed(), part);
          SplittableRandom rng = new SplittableRandom(seed);
          double[] x0 = new double[Math.toIntExact(k * per)];
          for (int i = 0; i < x0.length; i++) {
            x0[i] = m.isImage() ? rng.nextDouble() : levels.sigma(0) * rng.nextGaussian();
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


  @Override
  public boolean hasLikelihood() {
    return false;
  }

  @Override
  public double[] logProb(Batch batch) {
    throw new UnsupportedOperationException("a score network has no likelihood: it models grad log p, not p");
  }
}
