package dev.genzoo.graphs.ddpm;

import dev.genzoo.graphs.nn.Dense;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.TimestepEmbedding;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * eps_theta(x_t, t) for points: the U-Net's ingredients without the convolutions. The timestep goes through the same
 * sinusoidal embedding and two dense layers; x goes through {@code in}; each residual layer {@code block_i} computes
 * h + dense_1(swish(dense_0(swish(h)) + temb_proj(swish(temb)))); {@code out} maps back to the data dimension.
 */
final class NoiseMlp {
  private final TimestepEmbedding temb;
  private final Dense in;
  private final List<Dense[]> blocks = new ArrayList<>();
  private final Dense out;

  NoiseMlp(VarScope scope, DdpmConfig.Model m) {
    long width = m.ch();
    long d = m.dataShape()[0];
    Initializer init = Initializer.varianceScalingFanAvg(1.0);
    this.temb = new TimestepEmbedding(scope.child("temb"), width, width, init);
    this.in = new Dense(scope.child("in"), d, width, true, init);
    for (int i = 0; i < m.numResBlocks(); i++) {
      VarScope b = scope.child("block", i);
      blocks.add(new Dense[] {
          new Dense(b.child("dense_0"), width, width, true, init),
          new Dense(b.child("temb_proj"), width, width, true, init),
          new Dense(b.child("dense_1"), width, width, true, Initializer.varianceScalingFanAvg(0.1))});
    }
    this.out = new Dense(scope.child("out"), width, d, true, Initializer.varianceScalingFanAvg(0.1));
  }

  Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> t) {
    Operand<TFloating> e = Tensors.swish(tf, temb.call(tf, t, x.type()));
    Operand<TFloating> h = in.call(tf, x);
    for (Dense[] b : blocks) {
      Operand<TFloating> u = tf.math.add(b[0].call(tf, Tensors.swish(tf, h)), b[1].call(tf, e));
      h = tf.math.add(h, b[2].call(tf, Tensors.swish(tf, u)));
    }
    return out.call(tf, Tensors.swish(tf, h));
  }
}
