package dev.genzoo.graphs.rbm;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.genzoo.graphs.Presets;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.TrainingConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A restricted Boltzmann machine with {-1, +1} visible spins and Gaussian hidden units (the lecture notes' model, see
 * {@link Rbm}), trained by contrastive divergence (Hinton 2002) or persistent contrastive divergence (Tieleman 2008),
 * sampled by alternating Gibbs sweeps.
 *
 * @param preset the preset this config started from (informational)
 * @param model the units and how data become spins
 * @param cd the contrastive-divergence estimator of the negative phase
 * @param training the optimiser and schedule
 * @param sampling sampling defaults
 */
public record RbmConfig(String preset, Model model, Cd cd, TrainingConfig training, Sampling sampling) {

  /** Above this many visible spins, Z (a sum over 2^N states) is not enumerated and there is no likelihood. */
  public static final int MAX_ENUMERABLE_VISIBLE = 20;

  public RbmConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(cd, "cd");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(sampling, "sampling");
  }

  /**
   * @param dataShape one example: [H, W, C] (8-bit images) or [N] (vectors); N = the product is the number of visible
   *     spins
   * @param hidden p, the number of Gaussian hidden units
   * @param threshold an input value above this becomes the spin +1, anything else -1 (127 for 8-bit images, as the
   *     notes binarise MNIST: pixel > 127; 0 for vectors, which accepts both {-1, +1} and {0, 1} data)
   * @param initStd the standard deviation of the initial weights W (Hinton's guide: 0.01)
   */
  public record Model(long[] dataShape, int hidden, double threshold, double initStd) {
    public Model {
      if (dataShape == null || (dataShape.length != 1 && dataShape.length != 3)) {
        throw new IllegalArgumentException("model.dataShape must be [N] or [H, W, C], got "
            + Arrays.toString(dataShape));
      }
      for (long d : dataShape) {
        if (d <= 0) {
          throw new IllegalArgumentException("model.dataShape " + Arrays.toString(dataShape) + " must be positive");
        }
      }
      if (hidden <= 0) {
        throw new IllegalArgumentException("model.hidden (the number of hidden units p) must be positive, got "
            + hidden);
      }
      if (!Double.isFinite(threshold)) {
        throw new IllegalArgumentException("model.threshold must be finite, got " + threshold);
      }
      if (!(initStd > 0) || !Double.isFinite(initStd)) {
        throw new IllegalArgumentException("model.initStd must be positive, got " + initStd);
      }
      dataShape = dataShape.clone();
    }

    /** N, the number of visible spins. */
    @JsonIgnore
    public int visible() {
      long n = 1;
      for (long d : dataShape) {
        n *= d;
      }
      return Math.toIntExact(n);
    }

    @JsonIgnore
    public boolean isImage() {
      return dataShape.length == 3;
    }

    @Override
    public long[] dataShape() {
      return dataShape.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Model m && Arrays.equals(dataShape, m.dataShape) && hidden == m.hidden
          && Double.compare(threshold, m.threshold) == 0 && Double.compare(initStd, m.initStd) == 0;
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(dataShape), hidden, threshold, initStd);
    }

    @Override
    public String toString() {
      return "Model[dataShape=" + Arrays.toString(dataShape) + ", hidden=" + hidden + ", threshold=" + threshold
          + ", initStd=" + initStd + "]";
    }
  }

  /**
   * @param k Gibbs sweeps per update (CD-k; the notes and Hinton's guide argue for k = 1)
   * @param persistent keep the chains between updates (PCD, Tieleman 2008) instead of restarting them at the data
   * @param chains the number of persistent chains (0: the batch size); ignored without {@code persistent}
   */
  public record Cd(int k, boolean persistent, int chains) {
    public Cd {
      if (k < 1) {
        throw new IllegalArgumentException("cd.k (Gibbs sweeps per update) must be at least 1, got " + k);
      }
      if (chains < 0) {
        throw new IllegalArgumentException("cd.chains must be >= 0 (0: the batch size), got " + chains);
      }
    }
  }

  /**
   * @param steps Gibbs sweeps from random spins per sample (SampleOptions.steps overrides it)
   * @param batchSize chains run together in one Session.run
   */
  public record Sampling(int steps, int batchSize) {
    public Sampling {
      if (steps < 1 || batchSize < 1) {
        throw new IllegalArgumentException("sampling.steps and sampling.batchSize must be positive, got " + steps
            + ", " + batchSize);
      }
    }
  }

  /** Whether Z can be enumerated: N <= {@value #MAX_ENUMERABLE_VISIBLE}. */
  @JsonIgnore
  public boolean isEnumerable() {
    return model.visible() <= MAX_ENUMERABLE_VISIBLE;
  }

  public RbmConfig withTraining(TrainingConfig t) {
    return new RbmConfig(preset, model, cd, t, sampling);
  }

  public RbmConfig withCd(Cd c) {
    return new RbmConfig(preset, model, c, training, sampling);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Presets

  /**
   * MNIST binarised as in the notes (pixel > 127 is +1), N = 784 spins and p = 200 Gaussian hidden units, trained
   * with one Gibbs sweep per update from persistent chains (PCD-1, Tieleman 2008; 100 chains), batch 100 (Hinton's
   * guide, section 4: 10 to 100), Adam 3e-4 with a cosine decay to 0 over 10,000 steps (17 epochs), W initialised
   * N(0, 0.01^2) and the visible fields from the data means of 1,000 examples (Hinton's guide, section 8). Sampling:
   * 1,000 Gibbs sweeps from random spins.
   *
   * <p>Why PCD-1 rather than the notes' CD-1 ({@link #mnistCd1()}): CD-1 started at the data reconstructs well but
   * never visits states far from the data, whose probability it therefore never lowers. With {-1, +1} spins the blank
   * image (every spin -1) is such a state: after 10,000 CD-1 steps its free energy is -2181, below every one of 1,000
   * test digits (mean -2029, lowest -2114), and 1,000-sweep chains from random spins end blank or in a few spurious
   * blobs. Persistent chains do visit those states and push their probability down (Tieleman 2008); the decaying
   * learning rate lets the chains keep up with the model at the end. The step has the cost of CD-1.
   *
   * <p>Measured (TF Java on a shared 2-core CPU): 10,000 steps in 48 s (about 200 steps/s), reconstruction error 0.085
   * per pixel at the first step and 0.022 at the end (CD-1: 0.016), 64 samples x 1,000 sweeps in 1 s; the samples
   * are varied, mostly recognisable digits. p = 500 or 20,000 steps did not visibly improve them.
   */
  public static RbmConfig mnist() {
    return new RbmConfig("mnist", new Model(new long[] {28, 28, 1}, 200, 127, 0.01), new Cd(1, true, 100),
        new TrainingConfig(100, 10_000, OptimizerConfig.adam(3e-4), 0, TrainingConfig.Decay.COSINE, 0, 0, 0, 0,
            1000, false, false),
        new Sampling(1000, 100));
  }

  /**
   * The notes' recipe: {@link #mnist()} trained with CD-1 started at the data (Hinton 2002; the notes and Hinton's
   * guide argue for k = 1). Lower reconstruction error than PCD-1 (0.016 after 10,000 steps), but long Gibbs chains
   * from random spins give blank images and spurious blobs (see {@link #mnist()}).
   */
  public static RbmConfig mnistCd1() {
    RbmConfig m = mnist();
    return new RbmConfig("mnist-cd1", m.model(), new Cd(1, false, 0), m.training(), m.sampling());
  }

  /** A small image model for tests: 8x8x1 images, 16 hidden units, CD-1, Adam 1e-3, batch 16, 100 steps. */
  public static RbmConfig tiny() {
    return new RbmConfig("tiny", new Model(new long[] {8, 8, 1}, 16, 127, 0.01), new Cd(1, false, 0),
        new TrainingConfig(16, 100, OptimizerConfig.adam(1e-3), 0, TrainingConfig.Decay.NONE, 0, 0, 0, 0, 64, false,
            false),
        new Sampling(100, 64));
  }

  /**
   * An exactly solvable model: N = 10 visible spins (vectors, threshold 0: {-1, +1} or {0, 1} data), p = 4 hidden
   * units, so Z is a sum over 2^10 = 1024 states and the likelihood is exact; CD-1, Adam 1e-2, batch 100.
   */
  public static RbmConfig exact10() {
    return new RbmConfig("exact10", new Model(new long[] {10}, 4, 0, 0.01), new Cd(1, false, 0),
        new TrainingConfig(100, 2000, OptimizerConfig.adam(1e-2), 0, TrainingConfig.Decay.NONE, 0, 0, 0, 0, 500,
            false, false),
        new Sampling(200, 1000));
  }

  private static final Presets<RbmConfig> PRESETS = new Presets<RbmConfig>("rbm")
      .add("mnist", RbmConfig::mnist)
      .add("mnist-cd1", RbmConfig::mnistCd1)
      .add("tiny", RbmConfig::tiny)
      .add("exact10", RbmConfig::exact10);

  /** A preset by name; an unknown name is an error listing the valid ones. */
  public static RbmConfig preset(String name) {
    return PRESETS.get(name);
  }

  /** The preset names, MNIST first. */
  public static List<String> presetNames() {
    return PRESETS.names();
  }
}
