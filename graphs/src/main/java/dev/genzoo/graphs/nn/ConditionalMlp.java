package dev.genzoo.graphs.nn;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * A residual MLP for points conditioned on an integer (a diffusion timestep, a noise-level index): the DDPM U-Net's
 * ingredients without the convolutions. The integer goes through the sinusoidal {@link TimestepEmbedding} and two
 * dense layers ({@code temb}); x goes through {@code in}; each residual layer {@code block_i} computes
 * h + dense_1(swish(dense_0(swish(h)) + temb_proj(swish(temb)))); {@code out} maps swish(h) back to the data dimension.
 */
public final class ConditionalMlp {
  private final TimestepEmbedding temb;
  private final Dense in;
  private final List<Dense[]> blocks = new ArrayList<>();
  private final Dense out;

  /**
   * @param dims the data dimension d (input and output)
   * @param width hidden width (also the embedding's)
   * @param depth residual layers
   */
  public ConditionalMlp(VarScope scope, long dims, long width, int depth) {
    long d = dims;
    Initializer init = Initializer.varianceScalingFanAvg(1.0);
    this.temb = new TimestepEmbedding(scope.child("temb"), width, width, init);
    this.in = new Dense(scope.child("in"), d, width, true, init);
    for (int i = 0; i < depth; i++) {
      VarScope b = scope.child("block", i);
      blocks.add(new Dense[] {
          new Dense(b.child("dense_0"), width, width, true, init),
          new Dense(b.child("temb_proj"), width, width, true, init),
          new Dense(b.child("dense_1"), width, width, true, Initializer.varianceScalingFanAvg(0.1))});
    }
    this.out = new Dense(scope.child("out"), width, d, true, Initializer.varianceScalingFanAvg(0.1));
  }

  /** {@code x}: [N, d]; {@code t}: [N] the conditioning integers. */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> t) {
    Operand<TFloating> e = Tensors.swish(tf, temb.call(tf, t, x.type()));
    Operand<TFloating> h = in.call(tf, x);
    for (Dense[] b : blocks) {
      Operand<TFloating> u = tf.math.add(b[0].call(tf, Tensors.swish(tf, h)), b[1].call(tf, e));
      h = tf.math.add(h, b[2].call(tf, Tensors.swish(tf, u)));
    }
    return out.call(tf, Tensors.swish(tf, h));
  }
}
