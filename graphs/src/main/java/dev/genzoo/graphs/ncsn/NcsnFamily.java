package dev.genzoo.graphs.ncsn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The NCSN family: noise-conditional score networks sampled by annealed Langevin dynamics. */
public final class NcsnFamily implements ModelFamily {
  @Override
  public String name() {
    return "ncsn";
  }

  @Override
  public String description() {
    return "score networks (NCSN, NCSNv2): denoising score matching, annealed Langevin dynamics; no likelihood";
  }

  @Override
  public List<String> presets() {
    return NcsnConfig.presetNames();
  }

  @Override
  public JsonNode preset(String name) {
    return Configs.toJson(NcsnConfig.preset(name));
  }

  @Override
  public JsonNode validate(JsonNode config) {
    return Configs.toJson(parse(config));
  }

  public static NcsnConfig parse(JsonNode config) {
    return Configs.fromJson(config, NcsnConfig.class);
  }

  @Override
  public GenerativeModel create(JsonNode config, ModelOptions options) {
    return new NcsnModel(parse(config), options);
  }

  @Override
  public long[] dataShape(JsonNode config) {
    return parse(config).model().dataShape().clone();
  }

  @Override
  public String describe(JsonNode config) {
    NcsnConfig c = parse(config);
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
    var t = c.training();
    sb.append("\ntraining: ").append(t.optimizer().name()).append(" lr ").append(t.optimizer().learningRate())
        .append(", batch ").append(t.batchSize()).append(", steps ").append(t.steps());
    if (t.emaDecay() > 0) {
      sb.append(", EMA ").append(t.emaDecay());
    }
    var s = c.sampling();
    sb.append("\nsampling: annealed Langevin, T = ").append(s.stepsPerSigma()).append(" per level, eps = ")
        .append(s.stepLr()).append(s.finalDenoise() ? ", final denoising step" : "");
    return sb.toString();
  }
}
