package dev.genzoo.graphs.sngan;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The SN-GAN family: a generator and a spectrally normalised critic, hinge loss (Miyato et al. 2018). */
public final class SnganFamily extends ConfigFamily<SnganConfig> {
  public SnganFamily() {
    super("sngan", "GAN with a spectrally normalised critic (Miyato et al. 2018): ResNet G and D, hinge loss, n_dis "
        + "critic updates per generator update; no likelihood", SnganConfig.class);
  }

  @Override
  public List<String> presets() {
    return SnganConfig.presetNames();
  }

  @Override
  public SnganConfig presetConfig(String presetName) {
    return SnganConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(SnganConfig config, ModelOptions options) {
    return new SnganModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(SnganConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(SnganConfig c) {
    SnganConfig.Model m = c.model();
    StringBuilder sb = new StringBuilder();
    if (m.network() == SnganConfig.Network.RESNET) {
      long b = m.bottomWidth();
      sb.append("G: z ").append(m.zDim()).append(" -> linear ").append(b).append('x').append(b).append('x')
          .append(m.ngf()).append(" -> ").append(m.upBlocks()).append(" up-ResBlocks (").append(m.ngf())
          .append(" ch, BN, ReLU, ").append(m.upsample().name().toLowerCase()).append(" x2) -> BN, ReLU, conv 3x3, "
          + "tanh on ").append(Arrays.toString(m.dataShape()));
      sb.append("\nD: optimised ResBlock (").append(m.ndf()).append(" ch, down), ResBlock (down), 2 ResBlocks, ReLU, "
          + "global sum pool, linear -> 1; every layer spectrally normalised");
    } else {
      sb.append("G: MLP z ").append(m.zDim()).append(" -> ").append(m.depth()).append(" x ").append(m.ngf())
          .append(" ReLU -> ").append(Arrays.toString(m.dataShape()));
      sb.append("\nD: spectrally normalised MLP ").append(m.depth()).append(" x ").append(m.ndf())
          .append(" ReLU -> 1");
    }
    sb.append("\nGAN: ").append(c.gan().loss().name().toLowerCase().replace('_', '-')).append(" loss, n_dis ")
        .append(c.gan().nDis());
    sb.append("\ntraining: ").append(c.training().summary()).append(" (one step = one generator iteration)");
    return sb.toString();
  }
}
