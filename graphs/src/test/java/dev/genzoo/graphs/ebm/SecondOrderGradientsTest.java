package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.BiasAddGrad;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * Each registered gradient against central finite differences of the forward op, in float64, and third derivatives
 * of log, softplus, sigmoid and tanh (which need the gradients of ReciprocalGrad, SoftplusGrad, SigmoidGrad and
 * TanhGrad) against their closed forms.
 */
class SecondOrderGradientsTest {
  private static final double H = 1e-6;

  @BeforeAll
  static void install() {
    SecondOrderGradients.install();
  }

  /** Max |analytic - finite difference| of d(sum w * op(a, b)) / d(a, b), relative to the gradient's scale. */
  private static void check(String name, double[] a, double[] b, long[] shapeA, long[] shapeB,
      BiFunction<Ops, List<Operand<TFloat64>>, Operand<TFloat64>> op) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> pa = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(shapeA)));
      Placeholder<TFloat64> pb = b == null ? null : tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(shapeB)));
      List<Operand<TFloat64>> ins = new ArrayList<>();
      ins.add(pa);
      if (pb != null) {
        ins.add(pb);
      }
      Operand<TFloat64> z = op.apply(tf, ins);
      assertEquals(name, z.op().type());
      // fixed, non-trivial weights so that every output element matters differently
      Operand<TFloat64> w = tf.math.add(tf.constant(0.7),
          tf.math.mul(tf.constant(0.3), tf.math.sin(tf.dtypes.cast(
              tf.range(tf.constant(0), tf.size(z), tf.constant(1)), TFloat64.class))));
      Operand<TFloat64> f = tf.sum(tf.math.mul(tf.reshape(z, tf.constant(new int[] {-1})), w), tf.constant(0));
      List<Operand<?>> xs = new ArrayList<>(ins);
      Gradients grads = tf.gradients(f, xs);
      double[][] values = {a, b};
      long[][] shapes = {shapeA, shapeB};
      for (int k = 0; k < ins.size(); k++) {
        double[] analytic = fetch(s, grads.dy(k), ins, values, shapes);
        double scale = 1e-3;
        for (double v : analytic) {
          scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < values[k].length; i++) {
          double keep = values[k][i];
          values[k][i] = keep + H;
          double up = fetch(s, f, ins, values, shapes)[0];
          values[k][i] = keep - H;
          double down = fetch(s, f, ins, values, shapes)[0];
          values[k][i] = keep;
          double fd = (up - down) / (2 * H);
          assertEquals(fd, analytic[i], 1e-6 * scale,
              name + " d/d(input " + k + ")[" + i + "]: finite difference " + fd + ", gradient " + analytic[i]);
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static double[] fetch(Session s, Operand<?> out, List<Operand<TFloat64>> ins, double[][] values,
      long[][] shapes) {
    List<TFloat64> feeds = new ArrayList<>();
    try {
      Session.Runner r = s.runner();
      for (int k = 0; k < ins.size(); k++) {
        TFloat64 t = TFloat64.tensorOf(Shape.of(shapes[k]), DataBuffers.of(values[k], true, false));
        feeds.add(t);
        r.feed(ins.get(k), t);
      }
      try (Result res = r.fetch(out).run()) {
        TFloat64 t = (TFloat64) res.get(0);
        double[] v = new double[(int) t.shape().size()];
        t.asRawTensor().data().asDoubles().read(v);
        return v;
      }
    } finally {
      for (TFloat64 t : feeds) {
        t.close();
      }
    }
  }

  private static final long[] V5 = {5};
  private static final double[] POS = {0.3, 0.55, 0.9, 1.7, 2.4};
  private static final double[] UNIT = {0.1, 0.35, 0.5, 0.72, 0.93};
  private static final double[] SIGNED = {-2.1, -0.6, 0.4, 0.8, 1.9};
  private static final double[] DY = {0.8, -1.3, 0.45, 2.2, -0.7};

  @Test
  void reciprocalGrad() {
    check("ReciprocalGrad", POS.clone(), DY.clone(), V5, V5, (tf, in) -> tf.math.reciprocalGrad(in.get(0), in.get(1)));
  }

  @Test
  void invGrad() {
    check("InvGrad", POS.clone(), DY.clone(), V5, V5, (tf, in) -> tf.nn.invGrad(in.get(0), in.get(1)));
  }

  @Test
  void sigmoidGrad() {
    check("SigmoidGrad", UNIT.clone(), DY.clone(), V5, V5, (tf, in) -> tf.math.sigmoidGrad(in.get(0), in.get(1)));
  }

  @Test
  void tanhGrad() {
    double[] y = {-0.8, -0.3, 0.1, 0.5, 0.9};
    check("TanhGrad", y, DY.clone(), V5, V5, (tf, in) -> tf.math.tanhGrad(in.get(0), in.get(1)));
  }

  @Test
  void softplusGrad() {
    check("SoftplusGrad", DY.clone(), SIGNED.clone(), V5, V5, (tf, in) -> tf.math.softplusGrad(in.get(0), in.get(1)));
  }

  @Test
  void eluGrad() {
    double[] y = {-0.9, -0.4, -0.1, 0.3, 1.5}; // Elu outputs lie in (-1, inf)
    check("EluGrad", DY.clone(), y, V5, V5, (tf, in) -> tf.nn.eluGrad(in.get(0), in.get(1)));
  }

  @Test
  void reluGrad() {
    check("ReluGrad", DY.clone(), SIGNED.clone(), V5, V5, (tf, in) -> tf.nn.reluGrad(in.get(0), in.get(1)));
  }

  @Test
  void rsqrtGrad() {
    check("RsqrtGrad", POS.clone(), DY.clone(), V5, V5, (tf, in) -> tf.math.rsqrtGrad(in.get(0), in.get(1)));
  }

  @Test
  void sqrtGrad() {
    check("SqrtGrad", POS.clone(), DY.clone(), V5, V5, (tf, in) -> tf.math.sqrtGrad(in.get(0), in.get(1)));
  }

  @Test
  void biasAddGradBothLayouts() {
    double[] dy = new double[2 * 3 * 4];
    for (int i = 0; i < dy.length; i++) {
      dy[i] = Math.sin(1.3 * i) + 0.1 * i;
    }
    check("BiasAddGrad", dy.clone(), null, new long[] {2, 3, 4}, null,
        (tf, in) -> tf.nn.biasAddGrad(in.get(0), BiasAddGrad.dataFormat("NHWC")));
    check("BiasAddGrad", dy.clone(), null, new long[] {2, 3, 2, 2}, null,
        (tf, in) -> tf.nn.biasAddGrad(in.get(0), BiasAddGrad.dataFormat("NCHW")));
  }

  /** f''' by three nested gradients with explicit seeds, against the closed form, at several points. */
  private static void thirdDerivative(String name, Function<Ops, Function<Operand<TFloating>, Operand<TFloating>>> f,
      double[] xs, DoubleUnaryOperator exact) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      @SuppressWarnings("unchecked")
      Operand<TFloating> x = (Operand<TFloating>) (Operand<?>) tf.constant(xs);
      Operand<TFloating> d1 = Energy.gradientOf(tf, f.apply(tf).apply(x), x);
      Operand<TFloating> d2 = Energy.gradientOf(tf, d1, x);
      Operand<TFloating> d3 = Energy.gradientOf(tf, d2, x);
      try (Result r = s.runner().fetch(d3).run()) {
        TFloat64 t = (TFloat64) r.get(0);
        for (int i = 0; i < xs.length; i++) {
          double want = exact.applyAsDouble(xs[i]);
          assertEquals(want, t.getDouble(i), 1e-10 * Math.max(1, Math.abs(want)), name + "'''(" + xs[i] + ")");
        }
      }
    }
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  @Test
  void thirdDerivativesOfLogSoftplusSigmoidTanh() {
    double[] xs = {-1.7, -0.4, 0.3, 1.1, 2.6};
    double[] pos = {0.4, 0.9, 1.5, 3.0};
    thirdDerivative("log", tf -> tf.math::log, pos, x -> 2 / (x * x * x));
    thirdDerivative("softplus", tf -> tf.math::softplus, xs, x -> {
      double s = sigmoid(x);
      return s * (1 - s) * (1 - 2 * s);
    });
    thirdDerivative("sigmoid", tf -> tf.math::sigmoid, xs, x -> {
      double s = sigmoid(x);
      return s * (1 - s) * (1 - 6 * s + 6 * s * s);
    });
    thirdDerivative("tanh", tf -> tf.math::tanh, xs, x -> {
      double t = Math.tanh(x);
      return -2 * (1 - t * t) * (1 - 3 * t * t);
    });
    thirdDerivative("sqrt", tf -> tf.math::sqrt, pos, x -> 3.0 / 8.0 * Math.pow(x, -2.5));
    thirdDerivative("rsqrt", tf -> tf.math::rsqrt, pos, x -> -15.0 / 8.0 * Math.pow(x, -3.5));
  }

  @Test
  void installIsIdempotentAndThreadSafe() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Set<String>>> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(pool.submit(SecondOrderGradients::install));
      }
      Set<String> first = all.get(0).get();
      for (Future<Set<String>> f : all) {
        assertEquals(first, f.get());
      }
    } finally {
      pool.shutdown();
    }
    for (String type : SecondOrderGradients.OP_TYPES) {
      assertTrue(org.tensorflow.internal.c_api.global.tensorflow.TFJ_HasGradient(type), type + " has no gradient");
    }
    assertTrue(SecondOrderGradients.registeredTypes().contains("SoftplusGrad"));
  }
}
