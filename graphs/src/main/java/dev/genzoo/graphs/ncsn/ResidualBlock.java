package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.VarScope;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The residual block of NCSN and NCSNv2 (upstream {@code ConditionalResidualBlock} / {@code ResidualBlock}):
 * norm -> ELU -> conv1 -> norm -> ELU -> conv2, plus the input or a shortcut convolution of it.
 *
 * <p>{@code down} follows upstream's {@code resample='down'}: without dilation, conv2 and the 1x1 shortcut are
 * ConvMeanPool (convolution, then 2x2 mean pooling) and the block halves the resolution. With a dilation it does NOT
 * downsample: conv1, conv2 and a 3x3 shortcut are all dilated stride-1 convolutions, as in the authors' code.
 *
 * <p>Scopes: {@code normalize1}, {@code conv1}, {@code normalize2}, {@code conv2} (or {@code conv2/conv} for
 * ConvMeanPool), {@code shortcut} (or {@code shortcut/conv}) when the block has one.
 */
final class ResidualBlock {
  private static final List<Long> POOL = List.of(1L, 2L, 2L, 1L);

  private final NormLayer normalize1;
  private final NcsnConv conv1;
  private final NormLayer normalize2;
  private final NcsnConv conv2;
  private final NcsnConv shortcut;
  private final boolean meanPool;

  /** @param dilation 0 for none (upstream's {@code dilation=None}), else the dilation of every 3x3 convolution */
  ResidualBlock(VarScope s, NormLayer.Factory norms, long in, long out, boolean down, int dilation) {
    this.meanPool = down && dilation == 0;
    long d = Math.max(dilation, 1);
    long hidden = down ? in : out;
    this.normalize1 = norms.create(s.child("normalize1"), in);
    this.conv1 = new NcsnConv(s.child("conv1"), 3, in, hidden, d, true);
    this.normalize2 = norms.create(s.child("normalize2"), hidden);
    this.conv2 = new NcsnConv(meanPool ? s.child("conv2").child("conv") : s.child("conv2"), 3, hidden, out, d, true);
    if (in != out || down) {
      if (dilation == 0 && !down) {
        // Upstream builds nn.Conv2d(in, out) without a kernel size here and fails; no NCSN network reaches it.
        throw new IllegalArgumentException("a non-dilated residual block without resampling must keep the width");
      }
      this.shortcut = meanPool
          ? new NcsnConv(s.child("shortcut").child("conv"), 1, in, out, 1, true)
          : new NcsnConv(s.child("shortcut"), 3, in, out, d, true);
    } else {
      this.shortcut = null;
    }
  }

  Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> sigmaIndex) {
    Operand<TFloating> h = conv1.call(tf, tf.nn.elu(normalize1.call(tf, x, sigmaIndex)));
    h = conv2.call(tf, tf.nn.elu(normalize2.call(tf, h, sigmaIndex)));
    Operand<TFloating> skip = x;
    if (shortcut != null) {
      skip = shortcut.call(tf, x);
    }
    if (meanPool) {
      h = meanPool(tf, h);
      skip = meanPool(tf, skip);
    }
    return tf.math.add(skip, h);
  }

  /** Upstream's mean of the four strided sub-grids: a 2x2 average pool, stride 2 (even sizes only). */
  private static Operand<TFloating> meanPool(Ops tf, Operand<TFloating> x) {
    return tf.nn.avgPool(x, POOL, POOL, "VALID");
  }
}
