package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A spectrally normalised MLP critic for points: {@code depth} SN dense layers of width ndf with ReLU
 * ({@code dense_0 ...}), then an SN dense layer {@code out} to one logit. Kernels Xavier-uniform (gain 1), biases
 * PyTorch's default.
 */
public final class SnMlpCritic implements Critic {
  private final List<Layers.SnLinear> hidden = new ArrayList<>();
  private final Layers.SnLinear out;
  private final Map<String, Output<TFloating>> params = new LinkedHashMap<>();

  public SnMlpCritic(VarScope scope, SnganConfig.Model m) {
    long prev = m.dataShape()[0];
    for (int i = 0; i < m.depth(); i++) {
      hidden.add(new Layers.SnLinear(scope.child("dense", i), prev, m.ndf(), 1.0, params));
      prev = m.ndf();
    }
    this.out = new Layers.SnLinear(scope.child("out"), prev, 1, 1.0, params);
  }

  @Override
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Pass pass) {
    Operand<TFloating> h = x;
    for (Layers.SnLinear d : hidden) {
      h = tf.nn.relu(d.call(tf, h, pass));
    }
    return tf.reshape(out.call(tf, h, pass), tf.constant(new long[] {-1}));
  }

  @Override
  public Map<String, Output<TFloating>> trainable() {
    return Collections.unmodifiableMap(params);
  }
}
