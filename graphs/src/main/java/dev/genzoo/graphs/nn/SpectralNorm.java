package dev.genzoo.graphs.nn;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Spectral normalisation (Miyato et al. 2018, Algorithm 1): a weight divided by its largest singular value sigma,
 * estimated by power iteration with a persistent vector u that is saved with the model (a {@link VarStore.Kind#STATE}
 * variable {@code <weight>_u}, shape [out]). The weight is viewed as the matrix W of shape [K, out]: a dense kernel
 * [in, out] as is, a convolution kernel [kh, kw, in, out] reshaped to [kh kw in, out] (the same matrix as PyTorch's
 * {@code weight.view(out, -1)}, transposed).
 *
 * <p>A training pass runs one power iteration, v = W u / |W u|, u' = W^T v / |W^T v|, uses sigma = v^T W u' with u'
 * and v treated as constants in the gradient (as the paper and PyTorch do), and records u := u' as one of the pass's
 * updates. Several calls of a layer in one pass (a critic on real and on fake images) share that one iteration.
 * An inference pass uses the stored u without updating it: v = W u / |W u| and sigma = v^T W u = |W u|.
 */
public final class SpectralNorm {
  static final double EPS = 1e-12;

  private SpectralNorm() {}

  /** The normalised weight, the estimate of sigma, and the updated vector u' (null in inference). */
  public record Normalized(Operand<TFloating> weight, Operand<TFloating> sigma, Operand<TFloating> uNext) {}

  /**
   * Normalises {@code w} by the power-iteration estimate of its largest singular value.
   *
   * @param w the weight, any rank &ge; 2, last axis the output units
   * @param u the current vector, shape [out]
   * @param iterate true to run one power iteration (training), false to use {@code u} as it is (inference)
   */
  public static Normalized normalize(Ops tf, Operand<TFloating> w, Operand<TFloating> u, boolean iterate) {
    long out = w.shape().get(w.shape().numDimensions() - 1);
    Operand<TFloating> mat = tf.reshape(w, tf.constant(new long[] {-1, out}));
    Operand<TFloating> uCol = tf.reshape(u, tf.constant(new long[] {out, 1}));
    Operand<TFloating> v = l2normalize(tf, tf.linalg.matMul(mat, uCol));
    Operand<TFloating> uNext = null;
    Operand<TFloating> uUsed = uCol;
    if (iterate) {
      Operand<TFloating> un = l2normalize(tf, tf.linalg.matMul(mat, v, org.tensorflow.op.linalg.MatMul.transposeA(true)));
      un = tf.stopGradient(un);
      v = tf.stopGradient(v);
      uNext = tf.reshape(un, tf.constant(new long[] {out}));
      uUsed = un;
    } else {
      v = tf.stopGradient(v);
      uUsed = tf.stopGradient(uCol);
    }
    // sigma = v^T W u
    Operand<TFloating> sigma = tf.reshape(tf.linalg.matMul(tf.linalg.matMul(v, mat,
        org.tensorflow.op.linalg.MatMul.transposeA(true)), uUsed), tf.constant(new long[0]));
    return new Normalized(tf.math.div(w, sigma), sigma, uNext);
  }

  private static Operand<TFloating> l2normalize(Ops tf, Operand<TFloating> col) {
    Operand<TFloating> sq = tf.reduceSum(tf.math.square(col), tf.constant(new int[] {0, 1}));
    Operand<TFloating> eps = tf.dtypes.cast(tf.constant(EPS), col.type());
    return tf.math.mul(col, tf.math.rsqrt(tf.math.maximum(sq, eps)));
  }

  /** Creates the persistent vector {@code <name>_u} of a weight in {@code scope}: a random unit vector. */
  public static Output<TFloating> createU(VarScope scope, String weightName, long out) {
    Initializer unitNormal = c -> {
      Operand<TFloating> g = Initializer.normal(1.0).create(c);
      return l2normalizeVector(c.tf(), g);
    };
    return scope.state(weightName + "_u", new long[] {out}, unitNormal);
  }

  private static Operand<TFloating> l2normalizeVector(Ops tf, Operand<TFloating> v) {
    Operand<TFloating> sq = tf.reduceSum(tf.math.square(v), tf.constant(0));
    return tf.math.mul(v, tf.math.rsqrt(tf.math.maximum(sq, tf.dtypes.cast(tf.constant(EPS), v.type()))));
  }

  /**
   * A spectrally normalised weight bound to its variables: {@link #weight(Ops, Pass)} gives W / sigma for a pass,
   * running (and recording) one power iteration per training pass.
   */
  public static final class Weight {
    private final VarStore store;
    private final Output<TFloating> w;
    private final Output<TFloating> u;
    private final Map<Pass, Normalized> perPass = new IdentityHashMap<>();

    public Weight(VarScope scope, String name, long[] shape, Initializer init) {
      this.store = scope.store();
      this.w = scope.variable(name, shape, init);
      this.u = createU(scope, name, shape[shape.length - 1]);
    }

    /** W / sigma for this pass (one power iteration per training pass, recorded as the pass's update of u). */
    public Operand<TFloating> weight(Ops tf, Pass pass) {
      return normalized(tf, pass).weight();
    }

    /** The normalisation of this pass: weight, sigma and, in training, u'. */
    public Normalized normalized(Ops tf, Pass pass) {
      Normalized n = perPass.get(pass);
      if (n == null) {
        n = normalize(tf, w, u, pass.isTraining());
        if (n.uNext() != null) {
          pass.addUpdate(store.assign(u, n.uNext()));
        }
        perPass.put(pass, n);
      }
      return n;
    }

    /** The raw (unnormalised) weight's value. */
    public Output<TFloating> raw() {
      return w;
    }

    /** The persistent vector's value. */
    public Output<TFloating> u() {
      return u;
    }

    /** The variables this weight owns: W then u. */
    public List<Output<TFloating>> variables() {
      return List.of(w, u);
    }
  }
}
