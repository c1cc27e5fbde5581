package dev.genzoo.graphs.flow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The flow family: RealNVP, Glow, NICE and planar flows. */
public final class FlowFamily implements ModelFamily {
  @Override
  public String name() {
    return "flow";
  }

  @Override
  public String description() {
    return "normalising flows (RealNVP, Glow; NICE and planar flows for 2-D): exact likelihood in bits/dim";
  }

  @Override
  public List<String> presets() {
    List<String> names = new ArrayList<>();
    names.add("cifar10");
    names.addAll(FlowConfig.presetNames());
    return names;
  }

  @Override
  public JsonNode preset(String name) {
    return Configs.toJson(FlowConfig.preset(name));
  }

  @Override
  public JsonNode validate(JsonNode config) {
    return Configs.toJson(parse(config));
  }

  public static FlowConfig parse(JsonNode config) {
    return Configs.fromJson(config, FlowConfig.class);
  }

  @Override
  public GenerativeModel create(JsonNode config, ModelOptions options) {
    return new FlowModel(parse(config), options);
  }

  @Override
  public long[] dataShape(JsonNode config) {
    return parse(config).model().dataShape().clone();
  }

  @Override
  public String describe(JsonNode config) {
    FlowConfig c = parse(config);
    FlowConfig.Model m = c.model();
    StringBuilder sb = new StringBuilder();
    sb.append(m.architecture()).append(" flow on ").append(Arrays.toString(m.dataShape()));
    switch (m.architecture()) {
      case GLOW -> sb.append(m.isImage() ? ", L=" + m.levels() : "").append(", K=").append(m.steps())
          .append(", width ").append(m.width()).append(", ").append(m.coupling().name().toLowerCase())
          .append(" coupling").append(m.learnTop() ? ", learned top prior" : "");
      case REALNVP -> sb.append(m.isImage() ? ", " + m.levels() + " scales, " + m.resBlocks()
          + " residual blocks" : ", " + m.steps() + " couplings").append(", width ").append(m.width());
      case NICE -> sb.append(", ").append(m.steps()).append(" additive couplings, width ").append(m.width());
      case PLANAR -> sb.append(", ").append(m.steps()).append(" planar layers, target ").append(m.target());
    }
    if (m.isImage()) {
      sb.append(", preprocessing ").append(m.preprocess().name().toLowerCase());
    }
    var t = c.training();
    sb.append("\ntraining: ").append(t.optimizer().name()).append(" lr ").append(t.optimizer().learningRate())
        .append(", batch ").append(t.batchSize()).append(", steps ").append(t.steps());
    if (t.warmupSteps() > 0) {
      sb.append(", warm-up ").append(t.warmupSteps());
    }
    if (t.emaDecay() > 0) {
      sb.append(", EMA ").append(t.emaDecay());
    }
    return sb.toString();
  }
}
