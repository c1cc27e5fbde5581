package dev.genzoo.graphs.ebm;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A deep energy-based model trained as IGEBM (Du and Mordatch 2019, "Implicit Generation and Generalization in
 * Energy-Based Models", arXiv:1903.08689): an energy network U, the Langevin chains that draw the negatives of each
 * training step from a replay buffer, the maximum-likelihood loss with its L2 energy regulariser, the optimiser, and
 * the sampler used after training.
 *
 * @param preset the preset this config started from (informational)
 * @param model the energy network
 * @param chains the Langevin dynamics of a training step
 * @param buffer the replay buffer the chains start from
 * @param l2 alpha, the coefficient of the regulariser alpha (mean U(x+)^2 + mean U(x-)^2) (the code adds it with
 *     coefficient 1)
 * @param training optimiser and schedule
 * @param sampling the Langevin sampler of {@code sample}
 */
public record EbmConfig(String preset, Model model, Chains chains, Buffer buffer, double l2, TrainingConfig training,
    Sampling sampling) {

  public EbmConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(chains, "chains");
    Objects.requireNonNull(buffer, "buffer");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(sampling, "sampling");
    if (!(l2 >= 0) || !Double.isFinite(l2)) {
      throw new IllegalArgumentException("l2 must be a non-negative number, got " + l2);
    }
    if (training.batchSize() > buffer.capacity()) {
      throw new IllegalArgumentException("training.batchSize " + training.batchSize() + " exceeds buffer.capacity "
          + buffer.capacity() + ": every chain of a step draws its own slot");
    }
  }

  /** The energy network. */
  public enum Network {
    /** IGEBM's ResNet32Large with spectral norm, for images ({@link ResNetEnergy}). */
    RESNET32_LARGE,
    /** A multilayer perceptron, for points ({@link MlpEnergy}). */
    MLP
  }

  /**
   * @param network the architecture
   * @param dataShape one example: [H, W, C] (images, on [0, 1] in model space; H and W multiples of 8) or [d]
   * @param width F, the ResNet's base filters (128 for CIFAR-10), or the MLP's width
   * @param depth the MLP's hidden layers (unused by the ResNet: 0)
   * @param spectralNorm spectral normalisation of every layer (always on in the ResNet, as the code's spec_norm flag;
   *     optional for the MLP)
   * @param activation the MLP's activation (the ResNet's is fixed: leaky ReLU 0.2)
   * @param dropout the ResNet's dropout rate on each block's first convolution in training (the code's
   *     ResNet32Large(train=True): 0.5); 0 for the MLP
   */
  public record Model(Network network, long[] dataShape, int width, int depth, boolean spectralNorm,
      MlpEnergy.Activation activation, double dropout) {
    public Model {
      Objects.requireNonNull(network, "model.network");
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [d] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      if (width <= 0) {
        throw new IllegalArgumentException("model.width must be positive, got " + width);
      }
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("model.dropout must lie in [0, 1), got " + dropout);
      }
      if (network == Network.RESNET32_LARGE) {
        ResNetEnergy.checkImageShape(dataShape);
        if (!spectralNorm) {
          throw new IllegalArgumentException("model.spectralNorm: the RESNET32_LARGE energy is always spectrally "
              + "normalised (IGEBM's spec_norm); set it to true");
        }
      } else {
        if (dataShape.length != 1) {
          throw new IllegalArgumentException("model.network MLP needs dataShape [d], got "
              + Arrays.toString(dataShape));
        }
        if (depth <= 0) {
          throw new IllegalArgumentException("model.depth of an MLP must be positive, got " + depth);
        }
        Objects.requireNonNull(activation, "model.activation");
        if (dropout != 0) {
          throw new IllegalArgumentException("model.dropout is for the ResNet; the MLP has none (set 0)");
        }
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
      return o instanceof Model m && network == m.network && Arrays.equals(dataShape, m.dataShape)
          && width == m.width && depth == m.depth && spectralNorm == m.spectralNorm && activation == m.activation
          && Double.compare(dropout, m.dropout) == 0;
    }

    @Override
    public int hashCode() {
      return Objects.hash(network, Arrays.hashCode(dataShape), width, depth, spectralNorm, activation, dropout);
    }

    @Override
    public String toString() {
      return "Model[" + network + ", " + Arrays.toString(dataShape) + ", width " + width + ", depth " + depth
          + ", spectralNorm " + spectralNorm + ", " + activation + ", dropout " + dropout + "]";
    }
  }

  /**
   * Langevin dynamics x' = x - stepSize clip(grad U(x), gradClip) + noiseScale xi ({@link Langevin}); images are
   * clipped to [0, 1] after every step.
   *
   * @param steps K, the steps per chain
   * @param stepSize the step on the gradient (IGEBM: 10)
   * @param noiseScale the standard deviation of the added noise (IGEBM: 0.005); sqrt(2 stepSize) is the discretised
   *     Langevin diffusion of exp(-U), smaller values sample a colder exp(-U / T), T = noiseScale^2 / (2 stepSize)
   * @param gradClip element-wise bound on the gradient (IGEBM's proj_norm: 0.01), 0 for none
   */
  public record Chains(int steps, double stepSize, double noiseScale, double gradClip) {
    public Chains {
      if (steps < 1) {
        throw new IllegalArgumentException("chains.steps must be at least 1, got " + steps);
      }
      if (!(stepSize > 0) || !(noiseScale >= 0) || !(gradClip >= 0)) {
        throw new IllegalArgumentException("chains.stepSize must be positive, chains.noiseScale and chains.gradClip "
            + "non-negative");
      }
    }

    /** The kernel, clipped to [0, 1] for images. */
    public Langevin kernel(boolean image) {
      Langevin k = new Langevin(stepSize, noiseScale, Double.NaN, Double.NaN, gradClip);
      return image ? k.clipped(0, 1) : k;
    }
  }

  /**
   * The replay buffer ({@link ReplayBuffer}).
   *
   * @param capacity slots (IGEBM's paper: 10,000)
   * @param restartProbability the chance that a chain starts from noise instead of the buffer (0.05)
   * @param low lower corner of the noise box the restarts (and the initial slots) are drawn from ([0, 1] for images)
   * @param high upper corner of the noise box
   */
  public record Buffer(int capacity, double restartProbability, double low, double high) {
    public Buffer {
      if (capacity < 1) {
        throw new IllegalArgumentException("buffer.capacity must be at least 1, got " + capacity);
      }
      if (!(restartProbability >= 0 && restartProbability <= 1)) {
        throw new IllegalArgumentException("buffer.restartProbability must lie in [0, 1], got " + restartProbability);
      }
      if (!(low < high)) {
        throw new IllegalArgumentException("buffer.low must be below buffer.high, got " + low + ", " + high);
      }
    }
  }

  /** Where the chains of {@code sample} start. */
  public enum Init {
    /** Uniform noise on the box [low, high]^D (images: [0, 1], as the authors' evaluation starts). */
    UNIFORM,
    /** N(0, std^2 I): rotation-invariant, so no direction of a 2-D toy gets more starting points than another. */
    GAUSSIAN
  }

  /**
   * The sampler of {@code sample}: Langevin chains from noise.
   *
   * @param steps default number of steps
   * @param stepSize the step on the gradient
   * @param noiseScale the noise's standard deviation
   * @param gradClip element-wise gradient bound, 0 for none
   * @param init the starting distribution
   * @param low lower corner of the box (UNIFORM)
   * @param high upper corner of the box (UNIFORM)
   * @param std the standard deviation (GAUSSIAN)
   * @param batchSize the largest number of chains per Session.run
   */
  public record Sampling(int steps, double stepSize, double noiseScale, double gradClip, Init init, double low,
      double high, double std, int batchSize) {
    public Sampling {
      if (steps < 1 || batchSize < 1) {
        throw new IllegalArgumentException("sampling.steps and sampling.batchSize must be at least 1");
      }
      if (!(stepSize > 0) || !(noiseScale >= 0) || !(gradClip >= 0)) {
        throw new IllegalArgumentException("sampling.stepSize must be positive, sampling.noiseScale and "
            + "sampling.gradClip non-negative");
      }
      Objects.requireNonNull(init, "sampling.init");
      if (init == Init.UNIFORM && !(low < high)) {
        throw new IllegalArgumentException("sampling.low must be below sampling.high, got " + low + ", " + high);
      }
      if (init == Init.GAUSSIAN && !(std > 0)) {
        throw new IllegalArgumentException("sampling.std must be positive for GAUSSIAN starts, got " + std);
      }
    }

    /** The kernel, clipped to [0, 1] for images. */
    public Langevin kernel(boolean image) {
      Langevin k = new Langevin(stepSize, noiseScale, Double.NaN, Double.NaN, gradClip);
      return image ? k.clipped(0, 1) : k;
    }
  }

  public EbmConfig withTraining(TrainingConfig t) {
    return new EbmConfig(preset, model, chains, buffer, l2, t, sampling);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Presets

  /**
   * IGEBM on CIFAR-10, unconditional, as the authors' README trains it ({@code --dataset=cifar10 --num_steps=60
   * --batch_size=128 --step_lr=10.0 --proj_norm=0.01 --zero_kl --replay_batch --large_model}): ResNet32Large with 128
   * filters and spectral norm, dropout 0.5 in training (the large model is built with train=True); 60 Langevin steps
   * of 10 on the gradient clipped to 0.01 per pixel, noise 0.005, images clipped to [0, 1]; a replay buffer of
   * 10,000 with 5% restarts from uniform noise; the contrastive loss with the L2 energy regulariser (alpha 1); Adam
   * 3e-4 with beta1 = 0, beta2 = 0.999; batch 128; x+ = (8-bit value + U[0, 1)) / 256. The number of steps is not
   * given by the authors (100,000 here). Sampling: 60 of the same steps from uniform noise.
   */
  public static EbmConfig cifar10() {
    return new EbmConfig("cifar10",
        new Model(Network.RESNET32_LARGE, new long[] {32, 32, 3}, 128, 0, true, null, 0.5),
        new Chains(60, 10.0, 0.005, 0.01),
        new Buffer(10_000, 0.05, 0, 1),
        1.0,
        new TrainingConfig(128, 100_000, OptimizerConfig.adam(3e-4, 0.0, 0.999), 0, TrainingConfig.Decay.NONE, 0, 0,
            0, 0, 0, true, false),
        new Sampling(60, 10.0, 0.005, 0.01, Init.UNIFORM, 0, 1, 0, 64));
  }

  /** The CIFAR-10 recipe small enough for tests: 8 filters on 8x8x3 images, 5 Langevin steps, a buffer of 64. */
  public static EbmConfig tiny() {
    return new EbmConfig("tiny",
        new Model(Network.RESNET32_LARGE, new long[] {8, 8, 3}, 8, 0, true, null, 0.5),
        new Chains(5, 10.0, 0.005, 0.01),
        new Buffer(64, 0.05, 0, 1),
        1.0,
        new TrainingConfig(16, 100, OptimizerConfig.adam(3e-4, 0.0, 0.999), 0, TrainingConfig.Decay.NONE, 0, 0, 0,
            0, 0, true, false),
        new Sampling(5, 10.0, 0.005, 0.01, Init.UNIFORM, 0, 1, 0, 64));
  }

  /**
   * An MLP energy on 2-D points (toy:8gaussians and the other toys): width 128, 3 swish layers, no spectral norm
   * (it would bound |grad U| by 1, far too flat for modes of width 0.2). IGEBM's training with Langevin chains on R^2
   * of 40 steps of 0.01 with the proper noise sqrt(2 * 0.01) (temperature 1), no clipping; a replay buffer of 2,048
   * slots with 5% restarts from uniform noise on [-4, 4]^2; alpha = 0.01 (alpha bounds the gap between the mean
   * energies of data and negatives by 1 / alpha at equilibrium, and a temperature-1 model of these modes needs gaps of
   * tens of nats); Adam 1e-3 with beta1 = 0.9, cosine decay to 1e-5 over 20,000 steps of 256 points. Sampling: 2,000
   * steps of the same dynamics from N(0, 2^2 I).
   *
   * <p>Tuned on toy:8gaussians with long-run samples (4,000 chains of 2,000 and 8,000 steps from N(0, 4 I)): the
   * buffer size sets how often a slot is advanced (every capacity / batch steps), hence how well the negatives track
   * the model's own mode weights. With IGEBM's 10,000 slots the chains never cross between modes during training,
   * nothing corrects the relative depths of the modes, and long runs put 4% to 45% of the samples in single modes;
   * with 512 slots the modes stay balanced but too wide (72% of samples within 3 sigma of a centre, against 98.9% for
   * the data); 2,048 slots give 9% to 17% per mode and 97% within 3 sigma after 10,000 steps (about 3 minutes on 2
   * cores). Twice as long a schedule settles the depths further: after 20,000 steps (7 minutes), 10,000 samples of
   * three seeds put 9.2% to 15.6% in each mode, 98.4% within 3 sigma (the embedded ebm-8gaussians).
   */
  public static EbmConfig toy2d() {
    return new EbmConfig("toy2d",
        new Model(Network.MLP, new long[] {2}, 128, 3, false, MlpEnergy.Activation.SWISH, 0),
        new Chains(40, 0.01, Math.sqrt(0.02), 0),
        new Buffer(2048, 0.05, -4, 4),
        0.01,
        new TrainingConfig(256, 20_000, OptimizerConfig.adam(1e-3, 0.9, 0.999), 0, TrainingConfig.Decay.COSINE, 1e-5,
            0, 0, 0, 0, false, false),
        new Sampling(2000, 0.01, Math.sqrt(0.02), 0, Init.GAUSSIAN, 0, 0, 2.0, 10_000));
  }

  private static final Presets<EbmConfig> PRESETS = new Presets<EbmConfig>("ebm")
      .add("cifar10", EbmConfig::cifar10)
      .add("tiny", EbmConfig::tiny)
      .add("toy2d", EbmConfig::toy2d);

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static EbmConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, the headline CIFAR-10 one first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
