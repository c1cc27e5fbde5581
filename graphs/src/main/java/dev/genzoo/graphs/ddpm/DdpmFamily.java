package dev.genzoo.graphs.ddpm;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The DDPM family: denoising diffusion with ancestral and DDIM sampling and the variational bound. */
public final class DdpmFamily extends ConfigFamily<DdpmConfig> {
  public DdpmFamily() {
    super("ddpm", "denoising diffusion (Ho et al. 2020): ancestral and DDIM sampling, variational bound in bits/dim",
        DdpmConfig.class);
  }

  @Override
  public List<String> presets() {
    return DdpmConfig.presetNames();
  }

  @Override
  public DdpmConfig presetConfig(String presetName) {
    return DdpmConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(DdpmConfig config, ModelOptions options) {
    return new DdpmModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(DdpmConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(DdpmConfig c) {
    DdpmConfig.Model m = c.model();
    StringBuilder sb = new StringBuilder();
    if (m.network() == DdpmConfig.Network.UNET) {
      sb.append("U-Net on ").append(Arrays.toString(m.dataShape())).append(", ch ").append(m.ch())
          .append(", ch_mult ").append(Arrays.toString(m.chMult())).append(", ").append(m.numResBlocks())
          .append(" res blocks per level, attention at ").append(Arrays.toString(m.attnResolutions()))
          .append(", dropout ").append(m.dropout()).append(", GroupNorm(").append(m.groups()).append(")");
    } else {
      sb.append("residual MLP on ").append(Arrays.toString(m.dataShape())).append(", width ").append(m.ch())
          .append(", ").append(m.numResBlocks()).append(" residual layers");
    }
    if (m.numClasses() > 0) {
      sb.append(", ").append(m.numClasses()).append(" classes (classifier-free guidance, p_uncond ")
          .append(m.classDropProb()).append(", w ").append(c.sampling().guidance()).append(")");
    }
    var d = c.diffusion();
    sb.append("\ndiffusion: ").append(d.schedule().name().toLowerCase()).append(" betas");
    if (d.schedule() == BetaSchedule.LINEAR) {
      sb.append(" ").append(d.betaStart()).append(" to ").append(d.betaEnd());
    }
    sb.append(", T = ").append(d.timesteps()).append(", epsilon prediction, L_simple, ")
        .append(d.varianceType().name().toLowerCase()).append(" variance");
    sb.append("\ntraining: ").append(c.training().summary());
    sb.append("\nsampling: ").append(c.sampling().sampler());
    return sb.toString();
  }
}
