package dev.genzoo.graphs.ebm;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The EBM family: deep energy-based models trained as IGEBM (Du and Mordatch 2019), sampled by Langevin dynamics. */
public final class EbmFamily extends ConfigFamily<EbmConfig> {
  public EbmFamily() {
    super("ebm", "energy-based models (IGEBM): Langevin negatives from a replay buffer, contrastive loss with an L2 "
        + "energy regulariser; unnormalised, no likelihood", EbmConfig.class);
  }

  @Override
  public List<String> presets() {
    return EbmConfig.presetNames();
  }

  @Override
  public EbmConfig presetConfig(String presetName) {
    return EbmConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(EbmConfig config, ModelOptions options) {
    return new EbmModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(EbmConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(EbmConfig c) {
    EbmConfig.Model m = c.model();
    StringBuilder sb = new StringBuilder();
    if (m.network() == EbmConfig.Network.RESNET32_LARGE) {
      sb.append("IGEBM ResNet32Large energy (9 residual blocks, spectral norm, leaky ReLU 0.2), ").append(m.width())
          .append(" filters, ").append(String.format("%,d", ResNetEnergy.parameterCount(m.dataShape()[2], m.width())))
          .append(" parameters");
      if (m.dropout() > 0) {
        sb.append(", dropout ").append(m.dropout()).append(" in training");
      }
    } else {
      sb.append("MLP energy, width ").append(m.width()).append(", ").append(m.depth()).append(" ")
          .append(m.activation().name().toLowerCase()).append(" layers")
          .append(m.spectralNorm() ? ", spectral norm" : "");
    }
    sb.append(" on ").append(Arrays.toString(m.dataShape()));
    EbmConfig.Chains ch = c.chains();
    sb.append("\nnegatives: ").append(ch.steps()).append(" Langevin steps of ").append(ch.stepSize())
        .append(" on the gradient").append(ch.gradClip() > 0 ? " (clipped to " + ch.gradClip() + ")" : "")
        .append(", noise ").append(ch.noiseScale()).append(m.isImage() ? ", x clipped to [0, 1]" : "");
    EbmConfig.Buffer b = c.buffer();
    sb.append("\nreplay buffer: ").append(b.capacity()).append(" slots, ").append(b.restartProbability() * 100)
        .append("% restarts from uniform noise on [").append(b.low()).append(", ").append(b.high()).append("]");
    sb.append("\nloss: mean U(x+) - mean U(x-) + ").append(c.l2()).append(" (mean U(x+)^2 + mean U(x-)^2)");
    sb.append("\ntraining: ").append(c.training().summary());
    EbmConfig.Sampling s = c.sampling();
    sb.append("\nsampling: ").append(s.steps()).append(" Langevin steps of ").append(s.stepSize()).append(", noise ")
        .append(s.noiseScale()).append(s.init() == EbmConfig.Init.GAUSSIAN ? ", from N(0, " + s.std() + "^2 I)"
            : ", from uniform noise on [" + s.low() + ", " + s.high() + "]");
    return sb.toString();
  }
}
