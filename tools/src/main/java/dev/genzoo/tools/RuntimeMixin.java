package dev.genzoo.tools;

import dev.genzoo.graphs.RuntimeOptions;
import picocli.CommandLine.Option;

/** Session options shared by every command that runs a model. */
final class RuntimeMixin {
  @Option(names = "--threads", description = "threads per op (default: all cores)")
  int threads;

  @Option(names = "--device", description = "cpu, gpu:N or gpu:N,M,... (default: TensorFlow's choice)")
  String device;

  @Option(names = "--towers", description = "train N replicas on N devices (GPUs of --device gpu:..., else virtual "
      + "CPU devices), averaging their gradients; in a cluster, per worker task")
  int towers;

  @Option(names = "--no-gpu-memory-growth", description = "let TensorFlow take all GPU memory at start")
  boolean noMemoryGrowth;

  @Option(names = "--runtime", paramLabel = "JSON", description = "a runtime section (the 'runtime' of a run's "
      + "config.json: threads, xla, bf16, device, towers, gpuMemoryGrowth, operationTimeoutMs); flags override it")
  java.nio.file.Path runtimeFile;

  @Option(names = "--xla", description = "XLA JIT compilation")
  boolean xla;

  @Option(names = "--bf16", description = "oneDNN bfloat16 auto mixed precision (CPUs with AVX512-BF16/AMX)")
  boolean bf16;

  RuntimeOptions options() {
    RuntimeOptions base = RuntimeOptions.defaults();
    if (runtimeFile != null) {
      try {
        com.fasterxml.jackson.databind.JsonNode n = dev.genzoo.graphs.Configs.JSON.readTree(runtimeFile.toFile());
        base = RuntimeOptions.fromJson(n.has("runtime") ? n.get("runtime") : n, base);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--runtime " + runtimeFile + ": " + e.getMessage(), e);
      }
    }
    return new RuntimeOptions(threads > 0 ? threads : base.intraOpThreads(), base.interOpThreads(), xla || base.xla(),
        bf16 || base.bf16(), device != null ? device : base.device(), towers > 0 ? towers : base.towers(),
        base.gpuMemoryGrowth() && !noMemoryGrowth, null, base.operationTimeoutMs());
  }
}
