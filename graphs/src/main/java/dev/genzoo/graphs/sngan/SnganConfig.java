package dev.genzoo.graphs.sngan;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A GAN with a spectrally normalised critic (Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral Normalization for
 * Generative Adversarial Networks", ICLR): the two networks, the adversarial loss and the critic/generator update
 * ratio, training and sampling.
 *
 * <p>The CIFAR-10 preset is the ResNet SN-GAN of the paper's appendix B.4 as reproduced by Mimicry (Lee and Town
 * 2020, github kwotsin/mimicry, {@code torch_mimicry/nets/sngan/sngan_32.py}): FID 23.90 (10k real / 5k fake),
 * 16.77 (50k / 50k), IS 7.97 after 100k generator iterations.
 *
 * @param preset the preset this config started from (informational)
 * @param model the generator and the critic
 * @param gan the adversarial objective and the number of critic updates per generator update
 * @param training optimiser and schedule, shared by both networks (each has its own Adam slots); one step is one
 *     generator iteration, {@code batchSize} is the batch of each critic update and of the generator update
 * @param sampling sampling defaults
 */
public record SnganConfig(String preset, Model model, Gan gan, TrainingConfig training, Sampling sampling) {

  /** Which pair of networks. */
  public enum Network {
    /**
     * Mimicry's ResNetGenerator32 / ResNetDiscriminator32 (the paper's ResNet for 32x32, Table 4): G is a dense layer
     * to bottomWidth^2 x ngf, up-sampling residual blocks to the image size, BN, ReLU, a 3x3 convolution and tanh; D
     * is an "optimised" down-sampling block, a down-sampling block and two plain blocks (ndf channels), ReLU, a global
     * sum pool and a dense layer to one logit, every layer spectrally normalised.
     */
    RESNET,
    /** An MLP generator and a spectrally normalised MLP critic, ReLU, for points. */
    MLP
  }

  /** How the generator's residual blocks double the resolution. */
  public enum Upsample {
    /** Bilinear, half-pixel centres (PyTorch's {@code align_corners=False}): Mimicry's GBlock. */
    BILINEAR,
    /** Nearest neighbour: the paper's Chainer code ({@code F.unpooling_2d}). */
    NEAREST
  }

  /** The adversarial loss. */
  public enum Loss {
    /**
     * The hinge loss (Lim and Ye 2017; Tran et al. 2017), SN-GAN's choice for its ResNets: L_D = E[relu(1 - D(x))] +
     * E[relu(1 + D(G(z)))], L_G = -E[D(G(z))].
     */
    HINGE,
    /**
     * The non-saturating loss (Goodfellow et al. 2014): L_D = E[softplus(-D(x))] + E[softplus(D(G(z)))],
     * L_G = E[softplus(-D(G(z)))].
     */
    NON_SATURATING
  }

  /**
   * @param network RESNET (images) or MLP (points)
   * @param dataShape one example: [H, W, C] (8-bit images, [-1, 1] in model space) or [d] (points)
   * @param zDim dimension of the standard normal latent z
   * @param ngf generator channels (RESNET) or hidden width (MLP)
   * @param ndf critic channels (RESNET) or hidden width (MLP)
   * @param bottomWidth the generator's first feature map is bottomWidth x bottomWidth (RESNET; 4 for 32x32); the
   *     number of up-sampling blocks is log2(H / bottomWidth)
   * @param upsample the up-sampling of the generator's blocks (RESNET)
   * @param depth hidden layers of each MLP (MLP)
   */
  public record Model(Network network, long[] dataShape, int zDim, int ngf, int ndf, int bottomWidth,
      Upsample upsample, int depth) {
    public Model {
      Objects.requireNonNull(network, "model.network");
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [d] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      if ((network == Network.MLP) != (dataShape.length == 1)) {
        throw new IllegalArgumentException("model.network " + network + " does not fit model.dataShape "
            + Arrays.toString(dataShape) + ": MLP is for points [d], RESNET for images [H, W, C]");
      }
      if (zDim <= 0 || ngf <= 0 || ndf <= 0) {
        throw new IllegalArgumentException("model.zDim, model.ngf and model.ndf must be positive, got " + zDim + ", "
            + ngf + ", " + ndf);
      }
      if (network == Network.RESNET) {
        Objects.requireNonNull(upsample, "model.upsample (BILINEAR or NEAREST)");
        long h = dataShape[0];
        if (dataShape[1] != h || dataShape[2] <= 0) {
          throw new IllegalArgumentException("model.dataShape " + Arrays.toString(dataShape)
              + ": RESNET needs square images with at least one channel");
        }
        if (h % 4 != 0) {
          throw new IllegalArgumentException("model.dataShape " + Arrays.toString(dataShape) + ": the critic halves "
              + "the resolution twice, so the size must be divisible by 4");
        }
        if (bottomWidth <= 0 || h % bottomWidth != 0 || Long.bitCount(h / bottomWidth) != 1
            || h / bottomWidth < 2) {
          throw new IllegalArgumentException("model.bottomWidth " + bottomWidth + ": the image size " + h
              + " must be bottomWidth times a power of two >= 2");
        }
      } else if (depth <= 0) {
        throw new IllegalArgumentException("model.depth (hidden layers of the MLPs) must be positive, got " + depth);
      }
    }

    @JsonIgnore
    public boolean isImage() {
      return dataShape.length == 3;
    }

    /** The generator's up-sampling residual blocks: log2(H / bottomWidth) (3 for 32x32 from 4x4). */
    @JsonIgnore
    public int upBlocks() {
      return network == Network.RESNET ? Long.numberOfTrailingZeros(dataShape[0] / bottomWidth) : 0;
    }

    @JsonIgnore
    public long dims() {
      return Tensors.size(dataShape);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Model m && network == m.network && Arrays.equals(dataShape, m.dataShape) && zDim == m.zDim
          && ngf == m.ngf && ndf == m.ndf && bottomWidth == m.bottomWidth && upsample == m.upsample
          && depth == m.depth;
    }

    @Override
    public int hashCode() {
      return Objects.hash(network, Arrays.hashCode(dataShape), zDim, ngf, ndf, bottomWidth, upsample, depth);
    }

    @Override
    public String toString() {
      return network + Arrays.toString(dataShape) + " z " + zDim + " ngf " + ngf + " ndf " + ndf;
    }
  }

