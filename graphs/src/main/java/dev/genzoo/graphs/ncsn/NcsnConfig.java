package dev.genzoo.graphs.ncsn;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A noise-conditional score network: the network, the noise levels, training and annealed Langevin sampling.
 *
 * <ul>
 *   <li>NCSN, Song & Ermon 2019, "Generative Modeling by Estimating Gradients of the Data Distribution": a RefineNet
 *       conditioned on the level by conditional instance norm++, L = 10 levels from 1 to 0.01, T = 100, eps = 2e-5.
 *   <li>NCSNv2, Song & Ermon 2020, "Improved Techniques for Training Score-Based Generative Models": an unconditional
 *       RefineNet whose output is divided by sigma, sigma_1 = 50 (about the largest distance between CIFAR-10 images),
 *       L = 232, T = 5, eps = 6.2e-6, EMA 0.999, the final denoising step.
 * </ul>
 *
 * @param preset the preset this config started from (informational)
 * @param model the score network
 * @param noise the noise levels
 * @param training optimiser and schedule
 * @param sampling annealed Langevin settings
 */
public record NcsnConfig(String preset, Model model, Noise noise, TrainingConfig training, Sampling sampling) {

  /** The score network. */
  public enum Network {
    /** NCSN's CondRefineNetDilated: conditional instance norm++ on the noise-level index; returns the score. */
    REFINENET_V1,
    /** NCSNv2's unconditional RefineNet with instance norm++; the score is its output divided by sigma. */
    REFINENET_V2,
    /** A residual MLP for points, conditioned on the level index, output divided by sigma (NCSNv2's technique 3). */
    MLP
  }

  /**
   * @param network the architecture
   * @param dataShape one example: [H, W, C] (images, on [0, 1] in model space) or [d] (points)
   * @param ngf RefineNet base filters, or the MLP's width
   * @param depth residual layers of the MLP (unused by RefineNets)
   */
  public record Model(Network network, long[] dataShape, int ngf, int depth) {
    public Model {
      Objects.requireNonNull(network, "model.network");
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [d] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      if ((network == Network.MLP) != (dataShape.length == 1)) {
        throw new IllegalArgumentException("model.network " + network + " does not fit model.dataShape "
            + Arrays.toString(dataShape) + ": MLP is for points, REFINENET_V1/V2 for images");
      }
      if (ngf <= 0 || (network == Network.MLP && depth <= 0)) {
        throw new IllegalArgumentException("model.ngf (and model.depth for an MLP) must be positive");
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
      return o instanceof Model m && network == m.network && Arrays.equals(dataShape, m.dataShape) && ngf == m.ngf
          && depth == m.depth;
    }

    @Override
    public int hashCode() {
      return Objects.hash(network, Arrays.hashCode(dataShape), ngf, depth);
    }
  }

  /**
   * A geometric sequence of noise levels.
   *
   * @param sigmaBegin sigma_1, the largest
   * @param sigmaEnd sigma_L, the smallest
   * @param numScales L
   */
  public record Noise(double sigmaBegin, double sigmaEnd, int numScales) {
    public Noise {
      NoiseLevels.geometric(sigmaBegin, sigmaEnd, numScales);
    }
  }

  /**
   * @param stepsPerSigma T, Langevin steps per level
   * @param stepLr epsilon: the step at level i is alpha_i = epsilon sigma_i^2 / sigma_L^2
   * @param finalDenoise end with Tweedie's denoising step x + sigma_L^2 s(x, sigma_L) (NCSNv2)
   * @param batchSize largest batch per Session.run when sampling
   */
  public record Sampling(int stepsPerSigma, double stepLr, boolean finalDenoise, int batchSize) {
    public Sampling {
      if (stepsPerSigma <= 0 || !(stepLr > 0)) {
        throw new IllegalArgumentException("sampling.stepsPerSigma and sampling.stepLr must be positive");
      }
    }
  }

  public NcsnConfig withTraining(TrainingConfig t) {
    return new NcsnConfig(preset, model, noise, t, sampling);
  }

