package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Planar flow (Rezende & Mohamed 2015, section 4.1): z_k = z_{k-1} + u_hat tanh(w^T z_{k-1} + b), with u_hat the
 * projection u + (m(w^T u) - w^T u) w / |w|^2, m(a) = -1 + softplus(a), which keeps every layer invertible;
 * log q_K(z_K) = log q_0(z_0) - sum_k log|1 + u_hat^T psi_k|, psi = (1 - tanh^2(w^T z + b)) w. It has no
 * closed-form inverse: it is a sampler with a density for its own samples, fitted by reverse KL.
 * Variables per layer {@code layer_k}: {@code u}, {@code w} [D], {@code b} [].
 */
final class PlanarFlow {
  private record Layer(Output<TFloating> u, Output<TFloating> w, Output<TFloating> b) {}

  private final List<Layer> layers = new ArrayList<>();
  private final Class<TFloating> dt;

  PlanarFlow(VarScope scope, int dims, int count) {
    this.dt = scope.dtype();
    for (int k = 0; k < count; k++) {
      VarScope s = scope.child("layer", k);
      layers.add(new Layer(
          s.variable("u", new long[] {dims}, Initializer.normal(0.1)),
          s.variable("w", new long[] {dims}, Initializer.normal(0.1)),
          s.variable("b", new long[] {}, Initializer.zeros())));
    }
  }

  /** Pushes base samples z0 [N, D] through the layers; returns (z_K, sum of log|det| [N]). */
  Operand<TFloating>[] forward(Ops tf, Operand<TFloating> z0) {
    Operand<TFloating> z = z0;
    Operand<TFloating> logDet = tf.math.mul(Tensors.sum(tf, z0, 1), Tensors.constant(tf, dt, 0.0));
    Operand<TFloating> one = Tensors.constant(tf, dt, 1.0);
    for (Layer l : layers) {
      Operand<TFloating> wu = Tensors.sum(tf, tf.math.mul(l.w(), l.u()), 0);
      Operand<TFloating> m = tf.math.sub(tf.math.softplus(wu), one);
      Operand<TFloating> wNorm2 = Tensors.sum(tf, tf.math.square(l.w()), 0);
      Operand<TFloating> uHat = tf.math.add(l.u(), tf.math.mul(tf.math.div(tf.math.sub(m, wu), wNorm2), l.w()));
      Operand<TFloating> a = tf.math.add(Tensors.sum(tf, tf.math.mul(z, l.w()), 1), l.b());
      Operand<TFloating> h = tf.math.tanh(a);
      Operand<TFloating> hPrime = tf.math.sub(one, tf.math.square(h));
      Operand<TFloating> psiU = tf.math.mul(hPrime, Tensors.sum(tf, tf.math.mul(l.w(), uHat), 0));
      logDet = tf.math.add(logDet, tf.math.log(tf.math.abs(tf.math.add(one, psiU))));
      z = tf.math.add(z, tf.math.mul(tf.expandDims(h, tf.constant(1)), uHat));
    }
    @SuppressWarnings("unchecked")
    Operand<TFloating>[] out = new Operand[] {z, logDet};
    return out;
  }
}
