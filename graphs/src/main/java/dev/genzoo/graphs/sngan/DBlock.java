package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarScope;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The critic's residual blocks (Miyato et al. 2018, appendix B.4; Mimicry's {@code DBlock} and
 * {@code DBlockOptimized}), every convolution spectrally normalised; c1 and c2 are 3x3 with Xavier gain sqrt(2), the
 * 1x1 shortcut c_sc has gain 1. Scopes: {@code c1}, {@code c2}, {@code c_sc}.
 *
 * <ul>
 *   <li>optimised (the first block, on the image): residual = pool(c2(relu(c1(x)))), shortcut = c_sc(pool(x));
 *   <li>regular: residual = [pool](c2(relu(c1(relu(x))))), shortcut = [pool](c_sc(x)) when it down-samples or
 *       changes width, else x; the hidden width is the input width.
 * </ul>
 * pool is 2x2 average pooling.
 */
final class DBlock {
  private final Layers.SnConv c1;
  private final Layers.SnConv c2;
  private final Layers.SnConv cSc;
  private final boolean downsample;
  private final boolean optimized;

  DBlock(VarScope scope, long in, long out, boolean downsample, boolean optimized,
      Map<String, Output<TFloating>> params) {
    long hidden = optimized ? out : in;
    this.c1 = new Layers.SnConv(scope.child("c1"), 3, in, hidden, Math.sqrt(2), params);
    this.c2 = new Layers.SnConv(scope.child("c2"), 3, hidden, out, Math.sqrt(2), params);
    this.cSc = optimized || in != out || downsample
        ? new Layers.SnConv(scope.child("c_sc"), 1, in, out, 1.0, params) : null;
    this.downsample = downsample || optimized;
    this.optimized = optimized;
  }

  Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> h = optimized ? x : tf.nn.relu(x);
    h = c2.call(tf, tf.nn.relu(c1.call(tf, h, pass)), pass);
    if (downsample) {
      h = Layers.avgPool(tf, h);
    }
    Operand<TFloating> sc = x;
    if (optimized) {
      sc = cSc.call(tf, Layers.avgPool(tf, x), pass);
    } else if (cSc != null) {
      sc = cSc.call(tf, x, pass);
      if (downsample) {
        sc = Layers.avgPool(tf, sc);
      }
    }
    return tf.math.add(h, sc);
  }
}
