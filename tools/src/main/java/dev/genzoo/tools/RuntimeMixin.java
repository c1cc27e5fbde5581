package dev.genzoo.tools;

import dev.genzoo.graphs.RuntimeOptions;
import picocli.CommandLine.Option;

/** Session options shared by every command that runs a model. */
final class RuntimeMixin {
  @Option(names = "--threads", description = "threads per op (default: all cores)")
  int threads;

  @Option(names = "--device", description = "cpu or gpu:N (default: TensorFlow's choice)")
  String device;

  @Option(names = "--xla", description = "XLA JIT compilation")
  boolean xla;

  @Option(names = "--bf16", description = "oneDNN bfloat16 auto mixed precision (CPUs with AVX512-BF16/AMX)")
  boolean bf16;

  RuntimeOptions options() {
    return new RuntimeOptions(threads, 0, xla, bf16, device);
  }
}
