package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.nn.ActNorm;
import dev.genzoo.graphs.nn.BatchNorm;
import dev.genzoo.graphs.nn.Conv2d;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Mlp;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.ResBlock;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.ZeroInitOutput;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** The network inside a coupling layer, from the conditioning half to the parameters of the transformed half. */
interface CouplingNet {
  Operand<TFloating> call(Ops tf, Pass pass, Operand<TFloating> x);

  /**
   * Glow's coupling network (Kingma & Dhariwal 2018, appendix): conv 3x3 -> actnorm -> ReLU -> conv 1x1 -> actnorm ->
   * ReLU -> zero-initialised conv 3x3. Scopes: conv_in, actnorm_in, conv_hidden, actnorm_hidden, conv_out.
   */
  static CouplingNet glowConv(VarScope s, long in, long width, long out) {
    Conv2d convIn = new Conv2d(s.child("conv_in"), 3, in, width, 1, "SAME", false, Initializer.normal(0.05));
    ActNorm normIn = new ActNorm(s.child("actnorm_in"), width);
    Conv2d convHidden = new Conv2d(s.child("conv_hidden"), 1, width, width, 1, "SAME", false,
        Initializer.normal(0.05));
    ActNorm normHidden = new ActNorm(s.child("actnorm_hidden"), width);
    ZeroInitOutput convOut = new ZeroInitOutput(s.child("conv_out"), 3, width, out);
    Class<TFloating> dt = s.dtype();
    return (tf, pass, x) -> {
      Operand<TFloating> h = tf.nn.relu(normIn.call(tf, pass, convIn.call(tf, x)));
      h = tf.nn.relu(normHidden.call(tf, pass, convHidden.call(tf, h)));
      return convOut.call(tf, dt, h);
    };
  }

  /**
   * RealNVP's s/t network (Dinh et al. 2017, section 4.1): conv 3x3 -> residual blocks with batch norm -> BN -> ReLU
   * -> conv 3x3, the last initialised to zero so the coupling starts as the identity.
   * Scopes: conv_in, res_0 ... res_{B-1}, bn_out, conv_out.
   */
  static CouplingNet resNet(VarScope s, long in, long width, int blocks, long out) {
    Conv2d convIn = new Conv2d(s.child("conv_in"), 3, in, width, 1, "SAME", true, Initializer.heNormal());
    List<ResBlock> res = new ArrayList<>();
    for (int i = 0; i < blocks; i++) {
      res.add(new ResBlock(s.child("res", i), width));
    }
    BatchNorm bnOut = new BatchNorm(s.child("bn_out"), width);
    Conv2d convOut = new Conv2d(s.child("conv_out"), 3, width, out, 1, "SAME", true, Initializer.zeros());
    return (tf, pass, x) -> {
      Operand<TFloating> h = convIn.call(tf, x);
      for (ResBlock r : res) {
        h = r.call(tf, pass, h);
      }
      return convOut.call(tf, tf.nn.relu(bnOut.call(tf, pass, h)));
    };
  }

  /** Two hidden ReLU layers of {@code width} and a zero-initialised output, for points. Scope: mlp. */
  static CouplingNet mlp(VarScope s, long in, long width, long out) {
    Mlp m = new Mlp(s.child("mlp"), in, new long[] {width, width}, out, Mlp.Activation.RELU, true);
    return (tf, pass, x) -> m.call(tf, x);
  }
}
