package dev.genzoo.graphs.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FlowCostTest {
  /**
   * Glow CIFAR-10 forward MACs per image: per level (C = 12, 24, 48 at 16x16, 8x8, 4x4) K = 32 steps of
   * C^2 (1x1 invertible conv) + 9 (C/2) W + W^2 + 9 W C (coupling network), and the split priors 9 (C/2) C.
   * The PyTorch peer counts the same 4,011,528,192 from the convolutions it runs.
   */
  @Test
  void glowCifar10ForwardMacs() {
    long w = 512;
    long total = 0;
    long[][] levels = {{12, 256}, {24, 64}, {48, 16}};
    for (int i = 0; i < 3; i++) {
      long c = levels[i][0];
      long hw = levels[i][1];
      total += 32 * (c * c + 9 * (c / 2) * w + w * w + 9 * w * c) * hw;
      if (i < 2) {
        total += 9 * (c / 2) * c * hw;
      }
    }
    assertEquals(4_011_528_192L, total);
    assertEquals(total, FlowCost.forwardMacs(FlowConfig.glowCifar10().model()));
  }
}
