package dev.genzoo.graphs;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * How sessions run, applied in one place to every session genzoo creates.
 *
 * @param intraOpThreads threads inside one op (0: the number of cores)
 * @param interOpThreads ops run concurrently (0: 2)
 * @param xla XLA JIT compilation of the graph (ON_1)
 * @param bf16 oneDNN automatic mixed precision to bfloat16 on CPUs that support it
 * @param device "cpu" to hide GPUs, "gpu:N" to make GPU N visible, null for TensorFlow's default placement
 */
public record RuntimeOptions(int intraOpThreads, int interOpThreads, boolean xla, boolean bf16, String device) {
  public static RuntimeOptions defaults() {
    return new RuntimeOptions(0, 0, false, false, null);
  }

  public ConfigProto toConfigProto() {
    int cores = Runtime.getRuntime().availableProcessors();
    ConfigProto.Builder b = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads > 0 ? intraOpThreads : cores)
        .setInterOpParallelismThreads(interOpThreads > 0 ? interOpThreads : 2)
        .setAllowSoftPlacement(true);
    GraphOptions.Builder g = GraphOptions.newBuilder();
    if (xla) {
      g.setOptimizerOptions(OptimizerOptions.newBuilder().setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.ON_1));
    }
    if (bf16) {
      g.setRewriteOptions(RewriterConfig.newBuilder()
          .setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON));
    }
    b.setGraphOptions(g);
    if (device != null) {
      if (device.equals("cpu")) {
        b.putDeviceCount("GPU", 0);
      } else if (device.startsWith("gpu:")) {
        b.setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true).setVisibleDeviceList(device.substring(4)));
      } else {
        throw new IllegalArgumentException("--device must be cpu or gpu:N, got '" + device + "'");
      }
    }
    return b.build();
  }
}
