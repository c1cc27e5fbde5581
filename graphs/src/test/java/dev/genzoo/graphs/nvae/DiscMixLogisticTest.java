package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Npz;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The discretised mixture of logistics against the math and a reference: log P equals the values of a float64 numpy
 * implementation of the PixelCNN++/NVAE formulas with the k = 255 edge fix (dmol_fixtures.npz, made by
 * dmol_make_fixtures.py beside it), on random parameters and images that include k = 0, 1, 254 and 255; the pmf
 * sums to 1 over all 256^3 colours of a pixel (C = 3, M = 10) and over the 256 grey values (C = 1); sample() and
 * logProb() agree (the histogram of samples of a 1-channel pixel against exp(logProb) by a chi-square test); samples
 * of a mixture concentrated on one sharp component land on its chained mean; the gradient w.r.t. the parameters
 * equals central differences. Also the Bernoulli decoder of binarised images.
 */
class DiscMixLogisticTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F32 = (Class<TFloating>) (Class<?>) TFloat32.class;

  // ------------------------------------------------------------------------------------------ plumbing

  private static Map<String, NpyArray> fixtures() throws Exception {
    return Npz.readAll(Path.of(DiscMixLogisticTest.class.getResource("dmol_fixtures.npz").toURI()));
  }

  private static double[] run(Session s, Operand<TFloating> fetch) {
    try (Result r = s.runner().fetch(fetch).run()) {
      return HostTensors.toDoubles((Tensor) r.get(0));
    }
  }

  /**
   * Random raw parameters [pixels, M + 3 C M]: logits N(0, 2^2), means U(-1, 1), log-scales U(lo, hi), coeffs N(0, 1).
   */
  private static double[] randomParams(SplittableRandom rng, int pixels, int m, int c, double lo, double hi) {
    int p = (int) DiscMixLogistic.paramChannels(m, c);
    double[] out = new double[pixels * p];
    for (int px = 0; px < pixels; px++) {
      for (int j = 0; j < m; j++) {
        out[px * p + j] = 2 * rng.nextGaussian();
      }
      for (int ch = 0; ch < c; ch++) {
        int base = px * p + m + 3 * m * ch;
        for (int j = 0; j < m; j++) {
          out[base + j] = rng.nextDouble(-1, 1);
          out[base + m + j] = rng.nextDouble(lo, hi);
          out[base + 2 * m + j] = rng.nextGaussian();
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------ reference values

  @Test
  void logProbAndMeanMatchTheNumpyReference() throws Exception {
    Map<String, NpyArray> fx = fixtures();
    for (String name : List.of("c3m10", "c1m10", "c1m1")) {
      double[] meta = fx.get(name + "/meta").asDoubles();
      int m = (int) meta[0];
      int c = (int) meta[1];
      NpyArray params = fx.get(name + "/params");
      NpyArray k = fx.get(name + "/k");
      double[] expected = fx.get(name + "/logprob").asDoubles();
      double[] expectedMean = fx.get(name + "/mean").asDoubles();
      // the fixture really contains the edges and k = 254 in every channel
      double[] ks = k.asDoubles();
      for (double edge : new double[] {0, 254, 255}) {
        assertTrue(java.util.Arrays.stream(ks).anyMatch(v -> v == edge), name + " has no k = " + edge);
      }
      for (Class<TFloating> dt : List.of(F64, F32)) {
        try (Graph g = new Graph(); Session s = new Session(g)) {
          Ops tf = Ops.create(g);
          DiscMixLogistic d = new DiscMixLogistic(tf, dt, Tensors.constant(tf, dt, params.asDoubles(),
              Shape.of(params.shape())), m, c);
          double[] lp = run(s, d.logProb(tf, Tensors.constant(tf, dt, ks, Shape.of(k.shape()))));
          double[] mean = run(s, d.mean(tf));
          assertEquals(expected.length, lp.length);
          for (int i = 0; i < lp.length; i++) {
            // float32: the bin masses are differences of sigmoids near 1 (relative error ~1e-7 / mass)
            double tol = (dt == F64 ? 1e-11 : 2e-4) * Math.max(1, Math.abs(expected[i]));
            assertEquals(expected[i], lp[i], tol, name + " " + dt.getSimpleName() + " logProb[" + i + "]");
          }
          for (int i = 0; i < mean.length; i++) {
            assertEquals(expectedMean[i], mean[i], dt == F64 ? 1e-12 : 1e-6, name + " mean[" + i + "]");
          }
        }
      }
    }
  }

  /** One sharp logistic at the top of the range: k = 254 gets its bin mass only, k = 255 the whole upper tail. */
  @Test
  void upperEdgeIsKEquals255Only() {
    // M = 1, C = 1: logit, mean, log-scale, coeff; mean at 0.99 on [-1, 1] (between k = 254 and 255), scale 0.01
    double mu = 0.99;
    double s = 0.01;
    double[] params = {0.0, mu, Math.log(s), 0.0};
    try (Graph g = new Graph(); Session sess = new Session(g)) {
      Ops tf = Ops.create(g);
      DiscMixLogistic d = new DiscMixLogistic(tf, F64, Tensors.constant(tf, F64, params, Shape.of(1, 1, 1, 4)), 1, 1);
      double[] lp = run(sess, d.logProb(tf, Tensors.constant(tf, F64, new double[] {253, 254, 255, 0},
          Shape.of(4, 1, 1, 1))));
      for (int i = 0; i < 2; i++) {
        double x = 2 * (253 + i) / 255.0 - 1;
        double mass = sigmoid((x + 1 / 255.0 - mu) / s) - sigmoid((x - 1 / 255.0 - mu) / s);
        assertEquals(Math.log(mass), lp[i], 1e-12, "k = " + (253 + i));
      }
      assertEquals(Math.log(1 - sigmoid((2 * 255 / 255.0 - 1 - 1 / 255.0 - mu) / s)), lp[2], 1e-12, "k = 255");
      assertEquals(Math.log(sigmoid((-1 + 1 / 255.0 - mu) / s)), lp[3], 1e-9, "k = 0");
    }
  }

  private static double sigmoid(double a) {
    return 1 / (1 + Math.exp(-a));
  }

  // ------------------------------------------------------------------------------------------ normalisation

  @Test
  void rgbPmfSumsToOneOverAll256CubedColours() {
    // One pixel (about 13 s of CPU for its 16.7M colours x 10 components), float32: twice as fast as float64 here,
    // its rounding moves the sum by about 3e-6. The grey test covers more pixels.
    int pixels = 1;
    Class<TFloating> dt = F32;
    int m = 10;
    int p = (int) DiscMixLogistic.paramChannels(m, 3);
    double[] params = randomParams(new SplittableRandom(5), pixels, m, 3, -5, 0);
    // three very sharp components (log-scales below the clamp at -7) beside broad ones
    for (int ch = 0; ch < 3; ch++) {
      for (int j = 0; j < 3; j++) {
        params[m + 3 * m * ch + m + j] = -9;
      }
    }
    double[] total = new double[pixels];
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      DiscMixLogistic d = new DiscMixLogistic(tf, dt, Tensors.constant(tf, dt, params, Shape.of(1, 1, pixels, p)), m,
          3);
      // k [256 (x1), 256 (x2), pixels, 3] for one x0 fed per run: 256 runs per 256^3 colours
      Placeholder<TFloat32> x0 = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Operand<TFloating> full = tf.fill(tf.constant(new int[] {256, 256, pixels, 1}), Tensors.constant(tf, dt, 0));
      Operand<TFloating> k0 = tf.math.add(full, tf.dtypes.cast(x0, dt));
      Operand<TFloating> k1 = tf.math.add(full, tf.reshape(tf.dtypes.cast(tf.range(tf.constant(0), tf.constant(256),
          tf.constant(1)), dt), tf.constant(new int[] {256, 1, 1, 1})));
      Operand<TFloating> k2 = tf.math.add(full, tf.reshape(tf.dtypes.cast(tf.range(tf.constant(0), tf.constant(256),
          tf.constant(1)), dt), tf.constant(new int[] {1, 256, 1, 1})));
      Operand<TFloating> k = tf.concat(List.of(k0, k1, k2), tf.constant(-1));
      Operand<TFloating> mass = Tensors.sum(tf, tf.math.exp(d.logProb(tf, k)), 0, 1);
      for (int v = 0; v < 256; v++) {
        try (TFloat32 x0v = TFloat32.scalarOf(v); Result r = s.runner().feed(x0, x0v).fetch(mass).run()) {
          double[] part = HostTensors.toDoubles((Tensor) r.get(0));
          for (int px = 0; px < pixels; px++) {
            total[px] += part[px];
          }
        }
      }
    }
    for (int px = 0; px < pixels; px++) {
      assertEquals(1.0, total[px], 1e-4, "sum over 256^3 colours, pixel " + px);
    }
  }

  @Test
  void greyPmfSumsToOneOver256Values() {
    int pixels = 6;
    for (int m : new int[] {1, 10}) {
      int p = (int) DiscMixLogistic.paramChannels(m, 1);
      SplittableRandom rng = new SplittableRandom(17 + m);
      double[] params = new double[pixels * p];
      // pixels 0-1: broad, 2-3: moderate, 4-5: sharper than the clamp
      double[][] ranges = {{-1, 1}, {-1, 1}, {-4, -2}, {-4, -2}, {-10, -6}, {-10, -6}};
      for (int px = 0; px < pixels; px++) {
        double[] one = randomParams(rng, 1, m, 1, ranges[px][0], ranges[px][1]);
        System.arraycopy(one, 0, params, px * p, p);
      }
      for (Class<TFloating> dt : List.of(F64, F32)) {
        try (Graph g = new Graph(); Session s = new Session(g)) {
          Ops tf = Ops.create(g);
          DiscMixLogistic d = new DiscMixLogistic(tf, dt, Tensors.constant(tf, dt, params, Shape.of(1, 1, pixels, p)),
              m, 1);
          Operand<TFloating> k = tf.math.add(tf.fill(tf.constant(new int[] {256, 1, pixels, 1}),
              Tensors.constant(tf, dt, 0)), tf.reshape(tf.dtypes.cast(tf.range(tf.constant(0), tf.constant(256),
                  tf.constant(1)), dt), tf.constant(new int[] {256, 1, 1, 1})));
          double[] lp = run(s, d.logProb(tf, k));
          for (int px = 0; px < pixels; px++) {
            double sum = 0;
            for (int v = 0; v < 256; v++) {
              sum += Math.exp(lp[v * pixels + px]);
            }
            assertEquals(1.0, sum, dt == F64 ? 1e-4 : 1e-3, "M = " + m + " " + dt.getSimpleName() + " pixel " + px);
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------ sampling

  /** Histogram of rounded 1-channel samples against exp(logProb) on the 256 values: a chi-square test. */
  @Test
  void greySamplesFollowTheirPmf() {
    int m = 3;
    // logits, means (one near the top: a large upper tail at k = 255, one near the bottom), log-scales, coeffs
    double[] params = {0.2, -0.5, 0.4, /* means */ -0.85, 0.1, 0.9, /* log-scales */ -2.0, -3.0, -1.5,
        /* coeffs (unused for C = 1) */ 0.3, -0.2, 0.1};
    int n = 200_000;
    for (Class<TFloating> dt : List.of(F64, F32)) {
      double[] pmf;
      double[] samples;
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Operand<TFloating> one = Tensors.constant(tf, dt, params, Shape.of(1, 1, 1, 4 * m));
        DiscMixLogistic single = new DiscMixLogistic(tf, dt, one, m, 1);
        Operand<TFloating> values = tf.reshape(tf.dtypes.cast(tf.range(tf.constant(0), tf.constant(256),
            tf.constant(1)), dt), tf.constant(new int[] {256, 1, 1, 1}));
        pmf = run(s, tf.math.exp(single.logProb(tf, values)));
        Operand<TFloating> many = tf.broadcastTo(one, tf.constant(new int[] {n, 1, 1, 4 * m}));
        DiscMixLogistic batch = new DiscMixLogistic(tf, dt, many, m, 1);
        samples = run(s, batch.sample(tf, tf.constant(new long[] {3, 9}), 1.0));
      }
      double[] counts = new double[256];
      for (double v : samples) {
        assertTrue(v >= 0 && v <= 1, "sample outside [0, 1]: " + v);
        counts[(int) Math.round(v * 255)]++;
      }
      // chi-square over the values with expected count >= 5, the rest pooled into one cell
      double chi2 = 0;
      int cells = 0;
      double pooledExpected = 0;
      double pooledObserved = 0;
      double pmfTotal = 0;
      for (int v = 0; v < 256; v++) {
        double e = n * pmf[v];
        pmfTotal += pmf[v];
        if (e >= 5) {
          chi2 += (counts[v] - e) * (counts[v] - e) / e;
          cells++;
        } else {
          pooledExpected += e;
          pooledObserved += counts[v];
        }
      }
      if (pooledExpected >= 5) {
        chi2 += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
        cells++;
      }
      int df = cells - 1;
      // the edge bins carry real mass in this model (the test would see a wrong edge rule)
      assertTrue(pmf[255] > 0.05 && pmf[0] > 0.01, "edge masses " + pmf[0] + ", " + pmf[255]);
      assertEquals(1.0, pmfTotal, dt == F64 ? 1e-6 : 1e-4);
      // chi-square(df) has mean df and sd sqrt(2 df); df + 5 sd is beyond the 0.9999 quantile for df ~ 200
      double limit = df + 5 * Math.sqrt(2.0 * df);
      assertTrue(chi2 < limit, dt.getSimpleName() + ": chi2 = " + chi2 + " on " + df + " df (limit " + limit + ")");
      assertTrue(df > 150, "cells " + cells);
    }
  }

  /** A mixture concentrated on component 3 with a tiny scale: samples sit at its chained mean (RGB). */
  @Test
  void sharpComponentSamplesHitTheChainedMean() {
    int m = 5;
    int c = 3;
    int p = (int) DiscMixLogistic.paramChannels(m, c);
    double[] params = randomParams(new SplittableRandom(23), 1, m, c, -1, 0);
    int j = 3;
    for (int i = 0; i < m; i++) {
      params[i] = i == j ? 40 : 0;  // the Gumbel noise on [1e-5, 1 - 1e-5] spans less than 15
    }
    double[] mu = new double[c];
    double[] co = new double[c];
    for (int ch = 0; ch < c; ch++) {
      int base = m + 3 * m * ch;
      params[base + j] = new double[] {0.3, -0.6, 0.8}[ch];
      params[base + m + j] = -8;  // clamped to -7
      params[base + 2 * m + j] = new double[] {0.5, -0.4, 0.3}[ch];  // chained means stay inside (-1, 1)
      mu[ch] = params[base + j];
      co[ch] = Math.tanh(params[base + 2 * m + j]);
    }
    double x0 = clamp(mu[0]);
    double x1 = clamp(mu[1] + co[0] * x0);
    double x2 = clamp(mu[2] + co[1] * x0 + co[2] * x1);
    double[] expected = {(x0 + 1) / 2, (x1 + 1) / 2, (x2 + 1) / 2};
    int n = 2000;
    for (Class<TFloating> dt : List.of(F64, F32)) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Operand<TFloating> one = Tensors.constant(tf, dt, params, Shape.of(1, 1, 1, p));
        DiscMixLogistic d = new DiscMixLogistic(tf, dt, tf.broadcastTo(one, tf.constant(new int[] {n, 1, 1, p})), m, c);
        double[] cold = run(s, d.sample(tf, tf.constant(new long[] {1, 2}), 0.01));
        double[] warm = run(s, d.sample(tf, tf.constant(new long[] {1, 3}), 1.0));
        // |logistic noise| <= E = log((1 - 1e-5) / 1e-5) e^-7 = 0.0105 on [-1, 1]; chained through |coeff| < 1 the
        // deviation of channel c is at most (1, 2, 4) E, halved on [0, 1]: 0.021 at t = 1, 2.1e-4 at t = 0.01.
        double[] mean = new double[c];
        for (int i = 0; i < n; i++) {
          for (int ch = 0; ch < c; ch++) {
            assertEquals(expected[ch], cold[i * c + ch], 2.2e-4, "t = 0.01, draw " + i + " channel " + ch);
            assertEquals(expected[ch], warm[i * c + ch], 0.022, "t = 1, draw " + i + " channel " + ch);
            mean[ch] += warm[i * c + ch] / n;
          }
        }
        // the logistic noise is symmetric: the average lands on the chained mean (the sd of one draw is at most
        // 4 e^-7 pi / sqrt(3) / 2 = 3.3e-3)
        for (int ch = 0; ch < c; ch++) {
          assertEquals(expected[ch], mean[ch], 4 * 3.3e-3 / Math.sqrt(n), "average of draws, channel " + ch);
        }
      }
    }
  }

  private static double clamp(double v) {
    return Math.max(-1, Math.min(1, v));
  }

  // ------------------------------------------------------------------------------------------ gradient

  @Test
  void gradientMatchesCentralDifferences() {
    int m = 2;
    int c = 3;
    int p = (int) DiscMixLogistic.paramChannels(m, c);
    double[] params = randomParams(new SplittableRandom(31), 1, m, c, -3, -1);
    double[] k = {0, 128, 255};
    int b = 1 + 2 * p;
    double h = 1e-6;
    double[] batch = new double[b * p];
    for (int i = 0; i < b; i++) {
      System.arraycopy(params, 0, batch, i * p, p);
    }
    for (int j = 0; j < p; j++) {
      batch[(1 + 2 * j) * p + j] += h;
      batch[(2 + 2 * j) * p + j] -= h;
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloating> pr = Tensors.constant(tf, F64, batch, Shape.of(b, 1, 1, p));
      Operand<TFloating> kk = tf.broadcastTo(Tensors.constant(tf, F64, k, Shape.of(1, 1, 1, 3)),
          tf.constant(new int[] {b, 1, 1, 3}));
      Operand<TFloating> lp = new DiscMixLogistic(tf, F64, pr, m, c).logProb(tf, kk);
      Operand<TFloating> total = tf.sum(lp, tf.constant(new int[] {0, 1, 2}));
      Gradients grad = tf.gradients(List.of(total), List.of(pr),
          Gradients.dx(List.of(Tensors.constant(tf, F64, 1.0))));
      @SuppressWarnings("unchecked")
      Operand<TFloating> dp = (Operand<TFloating>) (Operand<?>) grad.dy(0);
      double[] values = run(s, tf.reshape(lp, tf.constant(new int[] {b})));
      double[] analytic = run(s, dp);
      int nonzero = 0;
      for (int j = 0; j < p; j++) {
        double numeric = (values[1 + 2 * j] - values[2 + 2 * j]) / (2 * h);
        assertEquals(numeric, analytic[j], 1e-6 * Math.max(1, Math.abs(numeric)), "d logProb / d param " + j);
        if (Math.abs(numeric) > 1e-3) {
          nonzero++;
        }
      }
      assertTrue(nonzero > p / 2, "the gradient is mostly zero: " + nonzero + " of " + p);
    }
  }

  // ------------------------------------------------------------------------------------------ Bernoulli decoder

  /**
   * The other image decoder (binarised MNIST): log p(x) = log sigmoid(l) for x = 1, log(1 - sigmoid(l)) for x = 0,
   * finite at |l| = 40 in float32; sample frequencies equal sigmoid(l) within 4 standard errors.
   */
  @Test
  void bernoulliLogProbMeanAndSamples() {
    double[] logits = {-40, -3, 0, 0.7, 2.5, 40};
    int n = 50_000;
    for (Class<TFloating> dt : List.of(F64, F32)) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Operand<TFloating> l = Tensors.constant(tf, dt, logits, Shape.of(1, logits.length));
        double[] lp1 = run(s, Bernoulli.logProb(tf, l, Tensors.constant(tf, dt, 1.0)));
        double[] lp0 = run(s, Bernoulli.logProb(tf, l, Tensors.constant(tf, dt, 0.0)));
        double[] mean = run(s, Bernoulli.mean(tf, l));
        Operand<TFloating> many = tf.broadcastTo(l, tf.constant(new int[] {n, logits.length}));
        double[] draws = run(s, Bernoulli.sample(tf, many, tf.constant(new long[] {4, 4})));
        for (int i = 0; i < logits.length; i++) {
          double p = 1 / (1 + Math.exp(-logits[i]));
          // log sigmoid(l) = -log(1 + e^-l), log(1 - sigmoid(l)) = -log(1 + e^l)
          double tol = dt == F64 ? 1e-12 : 1e-6 * Math.max(1, Math.abs(logits[i]));
          assertEquals(-Math.log1p(Math.exp(-logits[i])), lp1[i], tol, "log p(1 | " + logits[i] + ")");
          assertEquals(-Math.log1p(Math.exp(logits[i])), lp0[i], tol, "log p(0 | " + logits[i] + ")");
          assertEquals(p, mean[i], dt == F64 ? 1e-15 : 1e-7, "mean");
          double ones = 0;
          for (int j = 0; j < n; j++) {
            double v = draws[j * logits.length + i];
            assertTrue(v == 0 || v == 1, "draw " + v);
            ones += v;
          }
          double se = Math.sqrt(p * (1 - p) / n);
          assertEquals(p, ones / n, 4 * se + 1e-12, dt.getSimpleName() + " frequency of 1 at logit " + logits[i]);
        }
      }
    }
  }
}
