package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.VarScope;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/** A normalisation inside the score networks: InstanceNorm++ (the index is ignored) or its conditional form. */
@FunctionalInterface
interface NormLayer {
  Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> sigmaIndex);

  /** Creates the normalisation of a layer with {@code channels} channels in {@code scope}. */
  @FunctionalInterface
  interface Factory {
    NormLayer create(VarScope scope, long channels);
  }

  static Factory instanceNormPlus() {
    return (scope, channels) -> {
      InstanceNormPlus norm = new InstanceNormPlus(scope, channels);
      return (tf, x, sigmaIndex) -> norm.call(tf, x);
    };
  }

  static Factory conditionalInstanceNormPlus(long numClasses) {
    return (scope, channels) -> new ConditionalInstanceNormPlus(scope, channels, numClasses)::call;
  }
}
