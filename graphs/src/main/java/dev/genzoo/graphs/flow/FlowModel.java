package dev.genzoo.graphs.flow;

import dev.genzoo.data.Batch;
import dev.genzoo.graphs.Exportable;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.export.ExportScope;
import dev.genzoo.graphs.export.GraphSeeds;
import dev.genzoo.graphs.flow.FlowConfig.Architecture;
import dev.genzoo.graphs.flow.FlowConfig.Preprocess;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.TrainGraph;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * A normalising flow as a {@link dev.genzoo.graphs.GenerativeModel}: exact log-likelihood (change of variables,
 * log p(x) = log p(z) + log|det dz/dx|), bits/dim with the 8-bit dequantisation accounting of Theis et al. 2016
 * (log P(x) >= E_u log p((x + u) / 256) - D log 256), and sampling by the inverse pass from the priors at a temperature.
 */
public final class FlowModel extends ModelBase implements Exportable {
  private final FlowConfig config;
  private final FlowConfig.Model m;
  private final FlowNet net;
  private final PlanarFlow planar;
  private final TargetDensity target;

  private final Placeholder<TFloat32> x;
  private final Operand<TFloating> y;
  private final Operand<TFloating> logDetPre;
  private final FlowNet.Forward forward;
  private final Operand<TFloat32> logProb;
  private final Placeholder<TInt32> n;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TFloat32> temperature;
  private final Operand<TFloat32> samples;
  private Placeholder<TFloating> latentIn;
  private Operand<TFloating> inverseOut;
  private Operand<TFloating> latentFlat;
  private Operand<TFloating> logDensityY;

