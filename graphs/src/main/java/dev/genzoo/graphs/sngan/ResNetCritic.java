package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * SN-GAN's ResNet critic (Miyato et al. 2018, appendix B.4, Table 4(b)) as Mimicry's {@code ResNetDiscriminator32}:
 * block1 = optimised {@link DBlock}(C, ndf) with down-sampling, block2 = DBlock(ndf, ndf, down-sampling), block3 and
 * block4 = DBlock(ndf, ndf); ReLU; the global sum over height and width; l5 = dense ndf to 1 (Xavier gain 1). Every
 * layer is spectrally normalised (Miyato et al. 2018, Algorithm 1) with one power iteration per training pass.
 *
 * <p>Variables, under the given scope, by Mimicry's module names ({@code netD.state_dict()} keys of PyTorch's
 * {@code spectral_norm} in brackets): {@code block<i>/c1/kernel} [block<i>.c1.weight_orig, OIHW to HWIO],
 * {@code block<i>/c1/kernel_u} [block<i>.c1.weight_u], {@code block<i>/c1/bias} [block<i>.c1.bias], likewise
 * {@code c2} and {@code c_sc} (blocks 1 and 2); {@code l5/kernel} [l5.weight_orig transposed], {@code l5/kernel_u},
 * {@code l5/bias}. PyTorch's {@code weight_v} is not stored: a training pass recomputes v = W^T u / |W^T u| from u (as
 * PyTorch does), and an inference pass uses sigma = |W^T u|, which equals PyTorch's eval-mode u^T W v when v is that
 * same vector.
 */
public final class ResNetCritic implements Critic {
  private final DBlock block1;
  private final DBlock block2;
  private final DBlock block3;
  private final DBlock block4;
  private final Layers.SnLinear l5;
  private final Map<String, Output<TFloating>> params = new LinkedHashMap<>();

  public ResNetCritic(VarScope scope, SnganConfig.Model m) {
    long c = m.dataShape()[2];
    long ndf = m.ndf();
    this.block1 = new DBlock(scope.child("block1"), c, ndf, true, true, params);
    this.block2 = new DBlock(scope.child("block2"), ndf, ndf, true, false, params);
    this.block3 = new DBlock(scope.child("block3"), ndf, ndf, false, false, params);
    this.block4 = new DBlock(scope.child("block4"), ndf, ndf, false, false, params);
    this.l5 = new Layers.SnLinear(scope.child("l5"), ndf, 1, 1.0, params);
  }

  @Override
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> h = block1.call(tf, x, pass);
    h = block2.call(tf, h, pass);
    h = block3.call(tf, h, pass);
    h = block4.call(tf, h, pass);
    h = Tensors.sum(tf, tf.nn.relu(h), 1, 2);
    return tf.reshape(l5.call(tf, h, pass), tf.constant(new long[] {-1}));
  }

  @Override
  public Map<String, Output<TFloating>> trainable() {
    return Collections.unmodifiableMap(params);
  }
}
