package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Pass;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** A GAN generator G(z): latents [N, zDim] to examples [N, ...] in model space. */
public interface Generator {
  /**
   * @param pass a training pass normalises with batch statistics and records the moving-average updates of its
   *     BatchNorms; an inference pass uses the moving statistics
   */
  Operand<TFloating> call(Ops tf, Operand<TFloating> z, Pass pass);
}
