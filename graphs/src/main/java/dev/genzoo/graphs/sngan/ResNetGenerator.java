package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.BatchNorm;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * SN-GAN's ResNet generator (Miyato et al. 2018, appendix B.4, Table 4(a)) as Mimicry's {@code ResNetGenerator32}:
 * h = l1(z) viewed as [N, ngf, b, b] (channels first, as PyTorch's {@code view}) and transposed to NHWC; k up-sampling
 * {@link GBlock}s (b to b 2^k = H); then BN, ReLU, a 3x3 convolution to C channels and tanh, so images lie in
 * [-1, 1]. l1 and the last convolution have Xavier gain 1.
 *
 * <p>Variables, under the given scope, by Mimicry's module names ({@code netG.state_dict()} keys in brackets; PyTorch
 * conv weights OIHW become HWIO kernels, linear weights [out, in] become [in, out]): {@code l1/kernel},
 * {@code l1/bias} [l1.weight, l1.bias]; for each block i = 2 .. k+1 {@code block<i>/b1/gamma}, {@code .../b1/beta},
 * {@code .../b1/moving_mean}, {@code .../b1/moving_variance} [block<i>.b1.weight, .bias, .running_mean,
 * .running_var], the same for {@code b2}, {@code block<i>/c1/kernel}, {@code .../c1/bias}, {@code c2}, {@code c_sc}
 * [block<i>.c1.weight, ...]; {@code b<k+2>} and {@code c<k+2>} (b5 and c5 at 32x32) [b5.*, c5.*]. Mimicry's
 * {@code num_batches_tracked} has no counterpart. PyTorch's running variance is the unbiased batch variance and
 * genzoo's BatchNorm averages the biased one (a factor n/(n-1), n = N H W >= 1024 at batch 64).
 */
public final class ResNetGenerator implements Generator {
  private final SnganConfig.Model m;
  private final Layers.Linear l1;
  private final List<GBlock> blocks = new ArrayList<>();
  private final BatchNorm bnOut;
  private final Layers.Conv convOut;
  private final Map<String, Output<TFloating>> params = new LinkedHashMap<>();

  public ResNetGenerator(VarScope scope, SnganConfig.Model m) {
    this.m = m;
    long b = m.bottomWidth();
    this.l1 = new Layers.Linear(scope.child("l1"), m.zDim(), b * b * m.ngf(), 1.0, params);
    int k = m.upBlocks();
    for (int i = 0; i < k; i++) {
      blocks.add(new GBlock(scope.child("block" + (i + 2)), m.ngf(), m.ngf(), true, m.upsample(), params));
    }
    this.bnOut = new BatchNorm(scope.child("b" + (k + 2)), m.ngf(), 0.9, 1e-5);
    this.convOut = new Layers.Conv(scope.child("c" + (k + 2)), 3, m.ngf(), m.dataShape()[2], 1.0, params);
  }

  @Override
  public Operand<TFloating> call(Ops tf, Operand<TFloating> z, Pass pass) {
    long b = m.bottomWidth();
    Operand<TFloating> h = l1.call(tf, z);
    h = tf.linalg.transpose(tf.reshape(h, tf.constant(new long[] {-1, m.ngf(), b, b})),
        tf.constant(new int[] {0, 2, 3, 1}));
    for (GBlock block : blocks) {
      h = block.call(tf, h, pass);
    }
    h = tf.nn.relu(bnOut.call(tf, pass, h));
    return tf.math.tanh(convOut.call(tf, h));
  }
}
