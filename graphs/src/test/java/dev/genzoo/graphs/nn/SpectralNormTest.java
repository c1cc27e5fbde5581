package dev.genzoo.graphs.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * Spectral normalisation (Miyato et al. 2018, Algorithm 1) against singular values computed independently in double
 * precision (Jacobi's eigenvalue method on W^T W): after enough training passes, each running one power iteration,
 * the estimate of sigma is the largest singular value of W, and W / sigma has spectral norm 1, for a non-square dense
 * kernel and a convolution kernel (as the [kh kw in, out] matrix). Inference passes leave u alone; u is model state.
 */
class SpectralNormTest {
  private static final int ITERATIONS = 300;

  /** The singular values of a rows x cols matrix (row-major), largest first: sqrt of the eigenvalues of W^T W. */
  static double[] singularValues(double[] w, int rows, int cols) {
    double[][] a = new double[cols][cols];
    for (int i = 0; i < cols; i++) {
      for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int r = 0; r < rows; r++) {
          s += w[r * cols + i] * w[r * cols + j];
        }
        a[i][j] = s;
      }
    }
    double[] eig = jacobiEigenvalues(a);
    double[] sv = new double[cols];
    for (int i = 0; i < cols; i++) {
      sv[i] = Math.sqrt(Math.max(0, eig[cols - 1 - i]));
    }
    return sv;
  }

  /** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations, ascending. */
  static double[] jacobiEigenvalues(double[][] m) {
    int n = m.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = m[i].clone();
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off < 1e-30) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (Math.abs(a[p][q]) < 1e-300) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < n; k++) {
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
          }
          for (int k = 0; k < n; k++) {
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
          }
        }
      }
    }
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = a[i][i];
    }
    java.util.Arrays.sort(out);
    return out;
  }

  @Test
  void jacobiFindsKnownSingularValues() {
    // diag(3, 2) rotated on both sides has singular values 3 and 2; a third row of zeros changes nothing.
    double c = Math.cos(0.3);
    double s = Math.sin(0.3);
    double[] w = {3 * c, -2 * s, 3 * s, 2 * c, 0, 0};
    double[] sv = singularValues(w, 3, 2);
    assertEquals(3, sv[0], 1e-12);
    assertEquals(2, sv[1], 1e-12);
  }

  private static double[] fetch(Session s, Operand<?> x) {
    try (Result r = s.runner().fetch(x).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  /** Runs the training pass's power iteration {@link #ITERATIONS} times, then checks sigma and W / sigma. */
  private static void checkConverges(String what, Graph g, VarStore store, SpectralNorm.Weight weight, int rows,
      int cols) {
    Ops tf = store.tf();
    Pass train = Pass.training();
    SpectralNorm.Normalized n = weight.normalized(tf, train);
    assertEquals(1, train.updates().size(), "one power iteration (one update of u) per training pass");
    assertTrue(weight.normalized(tf, train) == n, "a second call in the same pass shares the iteration");
    assertEquals(1, train.updates().size());
    Pass inference = Pass.inference();
    SpectralNorm.Normalized ni = weight.normalized(tf, inference);
    assertTrue(inference.updates().isEmpty(), "an inference pass records no update");
    Op iterate = tf.withControlDependencies(train.updates()).noOp();
    try (Session s = new Session(g)) {
      s.runner().addTarget(store.initializer()).run().close();
      double[] w = fetch(s, weight.raw());
      double[] sv = singularValues(w, rows, cols);
      assertTrue(sv[0] > 1.05 * sv[1], what + ": a distinct largest singular value (" + sv[0] + ", " + sv[1] + ")");

      double[] u0 = fetch(s, weight.u());
      assertEquals(1, norm(u0), 1e-12, what + ": u starts as a unit vector");
      for (int i = 0; i < 5; i++) {
        fetch(s, ni.weight());
      }
      assertArrayEquals(u0, fetch(s, weight.u()), what + ": inference passes leave u unchanged");

      for (int i = 0; i < ITERATIONS; i++) {
        s.runner().addTarget(iterate).run().close();
      }
      double sigma = fetch(s, n.sigma())[0];
      assertEquals(sv[0], sigma, 1e-2 * sv[0], what + ": sigma estimate vs the largest singular value " + sv[0]);
      double[] normalized = fetch(s, n.weight());
      double[] svn = singularValues(normalized, rows, cols);
      assertEquals(1.0, svn[0], 1e-2, what + ": spectral norm of W / sigma");
      assertEquals(sv[1] / sv[0], svn[1], 1e-2, what + ": the other singular values scale with it");
      // Inference: sigma = |W u| with the converged u, the same value.
      assertEquals(sv[0], fetch(s, ni.sigma())[0], 1e-2 * sv[0], what + ": inference sigma");
      double[] uAfter = fetch(s, weight.u());
      assertEquals(1, norm(uAfter), 1e-9, what + ": u stays a unit vector");
      assertFalse(java.util.Arrays.equals(u0, uAfter), what + ": training passes update u");
    }
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }

  @Test
  void denseKernelIsNormalisedToSpectralNormOne() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 7);
      SnDense dense = new SnDense(store.root().child("d"), 7, 4, true, Initializer.normal(1.0));
      checkConverges("dense 7x4", g, store, dense.kernel(), 7, 4);
    }
  }

  @Test
  void convolutionKernelIsNormalisedAsItsMatrix() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 11);
      SnConv2d conv = new SnConv2d(store.root().child("c"), 3, 4, 6, 1, "SAME", true, Initializer.normal(1.0));
      // HWIO [3, 3, 4, 6] row-major is the [36, 6] matrix; PyTorch's [6, 36] view is its transpose up to a
      // permutation of columns, which has the same singular values.
      checkConverges("conv 3x3x4x6", g, store, conv.kernel(), 36, 6);
    }
  }

  @Test
  void layersApplyTheNormalisedWeight() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 3);
      Ops tf = store.tf();
      SnDense dense = new SnDense(store.root().child("d"), 5, 3, true, Initializer.normal(1.0));
      Placeholder<TFloating> x = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, 5)));
      Operand<TFloating> y = dense.call(tf, x, Pass.inference());
      Operand<TFloating> w = dense.kernel().normalized(tf, Pass.inference()).weight();
      try (Session s = new Session(g)) {
        s.runner().addTarget(store.initializer()).run().close();
        double[] in = {1, -2, 0.5, 3, -1};
        double[] wn = fetch(s, w);
        double[] b = fetch(s, store.get("d/bias").value());
        double[] out;
        try (var t = HostTensors.of(store.dtype(), in, new long[] {1, 5});
             Result r = s.runner().feed(x, t).fetch(y).run()) {
          out = HostTensors.toDoubles(r.get(0));
        }
        for (int j = 0; j < 3; j++) {
          double e = b[j];
          for (int i = 0; i < 5; i++) {
            e += in[i] * wn[i * 3 + j];
          }
          assertEquals(e, out[j], 1e-12);
        }
      }
    }
  }

  @Test
  void theVectorIsSavedStateNamedAfterItsWeight() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat64.class, 0);
      new SnConv2d(store.root().child("critic").child("c1"), 3, 2, 5, 1, "SAME", true, Initializer.normal(1.0));
      VarStore.Var u = store.get("critic/c1/kernel_u");
      assertEquals(VarStore.Kind.STATE, u.kind(), "u is saved with the model weights, not trained");
      assertArrayEquals(new long[] {5}, u.shape().asArray());
      assertTrue(store.ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE).contains(u), "in the model bundle");
      assertEquals(List.of("critic/c1/kernel", "critic/c1/bias"),
          store.ofKind(VarStore.Kind.TRAINABLE).stream().map(VarStore.Var::name).toList());
    }
  }
}