  public FlowModel(FlowConfig config, ModelOptions options) {
    super("flow", config, config.model().dataShape(), options);
    try {
      this.config = config;
      this.m = config.model();
      long[] shape = m.dataShape();
      long[] batchShape = Tensors.batchShape(-1, shape);
      this.x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape)));
      this.n = tf.withName("n").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      this.seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      this.temperature = tf.withName("temperature").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      var scope = store.root().child("flow");
      Operand<TFloating> xd = Tensors.cast(tf, x, dt);
      if (m.architecture() == Architecture.PLANAR) {
        this.net = null;
        this.planar = new PlanarFlow(scope, (int) shape[0], m.steps());
        this.target = TargetDensity.byName(m.target());
        if (target.dims() != shape[0]) {
          throw new IllegalArgumentException("model.target " + m.target() + " is " + target.dims()
              + "-dimensional but model.dataShape is " + shape[0]);
        }
        this.y = xd;
        this.logDetPre = null;
        this.forward = null;
        this.logProb = null;
        this.samples = Tensors.toFloat32(tf, planar.forward(tf, baseNoise(shape, 0))[0]);
      } else {
        this.planar = null;
        this.target = null;
        this.net = new FlowNet(scope, m);
        Operand<TFloating>[] pre = preprocess(xd);
        this.y = pre[0];
        this.logDetPre = pre[1];
        this.forward = net.forward(tf, Pass.inference(), y);
        this.logProb = Tensors.toFloat32(tf, total(forward));
        this.samples = Tensors.toFloat32(tf, postprocess(net.reverse(tf, this::sampleLatent)));
      }
      if (options.training()) {
        buildTraining();
      }
      open();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** log p(x) = log p(z) + log|det| of the flow + log|det| of the preprocessing. */
  private Operand<TFloating> total(FlowNet.Forward f) {
    return total(f, logDetPre);
  }

  private Operand<TFloating> total(FlowNet.Forward f, Operand<TFloating> logDetPreprocess) {
    return tf.math.add(tf.math.add(f.logPrior(), f.logDet()), logDetPreprocess);
  }

  /**
   * Images on the 8-bit scale into model space, with the log|det| of the map per example. SHIFT: y = x/256 - 1/2,
   * log|det| = -D log 256. LOGIT: p = a + (1 - 2a) x/256, y = log p - log(1 - p), log|det| =
   * sum(log(1 - 2a) - log 256 - log p - log(1 - p)). Points pass unchanged.
   */
  private Operand<TFloating>[] preprocess(Operand<TFloating> xd) {
    @SuppressWarnings("unchecked")
    Operand<TFloating>[] out = new Operand[2];
    Operand<TFloating> zeros = tf.math.mul(Tensors.sumPerExample(tf, xd, xd.shape().numDimensions()), c(0));
    if (!m.isImage()) {
      out[0] = xd;
      out[1] = zeros;
      return out;
    }
    double dims = m.dims();
    Operand<TFloating> u = tf.math.div(xd, c(256));
    if (m.preprocess() == Preprocess.SHIFT) {
      out[0] = tf.math.sub(u, c(0.5));
      out[1] = tf.math.add(zeros, c(-dims * Math.log(256)));
    } else {
      double a = m.logitAlpha();
      Operand<TFloating> p = tf.math.add(c(a), tf.math.mul(c(1 - 2 * a), u));
      Operand<TFloating> logP = tf.math.log(p);
      Operand<TFloating> log1mP = tf.math.log(tf.math.sub(c(1), p));
      out[0] = tf.math.sub(logP, log1mP);
      Operand<TFloating> perDim = tf.math.sub(tf.math.sub(c(Math.log(1 - 2 * a) - Math.log(256)), logP), log1mP);
      out[1] = Tensors.sumPerExample(tf, perDim, 4);
    }
    return out;
  }

  /** Model space back to images in [0, 1]. */
  private Operand<TFloating> postprocess(Operand<TFloating> yy) {
    if (!m.isImage()) {
      return yy;
    }
    Operand<TFloating> u;
    if (m.preprocess() == Preprocess.SHIFT) {
      u = tf.math.add(yy, c(0.5));
    } else {
      double a = m.logitAlpha();
      u = tf.math.div(tf.math.sub(tf.math.sigmoid(yy), c(a)), c(1 - 2 * a));
    }
    return tf.clipByValue(u, c(0), c(1));
  }

  private Operand<TFloating> c(double v) {
    return Tensors.constant(tf, dt, v);
  }

  /** Temperature-scaled noise of shape [n, shape...] from the sampling seed; {@code salt} separates the draws. */
  private Operand<TFloating> baseNoise(long[] shape, int salt) {
    return baseNoise(shape, salt, n, seed, temperature);
  }

  /** {@link #baseNoise(long[], int)} for a given count, seed [2] and temperature. */
  private Operand<TFloating> baseNoise(long[] shape, int salt, Operand<TInt32> count, Operand<TInt64> key,
      Operand<TFloat32> temp) {
    List<Operand<TInt32>> dims = new ArrayList<>();
    dims.add(tf.reshape(count, tf.constant(new int[] {1})));
    dims.add(tf.constant(toInts(shape)));
    Operand<TInt32> full = tf.concat(dims, tf.constant(0));
    Operand<TInt64> s = tf.math.add(key, tf.constant(new long[] {0, 7919L * (salt + 1)}));
    Operand<TFloating> eps = tf.random.statelessRandomNormal(full, s, dt);
    return tf.math.mul(eps, Tensors.cast(tf, temp, dt));
  }

  private Operand<TFloating> sampleLatent(org.tensorflow.op.Ops ops, int index, long[] shape,
      Operand<TFloating> mean, Operand<TFloating> logScale) {
    return latent(baseNoise(shape, index), mean, logScale);
  }

  private Operand<TFloating> latent(Operand<TFloating> eps, Operand<TFloating> mean, Operand<TFloating> logScale) {
    if (mean == null) {
      return eps;
    }
    return tf.math.add(mean, tf.math.mul(tf.math.exp(logScale), eps));
  }

  /** The samples of one chunk (seed [2], count, temperature) as graph ops: what {@link #sample} fetches. */
  private Operand<TFloat32> samplesOf(Operand<TInt32> count, Operand<TInt64> key, Operand<TFloat32> temp) {
    if (planar != null) {
      return Tensors.toFloat32(tf, planar.forward(tf, baseNoise(m.dataShape(), 0, count, key, temp))[0]);
    }
    return Tensors.toFloat32(tf, postprocess(net.reverse(tf, (ops, index, shape, mean, logScale) ->
        latent(baseNoise(shape, index, count, key, temp), mean, logScale))));
  }

  /**
   * {@code sample}: chunk 0 of {@link #sample}, whose seed is [seed, 0], by the inverse pass at the export's
   * temperature; {@code log_prob} (coupling flows): the exact log-likelihood of {@link #logProb}.
   */
  @Override
  public List<ExportedSignature> exportSignatures(int batch, SampleOptions sampling) {
    ExportScope e = new ExportScope(tf, batch);
    Operand<TInt64> key = GraphSeeds.key(e.tf(), e.seed(), 0L);
    Operand<TFloat32> x = samplesOf(e.n(), key, e.tf().constant((float) sampling.temperature()));
    List<ExportedSignature> out = new ArrayList<>();
    out.add(e.sample(x, m.dataShape(), String.format(java.util.Locale.ROOT,
        "%s of the flow at temperature %s; equal to genzoo sample(n, seed) for n <= %d (the sampling batch)",
        planar != null ? "the planar flow's push-forward of N(0, I)" : "the inverse pass from the priors",
        sampling.temperature(), config.sampling().batchSize())));
    if (planar == null) {
      Operand<TFloat32> in = e.examples("x", m.dataShape());
      Operand<TFloating>[] pre = preprocess(Tensors.cast(tf, in, dt));
      FlowNet.Forward f = net.forward(tf, Pass.inference(), pre[0]);
      Operand<TFloat32> lp = Tensors.toFloat32(tf, tf.math.add(tf.math.add(f.logPrior(), f.logDet()), pre[1]));
      out.add(e.perExample("log_prob", "x", in, "log_prob", lp, "exact log-likelihood in nats per example "
          + (m.isImage() ? "of the 8-bit image (x on the 8-bit scale, dequantised)" : "(log-density of the point)")));
    }
    return out;
  }

  private static int[] toInts(long[] a) {
    int[] r = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = (int) a[i];
    }
    return r;
  }

  private void buildTraining() {
    var t = config.training();
    Op dataInit = null;
    if (planar == null && t.initBatchSize() > 0) {
      Pass init = Pass.dataInit();
      net.forward(tf, init, y);
      dataInit = TrainGraph.dataInitOp(tf, init);
    }
    buildTraining(t, x, null, seed, this::towerLoss, dataInit);
  }

  /**
   * A tower's loss: the negative log-likelihood of its rows (bits/dim for images), or for a planar flow the reverse
   * KL to the target estimated with base samples drawn for the whole batch and sliced.
   */
  private TowerLoss towerLoss(Tower tower) {
    var t = config.training();
    Map<String, Operand<TFloating>> metrics = new LinkedHashMap<>();
    Pass pass = Pass.training();
    Operand<TFloating> loss;
    if (planar != null) {
      // Reverse KL to the target: E_q[log q(x) - log p*(x)], estimated with a batch of base samples.
      long[] shape = m.dataShape();
      List<Operand<TInt32>> dims = List.of(tf.constant(new int[] {t.batchSize()}), tf.constant(toInts(shape)));
      Operand<TFloating> z0 = tower.slice(tf, tf.random.statelessRandomNormal(tf.concat(dims, tf.constant(0)),
          tower.seed(), dt));
      Operand<TFloating>[] zl = planar.forward(tf, z0);
      Operand<TFloating> logQ = tf.math.sub(
          Tensors.sum(tf, Tensors.standardNormalLogDensity(tf, dt, z0), 1), zl[1]);
      Operand<TFloating> logP = target.logDensity(tf, dt, zl[0]);
      loss = Tensors.mean(tf, tf.math.sub(logQ, logP), 0);
      metrics.put("reverse_kl", loss);
    } else {
      Operand<TFloating>[] pre = preprocess(Tensors.cast(tf, tower.x(), dt));
      FlowNet.Forward f = net.forward(tf, pass, pre[0]);
      Operand<TFloating> nll = tf.math.neg(total(f, pre[1]));
      if (m.isImage()) {
        loss = Tensors.mean(tf, tf.math.div(nll, c(m.dims() * Math.log(2))), 0);
        metrics.put("bpd", loss);
      } else {
        loss = Tensors.mean(tf, nll, 0);
        metrics.put("nll", loss);
      }
    }
    return new TowerLoss(loss, metrics, pass);
  }

  public FlowConfig flowConfig() {
    return config;
  }

  @Override
  public Samples sample(int count, SampleOptions options) {
    int chunk = options.batchSize() > 0 ? options.batchSize() : config.sampling().batchSize();
    return sampleInChunks(count, chunk, "sample", 1, (start, k, part, onStep) -> {
      try (TInt32 nT = TInt32.scalarOf(k);
           TInt64 sT = TInt64.vectorOf(options.seed(), part);
           TFloat32 tT = TFloat32.scalarOf((float) options.temperature());
           Result r = session().runner().feed(n, nT).feed(seed, sT).feed(temperature, tT).fetch(samples).run()) {
        return HostTensors.toDoubles(r.get(0));
      }
    });
  }


  @Override
  public boolean hasLikelihood() {
    return planar == null;
  }

  @Override
  public double[] logProb(Batch batch) {
    if (planar != null) {
      throw new UnsupportedOperationException("a planar flow has no inverse, so no density at arbitrary points; it "
          + "gives log q only for its own samples");
    }
    checkShape(batch.exampleShape());
    try (TFloat32 xt = HostTensors.float32(batch.x(), batch.shape());
         Result r = session().runner().feed(x, xt).fetch(logProb).run()) {
      return HostTensors.toDoubles((TFloat32) r.get(0));
    }
  }

  private void checkShape(long[] exampleShape) {
    if (!java.util.Arrays.equals(exampleShape, m.dataShape())) {
      throw new IllegalArgumentException("data of shape " + java.util.Arrays.toString(exampleShape)
          + " given to a flow for " + java.util.Arrays.toString(m.dataShape()));
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Model-space access for numerical tests: y is the input after preprocessing, latents are flattened and joined.

  /** Number of latent dimensions (= data dimensions). */
  public int latentDims() {
    return Math.toIntExact(m.dims());
  }

  /**
   * The forward pass on model-space inputs y [N, D] (flattened): returns {latents [N * D], log|det| [N]} of the flow
   * alone (without preprocessing), in the model dtype.
   */
  public double[][] forwardModelSpace(double[] yFlat, int count) {
    requireCouplingFlow();
    ensureTestOps();
    long[] shape = batchShape(count);
    try (Tensor yt = HostTensors.of(dt, yFlat, shape);
         Result r = session().runner().feed(y, yt).fetch(latentFlat).fetch(forward.logDet()).run()) {
      return new double[][] {HostTensors.toDoubles(r.get(0)), HostTensors.toDoubles(r.get(1))};
    }
  }

  /** The inverse pass from flattened latents to model-space y (flattened). */
  public double[] inverseModelSpace(double[] latents, int count) {
    requireCouplingFlow();
    ensureTestOps();
    try (Tensor zt = HostTensors.of(dt, latents, new long[] {count, m.dims()});
         Result r = session().runner().feed(latentIn, zt).fetch(inverseOut).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /** log p(y) in model space (prior + flow log|det|, no preprocessing), for density tests of 2-D flows. */
  public double[] logDensityModelSpace(double[] yFlat, int count) {
    requireCouplingFlow();
    ensureTestOps();
    try (Tensor yt = HostTensors.of(dt, yFlat, batchShape(count));
         Result r = session().runner().feed(y, yt).fetch(logDensityY).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /**
   * A planar flow's generative map on base points z0 [N, D] (flattened): returns {z_K [N * D], sum of log|det| [N]}.
   */
  public double[][] pushForward(double[] z0Flat, int count) {
    if (planar == null) {
      throw new UnsupportedOperationException("pushForward is the planar flow's map; coupling flows have "
          + "forwardModelSpace and inverseModelSpace");
    }
    synchronized (this) {
      if (planarIn == null) {
        planarIn = tf.placeholder(dt, Placeholder.shape(Shape.of(-1, m.dims())));
        planarOut = planar.forward(tf, planarIn);
      }
    }
    try (Tensor zt = HostTensors.of(dt, z0Flat, new long[] {count, m.dims()});
         Result r = session().runner().feed(planarIn, zt).fetch(planarOut[0]).fetch(planarOut[1]).run()) {
      return new double[][] {HostTensors.toDoubles(r.get(0)), HostTensors.toDoubles(r.get(1))};
    }
  }

  private Placeholder<TFloating> planarIn;
  private Operand<TFloating>[] planarOut;

  private long[] batchShape(int count) {
    return Tensors.batchShape(count, m.dataShape());
  }

  private void requireCouplingFlow() {
    if (net == null) {
      throw new UnsupportedOperationException("planar flows have no inverse");
    }
  }

  /** Builds the flattened-latent ops on first use (they extend the graph of the open session). */
  private synchronized void ensureTestOps() {
    if (latentFlat != null) {
      return;
    }
    List<Operand<TFloating>> flat = new ArrayList<>();
    for (Operand<TFloating> z : forward.latents()) {
      flat.add(tf.reshape(z, tf.constant(new long[] {-1, elements(z.shape())})));
    }
    latentFlat = flat.size() == 1 ? flat.get(0) : tf.concat(flat, tf.constant(1));
    logDensityY = tf.math.add(forward.logPrior(), forward.logDet());
    latentIn = tf.placeholder(dt, Placeholder.shape(Shape.of(-1, m.dims())));
    List<long[]> shapes = net.latentShapes();
    long[] offsets = new long[shapes.size() + 1];
    for (int i = 0; i < shapes.size(); i++) {
      long size = 1;
      for (long s : shapes.get(i)) {
        size *= s;
      }
      offsets[i + 1] = offsets[i] + size;
    }
    inverseOut = net.reverse(tf, (ops, index, shape, mean, logs) -> {
      Operand<TFloating> part = tf.stridedSlice(latentIn, org.tensorflow.ndarray.index.Indices.all(),
          org.tensorflow.ndarray.index.Indices.slice(offsets[index], offsets[index + 1]));
      long[] full = Tensors.batchShape(-1, shape);
      return tf.reshape(part, tf.constant(full));
    });
  }

  private static long elements(Shape s) {
    long size = 1;
    for (int i = 1; i < s.numDimensions(); i++) {
      size *= s.get(i);
    }
    return size;
  }
}
