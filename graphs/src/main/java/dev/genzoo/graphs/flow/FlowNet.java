package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.flow.FlowConfig.Architecture;
import dev.genzoo.graphs.flow.FlowConfig.Coupling;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.ZeroInitOutput;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The invertible network of a coupling flow (Glow, RealNVP, NICE) as levels: each level is a sequence of flow layers
 * followed, except at the last level, by a split that factors out half of the channels under a prior (a learned
 * conditional Gaussian for Glow, N(0, I) for RealNVP). The last level's output gets the top prior (learned per
 * channel with Glow's learntop, else N(0, I)).
 *
 * <p>Latents are returned in the order they are factored out, the top latent last.
 */
final class FlowNet {
  /** The result of the forward (data to latent) direction. */
  record Forward(List<Operand<TFloating>> latents, Operand<TFloating> logDet, Operand<TFloating> logPrior) {}

  /** Where the reverse direction gets its latents: given values, or draws from the priors. */
  interface LatentSource {
    /**
     * @param index the latent's position (0 = first factored out, last = top)
     * @param shape its shape without the batch axis
     * @param mean the prior mean (broadcastable), or null for N(0, I)
     * @param logScale the prior log-scale, or null for N(0, I)
     */
    Operand<TFloating> latent(Ops tf, int index, long[] shape, Operand<TFloating> mean, Operand<TFloating> logScale);
  }

  private record Level(List<FlowLayer> layers, ZeroInitOutput splitPrior, boolean split) {}

  private final List<Level> levels = new ArrayList<>();
  private final List<long[]> latentShapes = new ArrayList<>();
  private final Output<TFloating> topMean;
  private final Output<TFloating> topLogs;
  private final Class<TFloating> dt;

  FlowNet(VarScope scope, FlowConfig.Model m) {
    this.dt = scope.dtype();
    long[] shape = m.dataShape().clone();
    if (m.isImage()) {
      for (int i = 0; i < m.levels(); i++) {
        boolean last = i == m.levels() - 1;
        List<FlowLayer> layers = new ArrayList<>();
        ZeroInitOutput prior = null;
        if (m.architecture() == Architecture.GLOW) {
          VarScope level = scope.child("level", i);
          layers.add(new Squeeze());
          shape = new long[] {shape[0] / 2, shape[1] / 2, shape[2] * 4};
          for (int k = 0; k < m.steps(); k++) {
            addGlowStep(layers, level.child("step", k), shape, true, m);
          }
          if (!last) {
            long c1 = shape[2] / 2;
            long c2 = shape[2] - c1;
            prior = new ZeroInitOutput(level.child("split_prior"), 3, c1, 2 * c2);
          }
        } else if (m.architecture() == Architecture.REALNVP) {
          VarScope level = scope.child("scale", i);
          int checkerboards = last ? 4 : 3;
          for (int k = 0; k < checkerboards; k++) {
            layers.add(new RealNvpCoupling(level.child("checkerboard", k), shape,
                RealNvpCoupling.Mask.CHECKERBOARD, k % 2, m.width(), m.resBlocks()));
          }
          if (!last) {
            layers.add(new Squeeze());
            shape = new long[] {shape[0] / 2, shape[1] / 2, shape[2] * 4};
            for (int k = 0; k < 3; k++) {
              layers.add(new RealNvpCoupling(level.child("channelwise", k), shape, RealNvpCoupling.Mask.CHANNEL,
                  k % 2, m.width(), m.resBlocks()));
            }
          }
        } else {
          throw new IllegalArgumentException(m.architecture() + " is not an image flow");
        }
        if (!last) {
          long c1 = shape[2] / 2;
          latentShapes.add(new long[] {shape[0], shape[1], shape[2] - c1});
          shape = new long[] {shape[0], shape[1], c1};
        }
        levels.add(new Level(layers, prior, !last));
      }
    } else {
      List<FlowLayer> layers = new ArrayList<>();
      int d = (int) shape[0];
      for (int k = 0; k < m.steps(); k++) {
        switch (m.architecture()) {
          case GLOW -> addGlowStep(layers, scope.child("step", k), shape, false, m);
          case REALNVP -> layers.add(new RealNvpCoupling(scope.child("coupling", k), shape,
              RealNvpCoupling.Mask.CHANNEL, k % 2, m.width(), 0));
          case NICE -> layers.add(new AffineCoupling(scope.child("coupling", k), d, false, m.width(),
              m.coupling() == Coupling.AFFINE, k % 2));
          default -> throw new IllegalArgumentException(m.architecture() + " is not a coupling flow");
        }
      }
      if (m.architecture() == Architecture.NICE) {
        layers.add(new DiagonalScale(scope.child("scaling"), d));
      }
      levels.add(new Level(layers, null, false));
    }
    latentShapes.add(shape);
    long topChannels = shape[shape.length - 1];
    if (m.learnTop()) {
      VarScope top = scope.child("top_prior");
      this.topMean = top.variable("mean", new long[] {topChannels}, Initializer.zeros());
      this.topLogs = top.variable("logs", new long[] {topChannels}, Initializer.zeros());
    } else {
      this.topMean = null;
      this.topLogs = null;
    }
  }

