package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.nn.Dense;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.SnDense;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * An energy U(x) for low-dimensional data: a multilayer perceptron {@code dense_0 ... dense_{depth-1}} of one width
 * with an activation after each, and a linear output {@code out} to one unit, the energy. Optionally every layer is
 * spectrally normalised (Miyato et al. 2018, {@link SnDense}), which bounds the Lipschitz constant of U by 1 for
 * 1-Lipschitz activations, as IGEBM does for its image networks (Du and Mordatch 2019, section 3.3). Such a U cannot
 * change faster than |x - y|, far too flat for sharp modes such as the 8-Gaussians toy (sigma 0.2): the toy preset
 * leaves spectral normalisation off.
 *
 * <p>Variables: {@code dense_i/kernel}, {@code dense_i/bias} (and {@code dense_i/kernel_u} with spectral norm),
 * {@code out/kernel} [width, 1], {@code out/bias}; kernels Glorot-uniform, biases zero.
 */
public final class MlpEnergy {
  /** The hidden layers' activation. */
  public enum Activation {
    /** x sigmoid(x) (Ramachandran et al. 2017): smooth, so the Langevin drift is continuous. */
    SWISH,
    /** max(x, 0.2 x), IGEBM's activation. */
    LEAKY_RELU,
    /** log(1 + e^x). */
    SOFTPLUS,
    /** x for x &gt; 0, e^x - 1 otherwise. */
    ELU
  }

  private final List<Dense> dense = new ArrayList<>();
  private final List<SnDense> snDense = new ArrayList<>();
  private final Dense out;
  private final SnDense snOut;
  private final Activation activation;
  private final long in;

  public MlpEnergy(VarScope scope, long in, long width, int depth, boolean spectralNorm, Activation activation) {
    if (in <= 0 || width <= 0 || depth <= 0) {
      throw new IllegalArgumentException("MlpEnergy needs a positive input size, width and depth, got " + in + ", "
          + width + ", " + depth);
    }
    this.in = in;
    this.activation = activation;
    long prev = in;
    for (int i = 0; i < depth; i++) {
      VarScope s = scope.child("dense", i);
      if (spectralNorm) {
        snDense.add(new SnDense(s, prev, width, true, Initializer.glorotUniform()));
      } else {
        dense.add(new Dense(s, prev, width, true, Initializer.glorotUniform()));
      }
      prev = width;
    }
    if (spectralNorm) {
      this.snOut = new SnDense(scope.child("out"), prev, 1, true, Initializer.glorotUniform());
      this.out = null;
    } else {
      this.out = new Dense(scope.child("out"), prev, 1, true, Initializer.glorotUniform());
      this.snOut = null;
    }
  }

  /** The input size d. */
  public long inputSize() {
    return in;
  }

  /** U(x) for {@code x} [N, d]; returns [N]. */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> h = x;
    if (out != null) {
      for (Dense d : dense) {
        h = activate(tf, d.call(tf, h));
      }
      h = out.call(tf, h);
    } else {
      for (SnDense d : snDense) {
        h = activate(tf, d.call(tf, h, pass));
      }
      h = snOut.call(tf, h, pass);
    }
    return tf.reshape(h, tf.constant(new long[] {-1}));
  }

  /** This network as an {@link Energy} in one pass. */
  public Energy energy(Pass pass) {
    return (tf, x) -> call(tf, x, pass);
  }

  private Operand<TFloating> activate(Ops tf, Operand<TFloating> x) {
    return switch (activation) {
      case SWISH -> Tensors.swish(tf, x);
      case LEAKY_RELU -> tf.nn.leakyRelu(x, org.tensorflow.op.nn.LeakyRelu.alpha((float) ResNetEnergy.SLOPE));
      case SOFTPLUS -> tf.math.softplus(x);
      case ELU -> tf.nn.elu(x);
    };
  }
}
