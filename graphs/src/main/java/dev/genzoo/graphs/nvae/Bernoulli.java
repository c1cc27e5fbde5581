package dev.genzoo.graphs.nvae;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The factorised Bernoulli decoder NVAE uses for binarised MNIST (Vahdat &amp; Kautz 2020, section 5; upstream
 * distributions.py, Bernoulli): p(x = 1) = sigmoid(logit), elementwise over logits of any shape.
 */
public final class Bernoulli {
  private Bernoulli() {}

  /** log p(x) = x logit - softplus(logit) for x in {0, 1}, elementwise (numerically stable for any logit). */
  public static Operand<TFloating> logProb(Ops tf, Operand<TFloating> logits, Operand<TFloating> x01) {
    return tf.math.sub(tf.math.mul(x01, logits), tf.math.softplus(logits));
  }

  /** A draw in {0, 1} (dtype of the logits): 1 where u &lt; sigmoid(logit) for u uniform on [0, 1). */
  public static Operand<TFloating> sample(Ops tf, Operand<TFloating> logits, Operand<TInt64> seed) {
    Class<TFloating> dt = logits.type();
    Operand<TFloating> u = tf.random.statelessRandomUniform(tf.shape(logits), seed, dt);
    return tf.dtypes.cast(tf.math.less(u, tf.math.sigmoid(logits)), dt);
  }

  /** The mean p(x = 1) = sigmoid(logit). */
  public static Operand<TFloating> mean(Ops tf, Operand<TFloating> logits) {
    return tf.math.sigmoid(logits);
  }

  /** The entropy per element, softplus(l) - l sigmoid(l) (nats). */
  public static Operand<TFloating> entropy(Ops tf, Operand<TFloating> logits) {
    return tf.math.sub(tf.math.softplus(logits), tf.math.mul(logits, tf.math.sigmoid(logits)));
  }
}