  /** Glow's step of flow: actnorm, invertible 1x1 convolution, coupling. */
  private static void addGlowStep(List<FlowLayer> layers, VarScope step, long[] shape, boolean image,
      FlowConfig.Model m) {
    int c = (int) shape[shape.length - 1];
    layers.add(new ActNormLayer(step.child("actnorm"), c));
    layers.add(new InvertibleLinear(step.child("invconv"), c));
    layers.add(new AffineCoupling(step.child("coupling"), c, image, m.width(), m.coupling() == Coupling.AFFINE, 0));
  }

  /** Shapes of the latents (without the batch axis), in order. */
  List<long[]> latentShapes() {
    return latentShapes;
  }

  Forward forward(Ops tf, Pass pass, Operand<TFloating> x) {
    Operand<TFloating> zeros = tf.math.mul(Flows.sumPerExample(tf, x), Tensors.constant(tf, dt, 0.0));
    LogDet logDet = new LogDet(tf, zeros);
    Operand<TFloating> logPrior = zeros;
    List<Operand<TFloating>> latents = new ArrayList<>();
    Operand<TFloating> h = x;
    for (Level level : levels) {
      for (FlowLayer layer : level.layers()) {
        h = layer.forward(tf, pass, h, logDet);
      }
      if (level.split()) {
        int c = Flows.channels(h);
        Operand<TFloating> z1 = Flows.channelSlice(tf, h, 0, c / 2);
        Operand<TFloating> z2 = Flows.channelSlice(tf, h, c / 2, c);
        Operand<TFloating>[] ml = splitPrior(tf, level, z1);
        logPrior = tf.math.add(logPrior, Flows.sumPerExample(tf, logDensity(tf, z2, ml[0], ml[1])));
        latents.add(z2);
        h = z1;
      }
    }
    logPrior = tf.math.add(logPrior, Flows.sumPerExample(tf, logDensity(tf, h, topMean, topLogs)));
    latents.add(h);
    return new Forward(latents, logDet.total(), logPrior);
  }

  Operand<TFloating> reverse(Ops tf, LatentSource source) {
    int top = latentShapes.size() - 1;
    Operand<TFloating> h = source.latent(tf, top, latentShapes.get(top), topMean, topLogs);
    int index = top;
    for (int li = levels.size() - 1; li >= 0; li--) {
      Level level = levels.get(li);
      if (level.split()) {
        index--;
        Operand<TFloating>[] ml = splitPrior(tf, level, h);
        Operand<TFloating> z2 = source.latent(tf, index, latentShapes.get(index), ml[0], ml[1]);
        h = Flows.concatChannels(tf, h, z2);
      }
      List<FlowLayer> layers = level.layers();
      for (int k = layers.size() - 1; k >= 0; k--) {
        h = layers.get(k).inverse(tf, h);
      }
    }
    return h;
  }

  /** The split prior's (mean, logs) given the kept half, or (null, null) for N(0, I). */
  private Operand<TFloating>[] splitPrior(Ops tf, Level level, Operand<TFloating> z1) {
    @SuppressWarnings("unchecked")
    Operand<TFloating>[] ml = new Operand[2];
    if (level.splitPrior() != null) {
      Operand<TFloating> p = level.splitPrior().call(tf, dt, z1);
      ml[0] = Flows.channelStride2(tf, p, 0);
      ml[1] = Flows.channelStride2(tf, p, 1);
    }
    return ml;
  }

  private Operand<TFloating> logDensity(Ops tf, Operand<TFloating> z, Operand<TFloating> mean,
      Operand<TFloating> logs) {
    if (mean == null) {
      return Tensors.standardNormalLogDensity(tf, dt, z);
    }
    return Tensors.gaussianLogDensity(tf, dt, z, mean, logs);
  }
}
