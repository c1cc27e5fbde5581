package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The NCSN family: noise-conditional score networks sampled by annealed Langevin dynamics. */
public final class NcsnFamily extends ConfigFamily<NcsnConfig> {
  public NcsnFamily() {
    super("ncsn", "score networks (NCSN, NCSNv2): denoising score matching, annealed Langevin dynamics; no likelihood",
        NcsnConfig.class);
  }

  @Override
  public List<String> presets() {
    return NcsnConfig.presetNames();
  }

  @Override
  public NcsnConfig presetConfig(String presetName) {
    return NcsnConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(NcsnConfig config, ModelOptions options) {
    return new NcsnModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(NcsnConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(NcsnConfig c) {
    NcsnConfig.Model m = c.model();
    StringBuilder sb = new StringBuilder();
    switch (m.network()) {
      case REFINENET_V1 -> sb.append("NCSN CondRefineNetDilated (conditional instance norm++, ELU), ngf ")
          .append(m.ngf());
      case REFINENET_V2 -> sb.append("NCSNv2 RefineNet (instance norm++, ELU, output / sigma), ngf ").append(m.ngf());
      case MLP -> sb.append("residual MLP, width ").append(m.ngf()).append(", ").append(m.depth())
          .append(" layers, conditioned on the level, output / sigma");
    }
    sb.append(" on ").append(Arrays.toString(m.dataShape()));
    var n = c.noise();
    sb.append("\nnoise: ").append(n.numScales()).append(" geometric levels from ").append(n.sigmaBegin())
        .append(" to ").append(n.sigmaEnd()).append(", denoising score matching weighted by sigma^2");
    sb.append("\ntraining: ").append(c.training().summary());
    var s = c.sampling();
    sb.append("\nsampling: annealed Langevin, T = ").append(s.stepsPerSigma()).append(" per level, eps = ")
        .append(s.stepLr()).append(s.finalDenoise() ? ", final denoising step" : "");
    return sb.toString();
  }
}
