package dev.genzoo.graphs.rbm;

import dev.genzoo.graphs.ConfigFamily;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import java.util.Arrays;
import java.util.List;

/**
 * The RBM family: the lecture notes' restricted Boltzmann machine ({-1, +1} visible spins, Gaussian hidden units),
 * trained by CD-k (Hinton 2002) or PCD-k (Tieleman 2008), sampled by Gibbs sweeps, with an exact likelihood for
 * N <= 20 visible spins.
 */
public final class RbmFamily extends ConfigFamily<RbmConfig> {
  public RbmFamily() {
    super("rbm", "restricted Boltzmann machine (spins, Gaussian hidden units): CD-k / PCD-k training, Gibbs "
        + "sampling, exact likelihood for N <= " + RbmConfig.MAX_ENUMERABLE_VISIBLE, RbmConfig.class);
  }

  @Override
  public List<String> presets() {
    return RbmConfig.presetNames();
  }

  @Override
  public RbmConfig presetConfig(String presetName) {
    return RbmConfig.preset(presetName);
  }

  @Override
  protected GenerativeModel build(RbmConfig config, ModelOptions options) {
    return new RbmModel(config, options);
  }

  @Override
  protected long[] dataShapeOf(RbmConfig config) {
    return config.model().dataShape();
  }

  @Override
  protected String describeConfig(RbmConfig c) {
    RbmConfig.Model m = c.model();
    RbmConfig.Cd cd = c.cd();
    StringBuilder sb = new StringBuilder();
    sb.append("RBM on ").append(Arrays.toString(m.dataShape())).append(": N = ").append(m.visible())
        .append(" visible spins (+1 where the input > ").append(m.threshold()).append("), p = ").append(m.hidden())
        .append(" Gaussian hidden units, H = sum lambda^2 / 2 - h.s - s.W.lambda; W ~ N(0, ").append(m.initStd())
        .append("^2)");
    sb.append("\nlikelihood: ").append(c.isEnumerable() ? "exact (2^" + m.visible() + " states enumerated)"
        : "none (N > " + RbmConfig.MAX_ENUMERABLE_VISIBLE + ")");
    sb.append("\ntraining: ").append(cd.persistent() ? "PCD-" : "CD-").append(cd.k());
    if (cd.persistent()) {
      sb.append(" (").append(cd.chains() > 0 ? cd.chains() : c.training().batchSize()).append(" persistent chains)");
    }
    sb.append(", ").append(c.training().summary());
    if (c.training().initBatchSize() > 0) {
      sb.append(", visible fields from the means of ").append(c.training().initBatchSize()).append(" examples");
    }
    sb.append("\nsampling: ").append(c.sampling().steps()).append(" Gibbs sweeps from random spins");
    return sb.toString();
  }
}
