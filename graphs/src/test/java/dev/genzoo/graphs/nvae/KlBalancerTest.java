package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's KL warm-up and balancing against hand computations of the upstream formulas (utils.py): groups per scale,
 * the 'square' alphas in decoder order, the warm-up coefficient at its breakpoints, the balanced KL on a small
 * matrix, its gradient (beta gamma: gamma is held constant) and the plain sum once beta reaches 1.
 */
class KlBalancerTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F32 = (Class<TFloating>) (Class<?>) TFloat32.class;

  @Test
  void groupsPerScale() {
    // upstream MNIST: 2 scales, 10 groups, adaptive -> [10, 5]; CIFAR-10: 1 scale of 30
    assertArrayEquals(new int[] {10, 5}, KlBalancer.groupsPerScale(2, 10, true, 1));
    assertArrayEquals(new int[] {30}, KlBalancer.groupsPerScale(1, 30, true, 1));
    assertArrayEquals(new int[] {5, 5, 5}, KlBalancer.groupsPerScale(3, 5, false, 1));
    // integer halving 5 -> 2 -> 1, with a floor of minGroups
    assertArrayEquals(new int[] {5, 2, 1, 1}, KlBalancer.groupsPerScale(4, 5, true, 1));
    assertArrayEquals(new int[] {8, 4, 3, 3}, KlBalancer.groupsPerScale(4, 8, true, 3));
  }

  @Test
  void alphasAreSquareOverGroupsInDecoderOrder() {
    double[] one = KlBalancer.alphas(new int[] {30});
    assertEquals(30, one.length);
    for (double a : one) {
      assertEquals(1.0, a, 0);
    }
    // [10, 5] in encoder order; decoder order: the 5 coarse groups (scale i = 0): 1 / 5 = 0.2 each, then the 10 fine
    // ones (i = 1): 2^2 / 10 = 0.4 each; divided by the minimum 0.2: five 1s, ten 2s
    double[] a = KlBalancer.alphas(new int[] {10, 5});
    double[] expected = new double[15];
    Arrays.fill(expected, 0, 5, 1.0);
    Arrays.fill(expected, 5, 15, 2.0);
    assertArrayEquals(expected, a, 1e-12);
    // [4, 2, 2]: decoder scales get 1 / 2, 4 / 2, 16 / 4 -> 0.5, 2, 4 -> / 0.5: 1, 1, 4, 4, 8, 8, 8, 8
    assertArrayEquals(new double[] {1, 1, 4, 4, 8, 8, 8, 8}, KlBalancer.alphas(new int[] {4, 2, 2}), 1e-12);
  }

  @Test
  void klCoeffWarmUp() {
    // upstream defaults for 1000 steps: anneal 0.3 * 1000, const 1e-4 * 1000 = 0.1, min 1e-4
    double anneal = 300;
    double constant = 10;
    double min = 1e-4;
    long[] steps = {0, 10, 11, 160, 310, 311, 5000};
    double[] expected = {1e-4, 1e-4, 1 / 300.0, 0.5, 1.0, 1.0, 1.0};
    for (int i = 0; i < steps.length; i++) {
      assertEquals(expected[i], KlBalancer.klCoeff(steps[i], anneal, constant, min), 1e-15, "step " + steps[i]);
    }
    for (Class<TFloating> dt : List.of(F64, F32)) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Operand<TFloating> c = KlBalancer.klCoeff(tf, dt, tf.constant(steps), anneal, constant, min);
        double[] v = fetch(s, c);
        for (int i = 0; i < steps.length; i++) {
          assertEquals(expected[i], v[i], dt == F64 ? 1e-15 : 1e-7, dt.getSimpleName() + " step " + steps[i]);
        }
      }
    }
  }

  // klAll [N = 3, G = 3] with a negative entry (upstream takes |KL|), alphas [1, 2, 2]
  private static final double[] KL = {
      1.0, 2.0, 0.5,
      3.0, -1.0, 0.5,
      2.0, 3.0, 2.0};
  private static final double[] ALPHAS = {1, 2, 2};

  /**
   * By hand: mean_n |kl| = [2, 2, 1]; + 0.01 = [2.01, 2.01, 1.01], total 5.03; / alpha * total = 5.03 [2.01, 1.005,
   * 0.505], whose mean is 5.03 * 3.52 / 3; gamma = [2.01, 1.005, 0.505] * 3 / 3.52.
   */
  private static final double[] GAMMA = {2.01 * 3 / 3.52, 1.005 * 3 / 3.52, 0.505 * 3 / 3.52};

  @Test
  void balanceIsBetaTimesGammaWeightedSum() {
    for (Class<TFloating> dt : List.of(F64, F32)) {
      for (double beta : new double[] {0.5, 1e-4, 1.0, 1.5}) {
        try (Graph g = new Graph(); Session s = new Session(g)) {
          Ops tf = Ops.create(g);
          Operand<TFloating> kl = Tensors.constant(tf, dt, KL, Shape.of(3, 3));
          Operand<TFloating> b = Tensors.constant(tf, dt, beta);
          Operand<TFloating> out = KlBalancer.balance(tf, dt, kl, b, ALPHAS);
          Operand<TFloating> total = tf.sum(out, tf.constant(0));
          Gradients grad = tf.gradients(List.of(total), List.of(kl), Gradients.dx(List.of(Tensors.constant(tf, dt,
              1.0))));
          @SuppressWarnings("unchecked")
          Operand<TFloating> dkl = (Operand<TFloating>) (Operand<?>) grad.dy(0);
          double[] v = fetch(s, out);
          double[] d = fetch(s, dkl);
          double tol = dt == F64 ? 1e-12 : 1e-5;
          boolean balancing = beta < 1;
          for (int n = 0; n < 3; n++) {
            double expected = 0;
            for (int i = 0; i < 3; i++) {
              expected += KL[n * 3 + i] * (balancing ? GAMMA[i] : 1.0);
            }
            expected *= beta;
            assertEquals(expected, v[n], tol * Math.max(1, Math.abs(expected)),
                dt.getSimpleName() + " beta " + beta + " example " + n);
            for (int i = 0; i < 3; i++) {
              // gamma is a constant for the gradient: d/dkl_ni = beta gamma_i (not the full derivative)
              assertEquals(beta * (balancing ? GAMMA[i] : 1.0), d[n * 3 + i], tol,
                  dt.getSimpleName() + " beta " + beta + " gradient [" + n + ", " + i + "]");
            }
          }
          if (dt == F64) {
            double[] gamma = fetch(s, KlBalancer.gamma(tf, dt, kl, ALPHAS));
            assertArrayEquals(GAMMA, gamma, 1e-12);
          }
        }
      }
    }
  }

  @Test
  void balanceRejectsAMismatchedGroupCount() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloating> kl = Tensors.constant(tf, F64, KL, Shape.of(3, 3));
      assertThrows(IllegalArgumentException.class,
          () -> KlBalancer.balance(tf, F64, kl, Tensors.constant(tf, F64, 0.5), new double[] {1, 1}));
    }
  }

  private static double[] fetch(Session s, Operand<TFloating> x) {
    try (Result r = s.runner().fetch(x).run()) {
      return HostTensors.toDoubles((Tensor) r.get(0));
    }
  }
}
