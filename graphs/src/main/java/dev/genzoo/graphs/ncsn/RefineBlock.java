package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Resize;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * A RefineNet block (Lin et al. 2017, "RefineNet"), as NCSN uses it: residual conv units adapt each input
 * ({@code adapt_convs}), multi-resolution fusion sums them at the output resolution ({@code msf}, only with two or more
 * inputs), chained residual pooling ({@code crp}) and residual conv units on the output ({@code output_convs}: three
 * units in the last block, one otherwise).
 *
 * <p>Two flavours, as upstream: with a norm factory (NCSN's {@code CondRefineBlock}) every convolution is preceded by
 * a conditional norm and CRP pools with a 5x5 average that counts the zero padding (PyTorch {@code AvgPool2d}'s
 * default); without (NCSNv2's {@code RefineBlock}) there is no normalisation and CRP pools with a 5x5 max.
 */
final class RefineBlock {
  private final List<Rcu> adapt = new ArrayList<>();
  private final Msf msf;
  private final Crp crp;
  private final Rcu output;

  /**
   * @param norms conditional norms (NCSN), or null for NCSNv2's block without normalisation
   * @param inSizes the [H, W] of each input
   * @param outSize the [H, W] of the output (the first input's)
   */
  RefineBlock(VarScope s, NormLayer.Factory norms, long[] inPlanes, long features, boolean start, boolean end,
      long[][] inSizes, long[] outSize) {
    if (start != (inPlanes.length == 1) || (start && inPlanes[0] != features)) {
      throw new IllegalArgumentException("a start block has one input of the block's width; others have several");
    }
    VarScope adaptScope = s.child("adapt_convs");
    for (int i = 0; i < inPlanes.length; i++) {
      adapt.add(new Rcu(adaptScope.child("block", i), norms, inPlanes[i], 2, 2));
    }
    this.msf = start ? null : new Msf(s.child("msf"), norms, inPlanes, features, inSizes, outSize);
    this.crp = new Crp(s.child("crp"), norms, features, 2);
    this.output = new Rcu(s.child("output_convs"), norms, features, end ? 3 : 1, 2);
  }

  Operand<TFloating> call(Ops tf, List<Operand<TFloating>> xs, Operand<TInt32> sigmaIndex) {
    List<Operand<TFloating>> hs = new ArrayList<>();
    for (int i = 0; i < xs.size(); i++) {
      hs.add(adapt.get(i).call(tf, xs.get(i), sigmaIndex));
    }
    Operand<TFloating> h = msf == null ? hs.get(0) : msf.call(tf, hs, sigmaIndex);
    h = crp.call(tf, h, sigmaIndex);
    return output.call(tf, h, sigmaIndex);
  }

  private static Operand<TFloating> norm(Ops tf, NormLayer n, Operand<TFloating> x, Operand<TInt32> sigmaIndex) {
    return n == null ? x : n.call(tf, x, sigmaIndex);
  }

  /**
   * Residual conv units: {@code blocks} times x + (([norm] -> ELU -> conv3x3) x {@code stages}); bias-free convs.
   * Scopes {@code conv_i_j} and {@code norm_i_j}, i the unit and j the stage, both from 1 as upstream's
   * {@code i_j_conv}.
   */
  private static final class Rcu {
    private final List<List<NcsnConv>> convs = new ArrayList<>();
    private final List<List<NormLayer>> norms = new ArrayList<>();

    Rcu(VarScope s, NormLayer.Factory normFactory, long features, int blocks, int stages) {
      for (int i = 1; i <= blocks; i++) {
        List<NcsnConv> c = new ArrayList<>();
        List<NormLayer> n = new ArrayList<>();
        for (int j = 1; j <= stages; j++) {
          n.add(normFactory == null ? null : normFactory.create(s.child("norm_" + i + "_" + j), features));
          c.add(new NcsnConv(s.child("conv_" + i + "_" + j), 3, features, features, 1, false));
        }
        convs.add(c);
        norms.add(n);
      }
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> sigmaIndex) {
      for (int i = 0; i < convs.size(); i++) {
        Operand<TFloating> residual = x;
        for (int j = 0; j < convs.get(i).size(); j++) {
          x = convs.get(i).get(j).call(tf, tf.nn.elu(norm(tf, norms.get(i).get(j), x, sigmaIndex)));
        }
        x = tf.math.add(x, residual);
      }
      return x;
    }
  }

  /**
   * Chained residual pooling: x = ELU(x); path = x; per stage path = conv(pool([norm](path))), x = x + path.
   * Scopes {@code convs/conv_i}, {@code norms/norm_i}.
   */
  private static final class Crp {
    private static final List<Long> UNIT = List.of(1L, 1L, 1L, 1L);
    private static final List<Long> WINDOW = List.of(1L, 5L, 5L, 1L);

    private final List<NcsnConv> convs = new ArrayList<>();
    private final List<NormLayer> norms = new ArrayList<>();
    private final boolean averagePool;

    Crp(VarScope s, NormLayer.Factory normFactory, long features, int stages) {
      this.averagePool = normFactory != null;
      for (int i = 0; i < stages; i++) {
        norms.add(normFactory == null ? null : normFactory.create(s.child("norms").child("norm", i), features));
        convs.add(new NcsnConv(s.child("convs").child("conv", i), 3, features, features, 1, false));
      }
    }

    Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> sigmaIndex) {
      x = tf.nn.elu(x);
      Operand<TFloating> path = x;
      for (int i = 0; i < convs.size(); i++) {
        path = convs.get(i).call(tf, pool(tf, norm(tf, norms.get(i), path, sigmaIndex)));
        x = tf.math.add(path, x);
      }
      return x;
    }

    private Operand<TFloating> pool(Ops tf, Operand<TFloating> x) {
      if (averagePool) {
        // AvgPool2d(5, stride 1, padding 2) with count_include_pad: always divides by 25.
        Operand<TFloating> padded = tf.pad(x, tf.constant(new int[][] {{0, 0}, {2, 2}, {2, 2}, {0, 0}}),
            Tensors.constant(tf, x.type(), 0.0));
        return tf.nn.avgPool(padded, WINDOW, UNIT, "VALID");
      }
      // MaxPool2d(5, stride 1, padding 2) pads with -inf: TensorFlow's SAME.
      return tf.nn.maxPool(x, tf.constant(new int[] {1, 5, 5, 1}), tf.constant(new int[] {1, 1, 1, 1}), "SAME");
    }
  }

  /**
   * Multi-resolution fusion: the sum over inputs of conv3x3([norm](x_i)) (with bias), each resized to the output size
   * by bilinear interpolation with aligned corners ({@code F.interpolate(..., align_corners=True)}, the identity when
   * the sizes agree). Scopes {@code convs/conv_i}, {@code norms/norm_i}.
   */
  private static final class Msf {
    private final List<NcsnConv> convs = new ArrayList<>();
    private final List<NormLayer> norms = new ArrayList<>();
    private final long[][] inSizes;
    private final long[] outSize;

    Msf(VarScope s, NormLayer.Factory normFactory, long[] inPlanes, long features, long[][] inSizes, long[] outSize) {
      for (int i = 0; i < inPlanes.length; i++) {
        convs.add(new NcsnConv(s.child("convs").child("conv", i), 3, inPlanes[i], features, 1, true));
        norms.add(normFactory == null ? null : normFactory.create(s.child("norms").child("norm", i), inPlanes[i]));
      }
      this.inSizes = inSizes;
      this.outSize = outSize;
    }

    Operand<TFloating> call(Ops tf, List<Operand<TFloating>> xs, Operand<TInt32> sigmaIndex) {
      Operand<TFloating> sum = null;
      for (int i = 0; i < convs.size(); i++) {
        Operand<TFloating> h = convs.get(i).call(tf, norm(tf, norms.get(i), xs.get(i), sigmaIndex));
        h = Resize.bilinearAlignCorners(tf, h, inSizes[i], outSize);
        sum = sum == null ? h : tf.math.add(sum, h);
      }
      return sum;
    }
  }
}
