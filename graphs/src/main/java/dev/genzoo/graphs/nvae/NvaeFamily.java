package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.List;

/** The NVAE family: a deep hierarchical VAE with residual cells and residual normal posteriors (Vahdat & Kautz 2020). */
public final class NvaeFamily extends ConfigFamily<NvaeConfig> {
  public NvaeFamily() {
    super("nvae", "hierarchical VAE (NVAE, Vahdat & Kautz 2020): ancestral sampling with temperature, ELBO and "
        + "importance-weighted bound in bits/dim", NvaeConfig.class);
  }

  @Override
  public List<String> presets() {
    return NvaeConfig.presetNames();
  }

  @Override
  public NvaeConfig presetConfig(String presetName) {
    return NvaeConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(NvaeConfig config, ModelOptions options) {
    return new NvaeModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(NvaeConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(NvaeConfig c) {
    NvaeConfig.Model m = c.model();
    StringBuilder sb = new StringBuilder();
    sb.append("NVAE on ").append(java.util.Arrays.toString(m.dataShape()));
    if (m.padding() > 0) {
      sb.append(" (padded by ").append(m.padding()).append(")");
    }
    sb.append(", ").append(m.likelihood().name().toLowerCase());
    if (m.likelihood() == NvaeConfig.Likelihood.DMOL) {
      sb.append(" with ").append(m.numMix()).append(" logistics");
    }
    sb.append("\nencoder ").append(m.channelsEnc()).append(" / decoder ").append(m.channelsDec())
        .append(" channels; ").append(m.preprocessBlocks()).append(" pre- and ").append(m.postprocessBlocks())
        .append(" post-processing blocks of ").append(m.preprocessCells()).append(" / ").append(m.postprocessCells())
        .append(" cells; ").append(m.latentScales()).append(" latent scale(s) with ")
        .append(java.util.Arrays.toString(m.groups())).append(" groups of ").append(m.latentPerGroup())
        .append(" latent channels; ").append(m.cellsPerGroupEnc()).append(" / ").append(m.cellsPerGroupDec())
        .append(" cells per group; ").append(m.useSe() ? "SE, " : "")
        .append(m.residualPosterior() ? "residual normal posteriors" : "direct posteriors");
    var o = c.objective();
    sb.append("\nobjective: ELBO, KL warm-up over ").append(o.klAnnealPortion() * 100).append("% of the steps")
        .append(o.klBalance() ? " with KL balancing" : "").append(", spectral regularisation lambda ")
        .append(o.spectralRegularization()).append(" (").append(o.powerIterations()).append(" power iterations)");
    sb.append("\ntraining: ").append(c.training().summary());
    sb.append("\nsampling: temperature ").append(c.sampling().temperature()).append(", BN readjusted over ")
        .append(c.sampling().readjustBnIterations()).append(" batches; importance-weighted bound with k = ")
        .append(c.sampling().importanceSamples());
    return sb.toString();
  }
}
