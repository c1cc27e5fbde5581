package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.BatchNorm;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarScope;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The generator's residual block (Miyato et al. 2018, appendix B.4; Mimicry's {@code GBlock}):
 * residual = c2(relu(b2(c1(up(relu(b1(x))))))), shortcut = c_sc(up(x)) (1x1) when the block up-samples or changes
 * width, else x. Scopes (Mimicry's module names): {@code b1}, {@code c1}, {@code b2}, {@code c2}, {@code c_sc};
 * c1 and c2 are 3x3 with Xavier gain sqrt(2), c_sc has gain 1. BatchNorm: momentum 0.1 in PyTorch's convention
 * (0.9 of the old average kept), eps 1e-5.
 */
final class GBlock {
  private final BatchNorm b1;
  private final Layers.Conv c1;
  private final BatchNorm b2;
  private final Layers.Conv c2;
  private final Layers.Conv cSc;
  private final boolean upsample;
  private final SnganConfig.Upsample mode;

  GBlock(VarScope scope, long in, long out, boolean upsample, SnganConfig.Upsample mode,
      Map<String, Output<TFloating>> params) {
    this.b1 = new BatchNorm(scope.child("b1"), in, 0.9, 1e-5);
    this.c1 = new Layers.Conv(scope.child("c1"), 3, in, out, Math.sqrt(2), params);
    this.b2 = new BatchNorm(scope.child("b2"), out, 0.9, 1e-5);
    this.c2 = new Layers.Conv(scope.child("c2"), 3, out, out, Math.sqrt(2), params);
    this.cSc = in != out || upsample ? new Layers.Conv(scope.child("c_sc"), 1, in, out, 1.0, params) : null;
    this.upsample = upsample;
    this.mode = mode;
  }

  Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> h = tf.nn.relu(b1.call(tf, pass, x));
    if (upsample) {
      h = Layers.upsample(tf, h, mode);
    }
    h = c1.call(tf, h);
    h = c2.call(tf, tf.nn.relu(b2.call(tf, pass, h)));
    Operand<TFloating> sc = x;
    if (cSc != null) {
      sc = cSc.call(tf, upsample ? Layers.upsample(tf, x, mode) : x);
    }
    return tf.math.add(h, sc);
  }
}
