package dev.genzoo.graphs.flow;

/**
 * Multiply-accumulates of a flow's forward (log-likelihood) pass per example, counted from the convolutions of the
 * architecture (k*k*in*out*H*W each, the invertible 1x1 convolutions included; elementwise ops ignored). Benchmarks
 * turn it into GFLOP/s: 2 FLOPs per MAC, and about 3x the forward pass for a training step.
 */
public final class FlowCost {
  private FlowCost() {}

  public static long forwardMacs(FlowConfig.Model m) {
    if (m.architecture() != FlowConfig.Architecture.GLOW || !m.isImage()) {
      throw new UnsupportedOperationException("MAC counts are implemented for image Glow configs");
    }
    long h = m.dataShape()[0];
    long w = m.dataShape()[1];
    long c = m.dataShape()[2];
    long width = m.width();
    long total = 0;
    for (int i = 0; i < m.levels(); i++) {
      h /= 2;
      w /= 2;
      c *= 4;
      long hw = h * w;
      long half = c / 2;
      long perStep = c * c + 9 * half * width + width * width + 9 * width * 2 * (c - half);
      total += m.steps() * perStep * hw;
      if (i < m.levels() - 1) {
        total += 9 * half * 2 * (c - half) * hw;
        c = half;
      }
    }
    return total;
  }
}
