package dev.genzoo.graphs.ddpm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The DDPM family: denoising diffusion with ancestral and DDIM sampling and the variational bound. */
public final class DdpmFamily implements ModelFamily {
  @Override
  public String name() {
    return "ddpm";
  }

  @Override
  public String description() {
    return "denoising diffusion (Ho et al. 2020): ancestral and DDIM sampling, variational bound in bits/dim";
  }

  @Override
  public List<String> presets() {
    return DdpmConfig.presetNames();
  }

  @Override
  public JsonNode preset(String name) {
    return Configs.toJson(DdpmConfig.preset(name));
  }

  @Override
  public JsonNode validate(JsonNode config) {
    return Configs.toJson(parse(config));
  }

  public static DdpmConfig parse(JsonNode config) {
    return Configs.fromJson(config, DdpmConfig.class);
  }

  @Override
  public GenerativeModel create(JsonNode config, ModelOptions options) {
    return new DdpmModel(parse(config), options);
  }

  @Override
  public long[] dataShape(JsonNode config) {
    return parse(config).model().dataShape().clone();
  }

  @Override
  public String describe(JsonNode config) {
    DdpmConfig c = parse(config);
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
    var t = c.training();
    sb.append("\ntraining: ").append(t.optimizer().name()).append(" lr ").append(t.optimizer().learningRate())
        .append(", batch ").append(t.batchSize()).append(", steps ").append(t.steps());
    if (t.warmupSteps() > 0) {
      sb.append(", warm-up ").append(t.warmupSteps());
    }
    if (t.gradClipNorm() > 0) {
      sb.append(", clip ").append(t.gradClipNorm());
    }
    if (t.emaDecay() > 0) {
      sb.append(", EMA ").append(t.emaDecay());
    }
    if (t.randomFlip()) {
      sb.append(", random flips");
    }
    sb.append("\nsampling: ").append(c.sampling().sampler());
    return sb.toString();
  }
}