  @JsonIgnore
  public NoiseLevels levels() {
    return NoiseLevels.geometric(noise.sigmaBegin(), noise.sigmaEnd(), noise.numScales());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Presets

  /**
   * NCSNv2 on CIFAR-10 (Song & Ermon 2020): unconditional RefineNet, instance norm++, ELU, ngf 128; sigma 50 to 0.01
   * over L = 232 geometric levels; Adam 1e-4, batch 128, 300k steps, EMA 0.999, random flips; T = 5 per level,
   * eps = 6.2e-6 and the final denoising step.
   */
  public static NcsnConfig cifar10() {
    return new NcsnConfig("cifar10", new Model(Network.REFINENET_V2, new long[] {32, 32, 3}, 128, 0),
        new Noise(50, 0.01, 232),
        new TrainingConfig(128, 300_000, OptimizerConfig.adam(1e-4), 0, TrainingConfig.Decay.NONE, 0, 0, 0.999, 0, 0,
            false, true),
        new Sampling(5, 6.2e-6, true, 64));
  }

  /**
   * NCSN on CIFAR-10 (Song & Ermon 2019): CondRefineNetDilated with conditional instance norm++, ELU, ngf 128;
   * sigma 1 to 0.01 over L = 10 levels; Adam 1e-3, batch 128, 200k steps, no EMA; T = 100 per level, eps = 2e-5, no
   * denoising step.
   */
  public static NcsnConfig cifar10V1() {
    return new NcsnConfig("cifar10-v1", new Model(Network.REFINENET_V1, new long[] {32, 32, 3}, 128, 0),
        new Noise(1, 0.01, 10),
        new TrainingConfig(128, 200_000, OptimizerConfig.adam(1e-3), 0, TrainingConfig.Decay.NONE, 0, 0, 0, 0, 0,
            false, true),
        new Sampling(100, 2e-5, false, 64));
  }

  /** NCSNv2's network small enough for tests: ngf 16 on 8x8x3 images, L = 10 levels, T = 2. */
  public static NcsnConfig tiny() {
    return new NcsnConfig("tiny", new Model(Network.REFINENET_V2, new long[] {8, 8, 3}, 16, 0),
        new Noise(10, 0.01, 10),
        new TrainingConfig(16, 100, OptimizerConfig.adam(1e-4), 0, TrainingConfig.Decay.NONE, 0, 0, 0.99, 0, 0, false,
            true),
        new Sampling(2, 6.2e-6, true, 64));
  }

  /** NCSN v1's conditional network small enough for tests: ngf 16 on 8x8x3 images, L = 10, T = 2. */
  public static NcsnConfig tinyV1() {
    return new NcsnConfig("tiny-v1", new Model(Network.REFINENET_V1, new long[] {8, 8, 3}, 16, 0),
        new Noise(1, 0.01, 10),
        new TrainingConfig(16, 100, OptimizerConfig.adam(1e-3), 0, TrainingConfig.Decay.NONE, 0, 0, 0, 0, 0, false,
            true),
        new Sampling(2, 2e-5, false, 64));
  }

  /**
   * A score MLP for 2-D points: width 128, 4 residual layers, conditioned on the level, output divided by sigma;
   * sigma 5 to 0.01 over L = 20 levels (sigma_1 above the largest distance in the toy sets, as NCSNv2 advises);
   * T = 100 per level, eps = 2e-5, final denoising.
   */
  public static NcsnConfig toy2d() {
    return new NcsnConfig("toy2d", new Model(Network.MLP, new long[] {2}, 128, 4),
        new Noise(5, 0.01, 20),
        new TrainingConfig(256, 20000, OptimizerConfig.adam(1e-3), 200, TrainingConfig.Decay.COSINE, 1e-5, 1.0,
            0.999, 0, 0, false, false),
        new Sampling(100, 2e-5, true, 10000));
  }

  private static final Presets<NcsnConfig> PRESETS = new Presets<NcsnConfig>("ncsn")
      .add("cifar10", NcsnConfig::cifar10)
      .add("cifar10-v1", NcsnConfig::cifar10V1)
      .add("tiny", NcsnConfig::tiny)
      .add("tiny-v1", NcsnConfig::tinyV1)
      .add("toy2d", NcsnConfig::toy2d);

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static NcsnConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, the headline CIFAR-10 one first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
