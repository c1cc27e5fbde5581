package dev.genzoo.graphs.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/** ActNorm's data-dependent initialisation and BatchNorm's two behaviours, against their definitions. */
class StatefulLayersTest {
  private static final int N = 64;
  private static final int C = 3;

  /** Columns with means 1, -2, 5 and standard deviations 0.5, 3, 0.1. */
  private static double[] data(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] mean = {1, -2, 5};
    double[] std = {0.5, 3, 0.1};
    double[] x = new double[N * C];
    for (int i = 0; i < N; i++) {
      for (int c = 0; c < C; c++) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        x[i * C + c] = mean[c] + std[c] * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
      }
    }
    return x;
  }

  private static double[] columnMean(double[] x) {
    double[] m = new double[C];
    for (int i = 0; i < x.length; i++) {
      m[i % C] += x[i] / N;
    }
    return m;
  }

  /** Population variance per column. */
  private static double[] columnVar(double[] x) {
    double[] m = columnMean(x);
    double[] v = new double[C];
    for (int i = 0; i < x.length; i++) {
      v[i % C] += (x[i] - m[i % C]) * (x[i] - m[i % C]) / N;
    }
    return v;
  }

  private static double[] run(Session s, Operand<TFloating> out, Placeholder<TFloating> in, double[] x) {
    try (Tensor t = HostTensors.of(TFloat64Class.DT, x, new long[] {N, C});
         Result r = s.runner().feed(in, t).fetch(out).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /** The float64 class as the store's dtype type. */
  private static final class TFloat64Class {
    @SuppressWarnings("unchecked")
    static final Class<TFloating> DT = (Class<TFloating>) (Class<?>) TFloat64.class;
  }

  @Test
  void actNormInitialisesToZeroMeanUnitVarianceAndInverts() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 0);
      Ops tf = store.tf();
      ActNorm norm = new ActNorm(store.root().child("actnorm"), C);
      Placeholder<TFloating> in = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, C)));
      Pass init = Pass.dataInit();
      norm.call(tf, init, in);
      Op ddi = tf.withControlDependencies(init.initAssigns()).noOp();
      Operand<TFloating> y = norm.call(tf, Pass.inference(), in);
      Operand<TFloating> back = norm.inverse(tf, y);
      Operand<TFloating> logDet = norm.logDet(tf, 1);
      try (Session s = new Session(g)) {
        s.runner().addTarget(store.initializer()).run().close();
        double[] x = data(1);
        try (Tensor t = HostTensors.of(store.dtype(), x, new long[] {N, C})) {
          s.runner().feed(in, t).addTarget(ddi).run().close();
        }
        double[] out = run(s, y, in, x);
        assertArrayEquals(new double[] {0, 0, 0}, columnMean(out), 1e-9);
        double[] var = columnVar(out);
        double[] expectedVar = new double[C];
        double sumLogScale = 0;
        double[] inputVar = columnVar(x);
        for (int c = 0; c < C; c++) {
          // logs = log(1 / (std + 1e-6)), so the output variance is var / (std + 1e-6)^2.
          double std = Math.sqrt(inputVar[c]);
          expectedVar[c] = inputVar[c] / ((std + 1e-6) * (std + 1e-6));
          sumLogScale += -Math.log(std + 1e-6);
        }
        assertArrayEquals(expectedVar, var, 1e-9);
        assertArrayEquals(x, run(s, back, in, x), 1e-9);
        try (Result r = s.runner().fetch(logDet).run()) {
          assertEquals(sumLogScale, HostTensors.toDoubles(r.get(0))[0], 1e-9);
        }
      }
    }
  }

  @Test
  void batchNormUsesBatchStatisticsInTrainingAndMovingOnesInInference() {
    double momentum = 0.9;
    double eps = 1e-5;
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 0);
      Ops tf = store.tf();
      BatchNorm bn = new BatchNorm(store.root().child("bn"), C, momentum, eps);
      Placeholder<TFloating> in = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, C)));
      Pass train = Pass.training();
      Operand<TFloating> yTrain = bn.call(tf, train, in);
      Op update = tf.withControlDependencies(train.updates()).noOp();
      Operand<TFloating> yInfer = bn.call(tf, Pass.inference(), in);
      try (Session s = new Session(g)) {
        s.runner().addTarget(store.initializer()).run().close();
        double[] x = data(2);
        double[] mean = columnMean(x);
        double[] var = columnVar(x);
        double[] trained = run(s, yTrain, in, x);
        for (int i = 0; i < x.length; i++) {
          int c = i % C;
          assertEquals((x[i] - mean[c]) / Math.sqrt(var[c] + eps), trained[i], 1e-9, "training output");
        }
        try (Tensor t = HostTensors.of(store.dtype(), x, new long[] {N, C})) {
          s.runner().feed(in, t).addTarget(update).run().close();
        }
        // One update from (0, 1): moving = momentum * old + (1 - momentum) * batch.
        double[] inferred = run(s, yInfer, in, x);
        for (int i = 0; i < x.length; i++) {
          int c = i % C;
          double movingMean = (1 - momentum) * mean[c];
          double movingVar = momentum + (1 - momentum) * var[c];
          assertEquals((x[i] - movingMean) / Math.sqrt(movingVar + eps), inferred[i], 1e-9, "inference output");
        }
      }
    }
  }
}
