package dev.genzoo.graphs.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/** {@link GraphLoop}: a counted While loop whose step reads graph variables, checked against closed forms. */
class GraphLoopTest {
  /** A VariableV2 {@code name} with its {@code name/read} Identity, as genzoo's VarStore creates them. */
  private static Output<TFloat64> variable(Graph g, Ops tf, String name, Session s, double value) {
    GraphOperation v = g.opBuilder("VariableV2", name, tf.scope()).setAttr("shape", Shape.scalar())
        .setAttr("dtype", org.tensorflow.proto.DataType.DT_DOUBLE).build();
    Output<TFloat64> ref = v.output(0);
    Output<TFloat64> read = g.opBuilder("Identity", name + "/read", tf.scope()).addInput(ref).build().output(0);
    s.runner().addTarget(tf.assign(ref, tf.constant(value))).run().close();
    return read;
  }

  /**
   * x_{k+1} = a x_k + b + k with a, b variables: after n steps x_n = a^n x_0 + sum_k a^(n-1-k) (b + k), the closed
   * form with the counter k = 0 .. n-1.
   */
  @Test
  void loopReadsVariablesAndTheCounter() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Output<TFloat64> a = variable(g, tf, "net/a", s, 0.5);
      Output<TFloat64> b = variable(g, tf, "net/b", s, 2.0);
      GraphLoop loop = new GraphLoop(tf, "affine");
      Placeholder<TFloat64> x = loop.carry("x", TFloat64.class, Shape.of(-1));
      Placeholder<TFloat64> scale = loop.invariant("scale", TFloat64.class, Shape.scalar());
      Operand<TFloat64> k = tf.dtypes.cast(loop.counter(), TFloat64.class);
      Operand<TFloat64> next = tf.math.add(tf.math.mul(a, x), tf.math.mul(scale, tf.math.add(b, k)));
      Placeholder<TFloat64> x0 = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(-1)));
      int n = 12;
      @SuppressWarnings("unchecked")
      Operand<TFloat64> out = (Operand<TFloat64>) (Operand<?>) loop.finish(n, List.of(next), List.of(x0),
          List.of(tf.constant(1.0))).get(0);
      double[] start = {3, -1};
      try (TFloat64 in = TFloat64.vectorOf(start); Result r = s.runner().feed(x0, in).fetch(out).run()) {
        TFloat64 got = (TFloat64) r.get(0);
        for (int j = 0; j < start.length; j++) {
          double want = Math.pow(0.5, n) * start[j];
          for (int i = 0; i < n; i++) {
            want += Math.pow(0.5, n - 1 - i) * (2.0 + i);
          }
          assertEquals(want, got.getDouble(j), 1e-12);
        }
      }
      // The weights are read at run time, not frozen: a new value of a changes the result.
      s.runner().addTarget(tf.assign(g.operation("net/a").output(0), tf.constant(0.0))).run().close();
      try (TFloat64 in = TFloat64.vectorOf(start); Result r = s.runner().feed(x0, in).fetch(out).run()) {
        assertEquals(2.0 + (n - 1), ((TFloat64) r.get(0)).getDouble(0), 1e-12);
      }
    }
  }

  @Test
  void aStepThatNeedsAnotherFeedIsRefused() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> outside = tf.withName("outside").placeholder(TFloat64.class);
      GraphLoop loop = new GraphLoop(tf, "bad");
      Placeholder<TFloat64> x = loop.carry("x", TFloat64.class, Shape.scalar());
      Operand<TFloat64> next = tf.math.add(x, outside);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> loop.finish(3, List.of(next), List.of(tf.constant(0.0)), List.of()));
      assertTrue(e.getMessage().contains("outside"), e.getMessage());
    }
  }

  @Test
  void zeroIterationsReturnTheStart() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      GraphLoop loop = new GraphLoop(tf, "none");
      Placeholder<TInt32> x = loop.carry("x", TInt32.class, Shape.scalar());
      @SuppressWarnings("unchecked")
      Operand<TInt32> out = (Operand<TInt32>) (Operand<?>) loop.finish(0, List.of(tf.math.add(x, tf.constant(1))),
          List.of(tf.constant(41)), List.of()).get(0);
      try (Result r = s.runner().fetch(out).run()) {
        assertEquals(41, ((TInt32) r.get(0)).getInt());
      }
    }
  }
}
