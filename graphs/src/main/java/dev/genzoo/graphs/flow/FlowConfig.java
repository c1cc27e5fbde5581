package dev.genzoo.graphs.flow;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;

/**
 * A normalising flow: architecture, training and sampling, with the presets of the papers.
 *
 * <ul>
 *   <li>{@link Architecture#GLOW}: Kingma & Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1 Convolutions".
 *       Multi-scale: per level a squeeze, K steps of (actnorm, invertible 1x1 convolution with the LU parametrisation,
 *       affine coupling), and a split whose factored-out half gets a learned conditional Gaussian prior; a learned
 *       top prior.
 *   <li>{@link Architecture#REALNVP}: Dinh, Sohl-Dickstein & Bengio 2017, "Density estimation using Real NVP".
 *       Logit preprocessing; per scale three checkerboard-masked affine couplings, a squeeze, three channel-wise
 *       couplings and a factor-out; four checkerboard couplings at the last scale; ResNet s/t networks with batch norm.
 *   <li>{@link Architecture#NICE}: Dinh, Krueger & Bengio 2015, "NICE": additive couplings and a diagonal scaling.
 *   <li>{@link Architecture#PLANAR}: Rezende & Mohamed 2015, "Variational Inference with Normalizing Flows": planar
 *       layers f(z) = z + u tanh(w^T z + b), trained by reverse KL against an analytic target density.
 * </ul>
 *
 * @param preset the preset this config started from (informational)
 * @param model the architecture
 * @param training the training hyper-parameters
 * @param sampling sampling defaults
 */
public record FlowConfig(String preset, Model model, TrainingConfig training, Sampling sampling) {

  public enum Architecture { GLOW, REALNVP, NICE, PLANAR }

  public FlowConfig withTraining(TrainingConfig t) {
    return new FlowConfig(preset, model, t, sampling);
  }

  public enum Coupling { AFFINE, ADDITIVE }

  /** How 8-bit images enter model space: SHIFT y = x/256 - 1/2 (Glow); LOGIT y = logit(a + (1-2a) x/256) (RealNVP). */
  public enum Preprocess { NONE, SHIFT, LOGIT }

  /**
   * @param architecture GLOW, REALNVP, NICE or PLANAR
   * @param dataShape one example: [H, W, C] for 8-bit images, [d] for points
   * @param levels Glow levels L / RealNVP scales (images); unused for points
   * @param steps flow steps K per level (Glow), coupling layers (2-D RealNVP, NICE) or planar layers
   * @param width hidden channels of the coupling networks
   * @param resBlocks residual blocks per RealNVP s/t network
   * @param coupling AFFINE or ADDITIVE (Glow, NICE)
   * @param learnTop learn the mean and log-scale of the top prior (Glow's learntop)
   * @param preprocess how images enter model space
   * @param logitAlpha RealNVP's alpha in the logit preprocessing (0.05)
   * @param target PLANAR only: the analytic target density, a toy name ("8gaussians")
   */
  public record Model(Architecture architecture, long[] dataShape, int levels, int steps, int width, int resBlocks,
      Coupling coupling, boolean learnTop, Preprocess preprocess, double logitAlpha, String target) {
    public Model {
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [d] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      if (steps <= 0 || width <= 0) {
        throw new IllegalArgumentException("model.steps and model.width must be positive");
      }
      if (dataShape.length == 3) {
        if (architecture == Architecture.NICE || architecture == Architecture.PLANAR) {
          throw new IllegalArgumentException("model.architecture " + architecture + " is for points (dataShape [d])");
        }
        if (levels <= 0) {
          throw new IllegalArgumentException("model.levels must be positive for images");
        }
        long div = 1L << levels;
        if (dataShape[0] % div != 0 || dataShape[1] % div != 0) {
          throw new IllegalArgumentException("model.dataShape " + Arrays.toString(dataShape) + ": height and width "
              + "must be divisible by 2^levels = " + div);
        }
        if (preprocess == Preprocess.NONE) {
          throw new IllegalArgumentException("model.preprocess must be SHIFT or LOGIT for images");
        }
      } else if (dataShape[0] < 1) {
        throw new IllegalArgumentException("model.dataShape [d] needs d >= 1");
      }
      if (architecture == Architecture.PLANAR && (target == null || target.isEmpty())) {
        throw new IllegalArgumentException("model.target must name the target density of a planar flow");
      }
      if (!(logitAlpha >= 0 && logitAlpha < 0.5)) {
        throw new IllegalArgumentException("model.logitAlpha must lie in [0, 0.5), got " + logitAlpha);
      }
    }

    @JsonIgnore
    public boolean isImage() {
      return dataShape.length == 3;
    }

    @JsonIgnore
    public long dims() {
      return Tensors.size(dataShape);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Model m && architecture == m.architecture && Arrays.equals(dataShape, m.dataShape)
          && levels == m.levels && steps == m.steps && width == m.width && resBlocks == m.resBlocks
          && coupling == m.coupling && learnTop == m.learnTop && preprocess == m.preprocess
          && logitAlpha == m.logitAlpha && java.util.Objects.equals(target, m.target);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(dataShape) * 31 + java.util.Objects.hash(architecture, levels, steps, width, resBlocks,
          coupling, learnTop, preprocess, logitAlpha, target);
    }

    @Override
    public String toString() {
      return architecture + Arrays.toString(dataShape) + " L=" + levels + " K=" + steps + " width=" + width;
    }
  }

