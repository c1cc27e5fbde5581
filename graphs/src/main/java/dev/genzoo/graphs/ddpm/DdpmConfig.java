package dev.genzoo.graphs.ddpm;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A denoising diffusion model (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"): the noise-predicting
 * network, the diffusion process, training and sampling, grouped as the papers' code groups them.
 *
 * @param preset the preset this config started from (informational)
 * @param model the network eps_theta(x_t, t)
 * @param diffusion the forward process and the reverse-process choices
 * @param training the optimiser and schedule (Ho et al.: Adam 2e-4, warm-up 5000, clip 1.0, EMA 0.9999, flips)
 * @param sampling sampling defaults
 */
public record DdpmConfig(String preset, Model model, Diffusion diffusion, TrainingConfig training,
    Sampling sampling) {

  /** Which network predicts the noise. */
  public enum Network {
    /** The U-Net of Ho et al. (PixelCNN++ backbone, wide ResNet blocks, self-attention at 16x16). */
    UNET,
    /** A residual MLP with a sinusoidal time embedding, for points. */
    MLP
  }

  /**
   * @param network UNET (images) or MLP (points)
   * @param dataShape one example: [H, W, C] (8-bit images) or [d] (points)
   * @param ch base channels (U-Net) or hidden width (MLP)
   * @param chMult U-Net channel multipliers per resolution level
   * @param numResBlocks residual blocks per level (U-Net) or residual layers (MLP)
   * @param attnResolutions the feature-map sizes that get self-attention (U-Net)
   * @param dropout dropout rate in the residual blocks
   * @param groups GroupNorm groups (32 in Ho et al.)
   * @param numClasses 0 for an unconditional model; K > 0 for a class-conditional one, whose label embedding has a
   *     (K+1)-th "no label" row for classifier-free guidance (Ho & Salimans 2022)
   * @param classDropProb the probability p_uncond of training a conditional model without its label
   */
  public record Model(Network network, long[] dataShape, int ch, int[] chMult, int numResBlocks,
      int[] attnResolutions, double dropout, int groups, int numClasses, double classDropProb) {
    public Model {
      Objects.requireNonNull(network, "model.network");
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [d] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      if (ch <= 0 || numResBlocks <= 0) {
        throw new IllegalArgumentException("model.ch and model.numResBlocks must be positive");
      }
      if (network == Network.UNET) {
        if (dataShape.length != 3) {
          throw new IllegalArgumentException("model.network UNET needs dataShape [H, W, C]");
        }
        if (chMult == null || chMult.length == 0) {
          throw new IllegalArgumentException("model.chMult must list one multiplier per level");
        }
        long div = 1L << (chMult.length - 1);
        if (dataShape[0] % div != 0 || dataShape[1] % div != 0) {
          throw new IllegalArgumentException("model.dataShape " + Arrays.toString(dataShape) + ": height and width "
              + "must be divisible by 2^(levels - 1) = " + div);
        }
        for (int m : chMult) {
          if ((long) ch * m % groups != 0) {
            throw new IllegalArgumentException("model.groups " + groups + " must divide every level's channels ("
                + ch + " x " + m + ")");
          }
        }
      } else if (dataShape.length != 1) {
        throw new IllegalArgumentException("model.network MLP needs dataShape [d]");
      }
      if (dropout < 0 || dropout >= 1) {
        throw new IllegalArgumentException("model.dropout must lie in [0, 1), got " + dropout);
      }
      if (numClasses < 0 || classDropProb < 0 || classDropProb > 1) {
        throw new IllegalArgumentException("model.numClasses must be >= 0 and model.classDropProb in [0, 1]");
      }
      if (chMult == null) {
        chMult = new int[0];
      }
      if (attnResolutions == null) {
        attnResolutions = new int[0];
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
      return o instanceof Model m && network == m.network && Arrays.equals(dataShape, m.dataShape) && ch == m.ch
          && Arrays.equals(chMult, m.chMult) && numResBlocks == m.numResBlocks
          && Arrays.equals(attnResolutions, m.attnResolutions) && dropout == m.dropout && groups == m.groups
          && numClasses == m.numClasses && classDropProb == m.classDropProb;
    }

    @Override
    public int hashCode() {
      return Objects.hash(network, Arrays.hashCode(dataShape), ch, Arrays.hashCode(chMult), numResBlocks,
          Arrays.hashCode(attnResolutions), dropout, groups, numClasses, classDropProb);
    }

    @Override
    public String toString() {
      return network + Arrays.toString(dataShape) + " ch=" + ch + " chMult=" + Arrays.toString(chMult);
    }
  }

  /**
   * @param schedule the named beta schedule
   * @param timesteps T
   * @param betaStart first beta of the LINEAR schedule
   * @param betaEnd last beta of the LINEAR schedule
   * @param varianceType the reverse variance used by the ancestral sampler and the bound
   * @param clipDenoised clip the predicted x_0 to [-1, 1] (images) when sampling and evaluating the bound
   */
  public record Diffusion(BetaSchedule schedule, int timesteps, double betaStart, double betaEnd,
      VarianceType varianceType, boolean clipDenoised) {
    public Diffusion {
      Objects.requireNonNull(schedule, "diffusion.schedule");
      Objects.requireNonNull(varianceType, "diffusion.varianceType");
      schedule.betas(timesteps, betaStart, betaEnd);
    }
  }

  /**
   * @param sampler "ancestral" or "ddim" (see {@link DiffusionSampler#parse})
   * @param steps DDIM steps S (0: every timestep)
   * @param eta DDIM's eta (0: deterministic)
   * @param guidance classifier-free guidance weight w: eps = (1 + w) eps(x, c) - w eps(x, none)
   * @param batchSize largest batch per Session.run when sampling
   */
  public record Sampling(String sampler, int steps, double eta, double guidance, int batchSize) {}

  public DdpmConfig withTraining(TrainingConfig t) {
    return new DdpmConfig(preset, model, diffusion, t, sampling);
  }

  @JsonIgnore
  public GaussianDiffusion process() {
    return GaussianDiffusion.of(diffusion.schedule(), diffusion.timesteps(), diffusion.betaStart(),
        diffusion.betaEnd());
  }

  @JsonIgnore
  public GaussianDiffusion.Decoder decoder() {
    return model.isImage() ? GaussianDiffusion.Decoder.DISCRETIZED_GAUSSIAN : GaussianDiffusion.Decoder.GAUSSIAN;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Presets

  private static Diffusion hoLinear(boolean clip) {
    return new Diffusion(BetaSchedule.LINEAR, 1000, 1e-4, 0.02, VarianceType.FIXED_LARGE, clip);
  }

  /** Ho et al.'s training: Adam 2e-4, warm-up 5000 steps, gradient-norm clip 1.0, EMA 0.9999, random flips. */
  private static TrainingConfig hoTraining(int batch, long steps) {
    return new TrainingConfig(batch, steps, OptimizerConfig.adam(2e-4), 5000, TrainingConfig.Decay.NONE, 0, 1.0,
        0.9999, 0, 0, false, true);
  }

  /**
   * DDPM on CIFAR-10 exactly as Ho et al. 2020 (FID 3.17, IS 9.46): U-Net ch 128, ch_mult (1, 2, 2, 2), 2 residual
   * blocks per level, self-attention at 16x16, dropout 0.1, GroupNorm(32), swish, sinusoidal time embedding through
   * two dense layers (512); 35.7M parameters. T = 1000, linear betas 1e-4 to 0.02, epsilon prediction, L_simple,
   * FIXED_LARGE variance; batch 128; the released checkpoint is at step 790,000.
   */
  public static DdpmConfig cifar10() {
    return new DdpmConfig("cifar10",
        new Model(Network.UNET, new long[] {32, 32, 3}, 128, new int[] {1, 2, 2, 2}, 2, new int[] {16}, 0.1, 32, 0,
            0),
        hoLinear(true), hoTraining(128, 800_000), new Sampling("ancestral", 0, 0, 0, 64));
  }

  /**
   * The CIFAR-10 model made class-conditional with classifier-free guidance (Ho & Salimans 2022): a learned label
   * embedding (10 classes + "no label") added to the time embedding, labels dropped with probability 0.1 in training,
   * guidance weight w = 0.3 at sampling.
   */
  public static DdpmConfig cifar10Cond() {
    DdpmConfig c = cifar10();
    Model m = c.model();
    return new DdpmConfig("cifar10-cond", new Model(m.network(), m.dataShape(), m.ch(), m.chMult(),
        m.numResBlocks(), m.attnResolutions(), m.dropout(), m.groups(), 10, 0.1), c.diffusion(), c.training(),
        new Sampling("ancestral", 0, 0, 0.3, 64));
  }

  /** A U-Net small enough for tests: 8x8x3, ch 32, two levels, attention at 4x4, cosine schedule with T = 100. */
  public static DdpmConfig tiny() {
    return new DdpmConfig("tiny",
        new Model(Network.UNET, new long[] {8, 8, 3}, 32, new int[] {1, 2}, 1, new int[] {4}, 0.1, 8, 0, 0),
        new Diffusion(BetaSchedule.COSINE, 100, 1e-4, 0.02, VarianceType.FIXED_LARGE, true),
        new TrainingConfig(16, 100, OptimizerConfig.adam(2e-4), 10, TrainingConfig.Decay.NONE, 0, 1.0, 0.99, 0, 0,
            false, true),
        new Sampling("ancestral", 0, 0, 0, 64));
  }

  /** {@link #tiny()} made class-conditional (10 classes), for tests of classifier-free guidance. */
  public static DdpmConfig tinyCond() {
    DdpmConfig c = tiny();
    Model m = c.model();
    return new DdpmConfig("tiny-cond", new Model(m.network(), m.dataShape(), m.ch(), m.chMult(), m.numResBlocks(),
        m.attnResolutions(), m.dropout(), m.groups(), 10, 0.1), c.diffusion(), c.training(),
        new Sampling("ancestral", 0, 0, 1.0, 64));
  }

  /**
   * A DDPM for 2-D points: a residual MLP (width 128, 4 residual layers) with the sinusoidal time embedding, Ho et
   * al.'s linear schedule with T = 1000, no clipping (points are not in [-1, 1]).
   */
  public static DdpmConfig toy2d() {
    return new DdpmConfig("toy2d",
        new Model(Network.MLP, new long[] {2}, 128, new int[0], 4, new int[0], 0, 32, 0, 0),
        hoLinear(false),
        new TrainingConfig(256, 20000, OptimizerConfig.adam(1e-3), 200, TrainingConfig.Decay.COSINE, 1e-5, 1.0,
            0.999, 0, 0, false, false),
        new Sampling("ancestral", 0, 0, 0, 10000));
  }

  private static final Presets<DdpmConfig> PRESETS = new Presets<DdpmConfig>("ddpm")
      .add("cifar10", DdpmConfig::cifar10)
      .add("cifar10-cond", DdpmConfig::cifar10Cond)
      .add("tiny", DdpmConfig::tiny)
      .add("tiny-cond", DdpmConfig::tinyCond)
      .add("toy2d", DdpmConfig::toy2d);

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static DdpmConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, the headline CIFAR-10 one first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
