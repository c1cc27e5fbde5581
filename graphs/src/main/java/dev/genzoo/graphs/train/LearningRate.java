package dev.genzoo.graphs.train;

import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The learning rate as a function of the step, computed in the graph so that one {@code Session.run} is one step:
 * linear warm-up over {@code warmupSteps} (Goyal et al. 2017), then constant, cosine (Loshchilov & Hutter 2017) or
 * linear decay to {@code finalLearningRate} at {@code steps}.
 */
public final class LearningRate {
  private LearningRate() {}

  public static Operand<TFloating> schedule(Ops tf, Class<TFloating> dt, TrainingConfig cfg, Operand<TInt64> step) {
    Operand<TFloating> t = tf.dtypes.cast(step, dt);
    Operand<TFloating> base = Tensors.constant(tf, dt, cfg.optimizer().learningRate());
    Operand<TFloating> one = Tensors.constant(tf, dt, 1.0);
    Operand<TFloating> lr = base;
    if (cfg.decay() != TrainingConfig.Decay.NONE && cfg.steps() > cfg.warmupSteps()) {
      double span = cfg.steps() - cfg.warmupSteps();
      Operand<TFloating> progress = tf.math.minimum(one, tf.math.maximum(Tensors.constant(tf, dt, 0.0),
          tf.math.div(tf.math.sub(t, Tensors.constant(tf, dt, cfg.warmupSteps())), Tensors.constant(tf, dt, span))));
      Operand<TFloating> shape = switch (cfg.decay()) {
        case COSINE -> tf.math.mul(Tensors.constant(tf, dt, 0.5),
            tf.math.add(one, tf.math.cos(tf.math.mul(progress, Tensors.constant(tf, dt, Math.PI)))));
        case LINEAR -> tf.math.sub(one, progress);
        case NONE -> one;
      };
      Operand<TFloating> end = Tensors.constant(tf, dt, cfg.finalLearningRate());
      lr = tf.math.add(end, tf.math.mul(tf.math.sub(base, end), shape));
    }
    if (cfg.warmupSteps() > 0) {
      Operand<TFloating> warm = tf.math.minimum(one,
          tf.math.div(tf.math.add(t, one), Tensors.constant(tf, dt, cfg.warmupSteps())));
      lr = tf.math.mul(lr, warm);
    }
    return lr;
  }

  /** The same schedule on the host, for logs and tests. */
  public static double at(TrainingConfig cfg, long step) {
    double base = cfg.optimizer().learningRate();
    double lr = base;
    if (cfg.decay() != TrainingConfig.Decay.NONE && cfg.steps() > cfg.warmupSteps()) {
      double p = Math.min(1, Math.max(0, (step - cfg.warmupSteps()) / (double) (cfg.steps() - cfg.warmupSteps())));
      double shape = cfg.decay() == TrainingConfig.Decay.COSINE ? 0.5 * (1 + Math.cos(Math.PI * p)) : 1 - p;
      lr = cfg.finalLearningRate() + (base - cfg.finalLearningRate()) * shape;
    }
    if (cfg.warmupSteps() > 0) {
      lr *= Math.min(1.0, (step + 1.0) / cfg.warmupSteps());
    }
    return lr;
  }
}