  /**
   * @param temperature default temperature of the prior noise
   * @param batchSize largest batch per Session.run when sampling
   */
  public record Sampling(double temperature, int batchSize) {}

  // ---------------------------------------------------------------------------------------------------------------
  // Presets

  /**
   * Glow on CIFAR-10 as Kingma & Dhariwal 2018 (3.35 bits/dim): L = 3, K = 32, width 512, affine coupling, learned
   * top prior, Adamax 1e-3, batch 64, data-dependent init on 256 images, Polyak averaging. (Not in genzoo: the
   * original's edge-bias padding channel, which adds a few parameters per convolution.)
   */
  public static FlowConfig glowCifar10() {
    return new FlowConfig("glow-cifar10",
        new Model(Architecture.GLOW, new long[] {32, 32, 3}, 3, 32, 512, 0, Coupling.AFFINE, true,
            Preprocess.SHIFT, 0.05, null),
        new TrainingConfig(64, 1_000_000, OptimizerConfig.adamax(1e-3), 7813, TrainingConfig.Decay.NONE, 0, 0,
            0.999, 0, 256, true, false),
        new Sampling(1.0, 64));
  }

  /**
   * RealNVP on CIFAR-10 as Dinh et al. 2017 (3.49 bits/dim): two scales (one downscaling), s/t ResNets of 8 residual
   * blocks with 64 features and batch norm, logit preprocessing with alpha 0.05, L2 5e-5, Adam 1e-3, batch 64.
   */
  public static FlowConfig realNvpCifar10() {
    return new FlowConfig("realnvp-cifar10",
        new Model(Architecture.REALNVP, new long[] {32, 32, 3}, 2, 3, 64, 8, Coupling.AFFINE, false,
            Preprocess.LOGIT, 0.05, null),
        new TrainingConfig(64, 1_000_000, OptimizerConfig.adam(1e-3), 0, TrainingConfig.Decay.NONE, 0, 0, 0, 5e-5,
            0, true, true),
        new Sampling(1.0, 64));
  }

  /**
   * A Glow for 28x28 MNIST small enough to train on a CPU in well under an hour: L = 2, K = 8, width 96. Trained on
   * dequantised 8-bit digits (the same accounting as CIFAR-10; published MNIST flows report about 1.05 bits/dim).
   */
  public static FlowConfig mnist() {
    return new FlowConfig("mnist",
        new Model(Architecture.GLOW, new long[] {28, 28, 1}, 2, 8, 96, 0, Coupling.AFFINE, true,
            Preprocess.SHIFT, 0.05, null),
        new TrainingConfig(64, 6000, OptimizerConfig.adamax(2e-3), 200, TrainingConfig.Decay.COSINE, 2e-4, 50,
            0.999, 0, 256, true, false),
        new Sampling(1.0, 64));
  }

