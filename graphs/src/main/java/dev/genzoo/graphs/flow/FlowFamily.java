package dev.genzoo.graphs.flow;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/** The flow family: RealNVP, Glow, NICE and planar flows. */
public final class FlowFamily extends ConfigFamily<FlowConfig> {
  public FlowFamily() {
    super("flow", "normalising flows (RealNVP, Glow; NICE and planar flows for 2-D): exact likelihood in bits/dim",
        FlowConfig.class);
  }

  @Override
  public List<String> presets() {
    return FlowConfig.presetNames();
  }

  @Override
  public FlowConfig presetConfig(String presetName) {
    return FlowConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(FlowConfig config, ModelOptions options) {
    return new FlowModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(FlowConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(FlowConfig c) {
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
    sb.append("\ntraining: ").append(c.training().summary());
    return sb.toString();
  }
}
