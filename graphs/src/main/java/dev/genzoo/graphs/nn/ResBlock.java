package dev.genzoo.graphs.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A pre-activation residual block (He et al. 2016, "Identity mappings"): x + conv(relu(bn(conv(relu(bn(x)))))),
 * 3x3 convolutions, constant width. The block of RealNVP's s/t networks (Dinh et al. 2017, section 4.1).
 * Scopes: {@code bn_0}, {@code conv_0}, {@code bn_1}, {@code conv_1}.
 */
public final class ResBlock {
  private final BatchNorm bn0;
  private final Conv2d conv0;
  private final BatchNorm bn1;
  private final Conv2d conv1;

  public ResBlock(VarScope scope, long channels) {
    this.bn0 = new BatchNorm(scope.child("bn_0"), channels);
    this.conv0 = new Conv2d(scope.child("conv_0"), 3, channels, channels, 1, "SAME", false, Initializer.heNormal());
    this.bn1 = new BatchNorm(scope.child("bn_1"), channels);
    this.conv1 = new Conv2d(scope.child("conv_1"), 3, channels, channels, 1, "SAME", true, Initializer.heNormal());
  }

  public Operand<TFloating> call(Ops tf, Pass pass, Operand<TFloating> x) {
    Operand<TFloating> h = conv0.call(tf, tf.nn.relu(bn0.call(tf, pass, x)));
    h = conv1.call(tf, tf.nn.relu(bn1.call(tf, pass, h)));
    return tf.math.add(x, h);
  }
}