  /** A Glow small enough for tests: 8x8x3 images, L = 2, K = 2, width 16. */
  public static FlowConfig tiny() {
    return new FlowConfig("tiny",
        new Model(Architecture.GLOW, new long[] {8, 8, 3}, 2, 2, 16, 0, Coupling.AFFINE, true,
            Preprocess.SHIFT, 0.05, null),
        new TrainingConfig(16, 100, OptimizerConfig.adamax(1e-3), 10, TrainingConfig.Decay.NONE, 0, 0, 0.99, 0,
            32, true, false),
        new Sampling(1.0, 64));
  }

  /** A RealNVP small enough for tests: 8x8x3 images, two scales, 1 residual block of width 16. */
  public static FlowConfig realNvpTiny() {
    return new FlowConfig("realnvp-tiny",
        new Model(Architecture.REALNVP, new long[] {8, 8, 3}, 2, 3, 16, 1, Coupling.AFFINE, false,
            Preprocess.LOGIT, 0.05, null),
        new TrainingConfig(16, 100, OptimizerConfig.adam(1e-3), 0, TrainingConfig.Decay.NONE, 0, 100, 0, 5e-5, 0,
            true, true),
        new Sampling(1.0, 64));
  }

  /** A 2-D Glow for the toy densities: K = 8 steps of actnorm, invertible linear map and MLP affine coupling. */
  public static FlowConfig toy2d() {
    return new FlowConfig("toy2d",
        new Model(Architecture.GLOW, new long[] {2}, 1, 8, 64, 0, Coupling.AFFINE, false, Preprocess.NONE, 0.05,
            null),
        new TrainingConfig(256, 3000, OptimizerConfig.adam(2e-3), 100, TrainingConfig.Decay.COSINE, 1e-4, 50, 0.99,
            0, 512, false, false),
        new Sampling(1.0, 4096));
  }

  /** A 2-D RealNVP: 8 alternating affine couplings with tanh-bounded log-scales and MLP s/t networks. */
  public static FlowConfig realNvpToy2d() {
    return new FlowConfig("realnvp-toy2d",
        new Model(Architecture.REALNVP, new long[] {2}, 1, 8, 64, 0, Coupling.AFFINE, false, Preprocess.NONE, 0.05,
            null),
        new TrainingConfig(256, 3000, OptimizerConfig.adam(2e-3), 100, TrainingConfig.Decay.COSINE, 1e-4, 50, 0.99,
            0, 0, false, false),
        new Sampling(1.0, 4096));
  }

  /** A 2-D NICE: 6 additive couplings and a diagonal scaling layer. */
  public static FlowConfig niceToy2d() {
    return new FlowConfig("nice-toy2d",
        new Model(Architecture.NICE, new long[] {2}, 1, 6, 64, 0, Coupling.ADDITIVE, false, Preprocess.NONE, 0.05,
            null),
        new TrainingConfig(256, 3000, OptimizerConfig.adam(2e-3), 100, TrainingConfig.Decay.COSINE, 1e-4, 50, 0.99,
            0, 0, false, false),
        new Sampling(1.0, 4096));
  }

  /** A 2-D planar flow of 32 layers fitted by reverse KL to the analytic toy:8gaussians density. */
  public static FlowConfig planarToy2d() {
    return new FlowConfig("planar-toy2d",
        new Model(Architecture.PLANAR, new long[] {2}, 1, 32, 1, 0, Coupling.AFFINE, false, Preprocess.NONE, 0.05,
            "8gaussians"),
        new TrainingConfig(512, 4000, OptimizerConfig.adam(5e-3), 100, TrainingConfig.Decay.COSINE, 1e-4, 50, 0.99,
            0, 0, false, false),
        new Sampling(1.0, 4096));
  }

  private static final Presets<FlowConfig> PRESETS = new Presets<FlowConfig>("flow")
      .add("glow-cifar10", FlowConfig::glowCifar10)
      .add("realnvp-cifar10", FlowConfig::realNvpCifar10)
      .add("mnist", FlowConfig::mnist)
      .add("tiny", FlowConfig::tiny)
      .add("realnvp-tiny", FlowConfig::realNvpTiny)
      .add("toy2d", FlowConfig::toy2d)
      .add("realnvp-toy2d", FlowConfig::realNvpToy2d)
      .add("nice-toy2d", FlowConfig::niceToy2d)
      .add("planar-toy2d", FlowConfig::planarToy2d)
      .alias("cifar10", "glow-cifar10");

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static FlowConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, the headline CIFAR-10 one first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