  /**
   * @param loss the adversarial loss
   * @param nDis critic updates per generator update (5 in SN-GAN), each on its own batch of real images
   */
  public record Gan(Loss loss, int nDis) {
    public Gan {
      Objects.requireNonNull(loss, "gan.loss");
      if (nDis < 1) {
        throw new IllegalArgumentException("gan.nDis must be at least 1, got " + nDis);
      }
    }
  }

  /** @param batchSize largest number of samples per Session.run */
  public record Sampling(int batchSize) {
    public Sampling {
      if (batchSize <= 0) {
        throw new IllegalArgumentException("sampling.batchSize must be positive, got " + batchSize);
      }
    }
  }

  public SnganConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(gan, "gan");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(sampling, "sampling");
    if (training.gradClipNorm() > 0 || training.emaDecay() > 0 || training.weightDecay() > 0
        || training.initBatchSize() > 0) {
      throw new IllegalArgumentException("sngan trains with SN-GAN's plain optimiser steps: training.gradClipNorm, "
          + "emaDecay, weightDecay and initBatchSize must be 0");
    }
    if (training.dequantize() && !model.isImage()) {
      throw new IllegalArgumentException("training.dequantize applies to images only");
    }
  }

  public SnganConfig withTraining(TrainingConfig t) {
    return new SnganConfig(preset, model, gan, t, sampling);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Presets

  /**
   * SN-GAN's training: Adam 2e-4 with beta1 = 0, beta2 = 0.9 for both networks, learning rate decayed linearly to 0
   * over the run (Mimicry's "linear" decay, from Chainer's LinearShift), no clipping, no averaging.
   */
  private static TrainingConfig snganTraining(int batch, long steps, double lr) {
    return new TrainingConfig(batch, steps, OptimizerConfig.adam(lr, 0.0, 0.9), 0, TrainingConfig.Decay.LINEAR,
        0.0, 0, 0, 0, 0, false, false);
  }

  /**
   * SN-GAN on CIFAR-10 with Mimicry's exact shapes and training: z 128, G: linear to 4x4x256, three up-sampling
   * residual blocks of 256 channels (BN, ReLU, bilinear x2 as Mimicry's GBlock; the paper's Chainer code uses nearest
   * neighbour), BN, ReLU, 3x3 convolution to RGB, tanh; D: optimised block 3 to 128 with down-sampling, a
   * down-sampling block and two plain blocks of 128 channels, ReLU, global sum pool, linear to 1, all spectrally
   * normalised. Hinge loss, n_dis = 5, batch 64, Adam 2e-4 (0, 0.9), linear decay to 0 over 100k generator
   * iterations (Mimicry's run; the paper trained 50k). 4,276,739 generator and 1,053,825 critic parameters.
   */
  public static SnganConfig cifar10() {
    return new SnganConfig("cifar10",
        new Model(Network.RESNET, new long[] {32, 32, 3}, 128, 256, 128, 4, Upsample.BILINEAR, 0),
        new Gan(Loss.HINGE, 5), snganTraining(64, 100_000, 2e-4), new Sampling(64));
  }

  /** The CIFAR-10 networks at small widths on 8x8x3 images (two up-sampling blocks from 2x2), for tests. */
  public static SnganConfig tiny() {
    return new SnganConfig("tiny",
        new Model(Network.RESNET, new long[] {8, 8, 3}, 16, 32, 32, 2, Upsample.BILINEAR, 0),
        new Gan(Loss.HINGE, 5), snganTraining(8, 100, 2e-4), new Sampling(64));
  }

  /**
   * A GAN for 2-D points (toy:8gaussians): z 16, an MLP generator and a spectrally normalised MLP critic, three hidden
   * layers of 256, ReLU; hinge loss, n_dis = 5, batch 256, Adam 2e-4 (0, 0.9), linear decay over 5000 iterations.
   * On toy:8gaussians (seed 0) a CPU run of about 2.5 minutes covers all 8 modes, with 94% of 10,000 samples within
   * 3 standard deviations (0.6) of a mode.
   */
  public static SnganConfig toy2d() {
    return new SnganConfig("toy2d",
        new Model(Network.MLP, new long[] {2}, 16, 256, 256, 0, null, 3),
        new Gan(Loss.HINGE, 5), snganTraining(256, 5000, 2e-4), new Sampling(10_000));
  }

  private static final Presets<SnganConfig> PRESETS = new Presets<SnganConfig>("sngan")
      .add("cifar10", SnganConfig::cifar10)
      .add("tiny", SnganConfig::tiny)
      .add("toy2d", SnganConfig::toy2d);

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static SnganConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, the CIFAR-10 one first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
