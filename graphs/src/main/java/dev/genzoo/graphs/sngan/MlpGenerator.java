package dev.genzoo.graphs.sngan;

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
 * A generator for points: {@code depth} dense layers of width ngf with ReLU ({@code dense_0 ...}), then a linear
 * layer {@code out} to the data dimension. Kernels Xavier-uniform (gain 1), biases PyTorch's default.
 */
public final class MlpGenerator implements Generator {
  private final List<Layers.Linear> hidden = new ArrayList<>();
  private final Layers.Linear out;

  public MlpGenerator(VarScope scope, SnganConfig.Model m) {
    Map<String, Output<TFloating>> params = new LinkedHashMap<>();
    long prev = m.zDim();
    for (int i = 0; i < m.depth(); i++) {
      hidden.add(new Layers.Linear(scope.child("dense", i), prev, m.ngf(), 1.0, params));
      prev = m.ngf();
    }
    this.out = new Layers.Linear(scope.child("out"), prev, m.dataShape()[0], 1.0, params);
  }

  @Override
  public Operand<TFloating> call(Ops tf, Operand<TFloating> z, Pass pass) {
    Operand<TFloating> h = z;
    for (Layers.Linear d : hidden) {
      h = tf.nn.relu(d.call(tf, h));
    }
    return out.call(tf, h);
  }
}
