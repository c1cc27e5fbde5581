package dev.genzoo.graphs.nvae;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An NVAE (Vahdat & Kautz 2020, "NVAE: A Deep Hierarchical Variational Autoencoder"): the hierarchy, the training
 * objective (KL warm-up and balancing, spectral regularisation) and sampling, named after the authors' arguments
 * (github NVlabs/NVAE, train.py) where they have one.
 *
 * @param preset the preset this config started from (informational)
 * @param model the encoder, decoder and latent hierarchy
 * @param objective the ELBO's training-time weighting and regularisers
 * @param training the optimiser and schedule (NVAE: Adamax 1e-2, eps 1e-3, warm-up, cosine decay to 1e-4)
 * @param sampling sampling and evaluation defaults
 */
public record NvaeConfig(String preset, Model model, Objective objective, TrainingConfig training,
    Sampling sampling) {

  /** The decoder's output distribution p(x | z). */
  public enum Likelihood {
    /** Discretised mixture of logistics over 8-bit values (Salimans et al. 2017), for 8-bit colour images. */
    DMOL,
    /** Independent Bernoulli pixels, for binarised images (MNIST, dynamically binarised). */
    BERNOULLI,
    /** A diagonal Gaussian density, for points. */
    GAUSSIAN
  }

  /**
   * The architecture (upstream argument in brackets).
   *
   * @param dataShape one example: [H, W, C] images, or [d] points (treated as 1 x 1 x d maps with 1 x 1 kernels)
   * @param likelihood p(x | z)
   * @param numMix mixture components of the DMOL (num_mixture_dec)
   * @param padding zero pixels added on each side before the encoder; the likelihood is taken on the uncropped
   *     centre (MNIST 28 x 28 is padded to 32 x 32, as upstream's crop_output)
   * @param channelsEnc encoder base channels (num_channels_enc); doubled by each down-sampling cell
   * @param channelsDec decoder base channels (num_channels_dec)
   * @param preprocessBlocks pre-processing blocks, each ending with a down-sampling cell (num_preprocess_blocks)
   * @param preprocessCells cells per pre-processing block (num_preprocess_cells)
   * @param latentScales spatial scales that hold latent groups (num_latent_scales)
   * @param groupsPerScale latent groups at the finest scale (num_groups_per_scale)
   * @param adaGroups halve the number of groups at each coarser scale (ada_groups)
   * @param minGroupsPerScale the fewest groups a scale gets with adaGroups (min_groups_per_scale)
   * @param latentPerGroup latent channels per group (num_latent_per_group)
   * @param cellsPerGroupEnc encoder residual cells per group (num_cell_per_cond_enc)
   * @param cellsPerGroupDec decoder residual cells per group (num_cell_per_cond_dec)
   * @param postprocessBlocks post-processing blocks, each starting with an up-sampling cell
   * @param postprocessCells cells per post-processing block
   * @param useSe squeeze-and-excitation at the end of every residual cell (use_se)
   * @param residualPosterior the residual normal q = N(mu_p + dmu, sigma_p dsigma) (res_dist); otherwise the encoder
   *     predicts q's parameters directly
   * @param numFlows volume-preserving autoregressive flow cells ({@link ArFlow}) applied to each group's posterior
   *     sample (num_nf); with flows each group's KL is the one-draw estimate log q(z_0) - log p(z)
   */
  public record Model(long[] dataShape, Likelihood likelihood, int numMix, int padding, int channelsEnc,
      int channelsDec, int preprocessBlocks, int preprocessCells, int latentScales, int groupsPerScale,
      boolean adaGroups, int minGroupsPerScale, int latentPerGroup, int cellsPerGroupEnc, int cellsPerGroupDec,
      int postprocessBlocks, int postprocessCells, boolean useSe, boolean residualPosterior, int numFlows) {
    public Model {
      Objects.requireNonNull(likelihood, "model.likelihood");
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [d] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      if (dataShape.length == 1 && likelihood != Likelihood.GAUSSIAN) {
        throw new IllegalArgumentException("model.likelihood " + likelihood + " is for images; points need GAUSSIAN");
      }
      if (dataShape.length == 3 && likelihood == Likelihood.GAUSSIAN) {
        throw new IllegalArgumentException("model.likelihood GAUSSIAN is for points; 8-bit images need DMOL, "
            + "binarised images BERNOULLI");
      }
      if (likelihood == Likelihood.DMOL && dataShape[2] != 1 && dataShape[2] != 3) {
        throw new IllegalArgumentException("model.likelihood DMOL needs 1 or 3 channels, got " + dataShape[2]);
      }
      if (likelihood == Likelihood.DMOL && numMix < 1) {
        throw new IllegalArgumentException("model.numMix must be positive, got " + numMix);
      }
      if (channelsEnc <= 0 || channelsDec <= 0 || latentPerGroup <= 0 || latentScales <= 0 || groupsPerScale <= 0
          || minGroupsPerScale <= 0) {
        throw new IllegalArgumentException("model.channelsEnc, channelsDec, latentPerGroup, latentScales, "
            + "groupsPerScale and minGroupsPerScale must be positive");
      }
      if (numFlows < 0) {
        throw new IllegalArgumentException("model.numFlows must not be negative, got " + numFlows);
      }
      if (padding < 0 || preprocessBlocks < 0 || postprocessBlocks < 0 || preprocessCells < 1 || postprocessCells < 1
          || cellsPerGroupEnc < 0 || cellsPerGroupDec < 0) {
        throw new IllegalArgumentException("model.padding, preprocessBlocks and postprocessBlocks must not be "
            + "negative, preprocessCells and postprocessCells must be at least 1");
      }
      if (preprocessBlocks != postprocessBlocks) {
        throw new IllegalArgumentException("model.preprocessBlocks (" + preprocessBlocks + ") and postprocessBlocks ("
            + postprocessBlocks + ") must be equal: the decoder must return to the input resolution");
      }
      if (dataShape.length == 1) {
        if (padding != 0 || preprocessBlocks != 0 || latentScales != 1) {
          throw new IllegalArgumentException("points take no padding, no pre/post-processing blocks and one latent "
              + "scale");
        }
      } else {
        long div = 1L << (preprocessBlocks + latentScales - 1);
        long h = dataShape[0] + 2L * padding;
        long w = dataShape[1] + 2L * padding;
        if (h % div != 0 || w % div != 0) {
          throw new IllegalArgumentException("model.dataShape " + Arrays.toString(dataShape) + " + padding " + padding
              + ": height and width must be divisible by 2^(preprocessBlocks + latentScales - 1) = " + div);
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

    /** Groups per latent scale in encoder order (finest scale first), as upstream's groups_per_scale. */
    @JsonIgnore
    public int[] groups() {
      return KlBalancer.groupsPerScale(latentScales, groupsPerScale, adaGroups, minGroupsPerScale);
    }

    /** Total latent groups. */
    @JsonIgnore
    public int totalGroups() {
      int n = 0;
      for (int g : groups()) {
        n += g;
      }
      return n;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Model m && Arrays.equals(dataShape, m.dataShape) && likelihood == m.likelihood
          && numMix == m.numMix && padding == m.padding && channelsEnc == m.channelsEnc
          && channelsDec == m.channelsDec && preprocessBlocks == m.preprocessBlocks
          && preprocessCells == m.preprocessCells && latentScales == m.latentScales
          && groupsPerScale == m.groupsPerScale && adaGroups == m.adaGroups && minGroupsPerScale == m.minGroupsPerScale
          && latentPerGroup == m.latentPerGroup && cellsPerGroupEnc == m.cellsPerGroupEnc
          && cellsPerGroupDec == m.cellsPerGroupDec && postprocessBlocks == m.postprocessBlocks
          && postprocessCells == m.postprocessCells && useSe == m.useSe && residualPosterior == m.residualPosterior && numFlows == m.numFlows;
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(dataShape), likelihood, numMix, padding, channelsEnc, channelsDec,
          preprocessBlocks, preprocessCells, latentScales, groupsPerScale, adaGroups, minGroupsPerScale,
          latentPerGroup, cellsPerGroupEnc, cellsPerGroupDec, postprocessBlocks, postprocessCells, useSe,
          residualPosterior, numFlows);
    }

    @Override
    public String toString() {
      return Arrays.toString(dataShape) + " " + likelihood + " enc/dec " + channelsEnc + "/" + channelsDec + ", "
          + latentScales + " scale(s) of " + Arrays.toString(groups()) + " groups x " + latentPerGroup + " latents";
    }
  }

  /**
   * How the ELBO is weighted while training (Vahdat & Kautz 2020, sections 3.2 and appendix A).
   *
   * @param klAnnealPortion fraction of the steps over which the KL coefficient rises linearly to 1 (kl_anneal_portion)
   * @param klConstPortion fraction of the steps at the start where it stays at klConstCoeff (kl_const_portion)
   * @param klConstCoeff the smallest KL coefficient (kl_const_coeff)
   * @param klBalance balance the groups' KL terms while the coefficient is below 1 (appendix A, KL balancing)
   * @param spectralRegularization lambda of the spectral regulariser lambda sum_i s(W_i), and of the BatchNorm scale
   *     penalty lambda sum_l max |gamma_l| (weight_decay_norm)
   * @param powerIterations power iterations per step for the largest singular values (num_power_iter)
   */
  public record Objective(double klAnnealPortion, double klConstPortion, double klConstCoeff, boolean klBalance,
      double spectralRegularization, int powerIterations) {
    public Objective {
      if (klAnnealPortion < 0 || klAnnealPortion > 1 || klConstPortion < 0 || klConstPortion > 1) {
        throw new IllegalArgumentException("objective.klAnnealPortion and klConstPortion must lie in [0, 1]");
      }
      if (klConstCoeff < 0 || klConstCoeff > 1) {
        throw new IllegalArgumentException("objective.klConstCoeff must lie in [0, 1], got " + klConstCoeff);
      }
      if (spectralRegularization < 0 || powerIterations < 1) {
        throw new IllegalArgumentException("objective.spectralRegularization must be >= 0 and powerIterations >= 1");
      }
    }

    /** NVAE's defaults: anneal over 30%, constant 1e-4 over the first 0.01%, balancing, lambda as given. */
    public static Objective nvae(double lambda) {
      return new Objective(0.3, 1e-4, 1e-4, true, lambda, 4);
    }
  }

  /**
   * @param temperature the default sampling temperature (the scale of every group's prior standard deviation)
   * @param readjustBnIterations batches of prior samples whose batch statistics replace the decoder's BatchNorm
   *     statistics before sampling at a temperature (the paper's readjustment; 0: use the training statistics)
   * @param batchSize largest batch per Session.run when sampling and evaluating
   * @param importanceSamples k of the importance-weighted bound that evaluations report beside the ELBO
   */
  public record Sampling(double temperature, int readjustBnIterations, int batchSize, int importanceSamples) {
    public Sampling {
      if (!(temperature >= 0) || readjustBnIterations < 0 || batchSize < 1 || importanceSamples < 1) {
        throw new IllegalArgumentException("sampling.temperature must be >= 0, readjustBnIterations >= 0, batchSize "
            + "and importanceSamples >= 1");
      }
    }
  }

  public NvaeConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(objective, "objective");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(sampling, "sampling");
  }

  public NvaeConfig withTraining(TrainingConfig t) {
    return new NvaeConfig(preset, model, objective, t, sampling);
  }

  /** NVAE's Adamax: betas (0.9, 0.999), eps 1e-3 (train.py). */
  static OptimizerConfig adamax(double lr) {
    return new OptimizerConfig(OptimizerConfig.Name.ADAMAX, lr, 0.9, 0.999, 1e-3);
  }

  /**
   * NVAE on CIFAR-10 as the authors trained it (README command; ../shared/reference/published-cifar10.md): 128
   * channels, one latent scale of 30 groups of 20 channels at 16 x 16, 2 cells per group in encoder and decoder, one
   * pre- and one post-processing block of 2 cells, SE, residual normal posteriors, a 10-component DMOL;
   * lambda = 1e-2; Adamax 1e-2 with eps 1e-3, warm-up 5 epochs, cosine decay to 1e-4 over 400 epochs at batch
   * 32 x 8 GPUs (256, BatchNorm synchronised), so 78,125 steps with 977 of warm-up; weight decay 3e-4 (PyTorch's
   * Adamax adds 3e-4 w to each gradient, which is the L2 penalty 1.5e-4 |w|^2 on the kernels here). Reported: 2.91
   * bits/dim. One pair of autoregressive flow cells per group (num_nf 1).
   */
  public static NvaeConfig cifar10() {
    return new NvaeConfig("cifar10",
        new Model(new long[] {32, 32, 3}, Likelihood.DMOL, 10, 0, 128, 128, 1, 2, 1, 30, true, 1, 20, 2, 2, 1, 2,
            true, true, 1),
        Objective.nvae(1e-2),
        new TrainingConfig(256, 78_125, adamax(1e-2), 977, TrainingConfig.Decay.COSINE, 1e-4, 0, 0, 1.5e-4, 0, false,
            true),
        new Sampling(0.7, 500, 100, 1000));
  }

  /**
   * NVAE on dynamically binarised MNIST as the authors trained it (README): 32 channels, two pre- and post-processing
   * blocks of 3 cells (28 x 28 padded to 32 x 32), two latent scales with 10 and 5 groups of 20 channels at 8 x 8 and
   * 4 x 4, two cells per group in the encoder and in the decoder (num_cell_per_cond_enc/dec 2), SE, residual normal
   * posteriors, Bernoulli pixels; lambda = 1e-2; Adamax 1e-2, 400
   * epochs at batch 200 x 2 GPUs (60,000 steps, warm-up 750). Reported: 78.01 nats.
   */
  public static NvaeConfig mnist() {
    return new NvaeConfig("mnist",
        new Model(new long[] {28, 28, 1}, Likelihood.BERNOULLI, 1, 2, 32, 32, 2, 3, 2, 10, true, 1, 20, 2, 2, 2, 3,
            true, true, 0),
        Objective.nvae(1e-2),
        new TrainingConfig(400, 60_000, adamax(1e-2), 750, TrainingConfig.Decay.COSINE, 1e-4, 0, 0, 1.5e-4, 0, false,
            false),
        new Sampling(1.0, 100, 200, 100));
  }

  /**
   * The small MNIST model embedded in the jar, trained on a CPU in minutes: the MNIST preset with 8 channels, one
   * cell per pre- and post-processing block, 4 + 2 groups of 20 latents, batch 64, 3,000 steps (warm-up 100,
   * KL annealed over the first 30%).
   */
  public static NvaeConfig mnistSmall() {
    return new NvaeConfig("mnist-small",
        new Model(new long[] {28, 28, 1}, Likelihood.BERNOULLI, 1, 2, 8, 8, 2, 1, 2, 4, true, 1, 20, 1, 1, 2, 1,
            true, true, 0),
        Objective.nvae(1e-2),
        new TrainingConfig(64, 3_000, adamax(1e-2), 100, TrainingConfig.Decay.COSINE, 1e-4, 0, 0, 1.5e-4, 0, false,
            false),
        new Sampling(1.0, 20, 500, 100));
  }

  /**
   * Small enough for tests: 8 x 8 x 3 images, 8 channels, two scales with 2 + 1 groups of 4 latents, one flow cell per
   * group, DMOL with 3 logistics.
   */
  public static NvaeConfig tiny() {
    return new NvaeConfig("tiny",
        new Model(new long[] {8, 8, 3}, Likelihood.DMOL, 3, 0, 8, 8, 1, 1, 2, 2, true, 1, 4, 1, 1, 1, 1, true, true,
            1),
        Objective.nvae(1e-2),
        new TrainingConfig(8, 50, adamax(1e-2), 5, TrainingConfig.Decay.COSINE, 1e-4, 0, 0, 1.5e-4, 0, false, false),
        new Sampling(1.0, 2, 64, 4));
  }

  /**
   * A hierarchical VAE for 2-D points: 64 channels, 3 groups of 2 latents on a 1 x 1 map (1 x 1 kernels), one cell per
   * group, SE, residual normal posteriors, a Gaussian p(x | z); Adamax 1e-2 with warm-up and cosine decay, batch 256,
   * 10,000 steps.
   */
  public static NvaeConfig toy2d() {
    return new NvaeConfig("toy2d",
        new Model(new long[] {2}, Likelihood.GAUSSIAN, 1, 0, 64, 64, 0, 1, 1, 3, false, 1, 2, 1, 1, 0, 1, true, true,
            0),
        Objective.nvae(1e-3),
        new TrainingConfig(256, 10_000, adamax(1e-2), 200, TrainingConfig.Decay.COSINE, 1e-4, 0, 0, 0, 0, false,
            false),
        new Sampling(1.0, 0, 10_000, 100));
  }

  private static final Presets<NvaeConfig> PRESETS = new Presets<NvaeConfig>("nvae")
      .add("cifar10", NvaeConfig::cifar10)
      .add("mnist", NvaeConfig::mnist)
      .add("mnist-small", NvaeConfig::mnistSmall)
      .add("tiny", NvaeConfig::tiny)
      .add("toy2d", NvaeConfig::toy2d);

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static NvaeConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, the headline CIFAR-10 one first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
