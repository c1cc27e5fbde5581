package dev.genzoo.graphs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * How sessions run and where a model's ops go, applied in one place ({@link ModelBase}) to every session genzoo
 * creates. The {@code runtime} section of a run's config.json holds the same fields ({@link #toJson}/{@link #fromJson}).
 *
 * @param intraOpThreads threads inside one op (0: the number of cores)
 * @param interOpThreads ops run concurrently (0: 2)
 * @param xla XLA JIT compilation of the graph (ON_1)
 * @param bf16 oneDNN automatic mixed precision to bfloat16 on CPUs that support it
 * @param device "cpu" to hide GPUs, "gpu:LIST" to make GPUs LIST visible ("gpu:0", "gpu:0,1"), null for TensorFlow's
 *     default placement
 * @param towers model replicas for data parallelism (0 or 1: none): each computes the gradient of its slice of the
 *     batch on its own device (GPU i, or virtual CPU device i), and one update applies their average; in a cluster,
 *     replicas per worker task
 * @param gpuMemoryGrowth allocate GPU memory as needed rather than all of it at start
 * @param cluster the TensorFlow cluster this process belongs to, or null to run in-process
 * @param operationTimeoutMs how long one session call may wait (0: forever); in a cluster a dead task then surfaces
 *     as an error the trainer recovers from instead of a hang
 */
public record RuntimeOptions(int intraOpThreads, int interOpThreads, boolean xla, boolean bf16, String device,
    int towers, boolean gpuMemoryGrowth, Cluster cluster, long operationTimeoutMs) {
  private static final Set<String> KEYS = Set.of("intraOpThreads", "interOpThreads", "xla", "bf16", "device", "towers",
      "gpuMemoryGrowth", "operationTimeoutMs");

  public RuntimeOptions {
    if (device != null && !device.equals("cpu") && !device.matches("gpu:\\d+(,\\d+)*")) {
      throw new IllegalArgumentException("--device must be cpu or gpu:N (gpu:0,1 for several), got '" + device + "'");
    }
    if (towers < 0) {
      throw new IllegalArgumentException("--towers must be positive, got " + towers);
    }
    if (device != null && device.startsWith("gpu:") && towers > device.substring(4).split(",").length) {
      throw new IllegalArgumentException("--towers " + towers + " needs as many GPUs, but --device " + device
          + " makes " + device.substring(4).split(",").length + " visible");
    }
  }

  /** Threads, XLA, bf16 and device, no replicas, in-process. */
  public RuntimeOptions(int intraOpThreads, int interOpThreads, boolean xla, boolean bf16, String device) {
    this(intraOpThreads, interOpThreads, xla, bf16, device, 0, true, null, 0);
  }

  public static RuntimeOptions defaults() {
    return new RuntimeOptions(0, 0, false, false, null);
  }

  public RuntimeOptions withTowers(int n) {
    return new RuntimeOptions(intraOpThreads, interOpThreads, xla, bf16, device, n, gpuMemoryGrowth, cluster,
        operationTimeoutMs);
  }

  public RuntimeOptions withCluster(Cluster c, long timeoutMs) {
    return new RuntimeOptions(intraOpThreads, interOpThreads, xla, bf16, device, towers, gpuMemoryGrowth, c,
        timeoutMs);
  }

  /** The same session settings without replicas or cluster: for evaluation and sampling after training. */
  public RuntimeOptions local() {
    return new RuntimeOptions(intraOpThreads, interOpThreads, xla, bf16, device, 0, gpuMemoryGrowth, null, 0);
  }

  /** True when the ops go to GPUs rather than (virtual) CPU devices. */
  public boolean usesGpu() {
    return device != null && device.startsWith("gpu:");
  }

  /**
   * Where a model's training replicas run and its variables live: one entry per tower, e.g.
   * {@code /device:CPU:1}, {@code /device:GPU:0}, {@code /job:worker/task:1}; empty when the model runs as one copy
   * on TensorFlow's default placement.
   */
  public List<String> towerDevices() {
    int perTask = Math.max(1, towers);
    List<String> out = new ArrayList<>();
    if (cluster == null) {
      if (perTask == 1) {
        return out;
      }
      for (int i = 0; i < perTask; i++) {
        out.add((usesGpu() ? "/device:GPU:" : "/device:CPU:") + i);
      }
      return out;
    }
    for (int w = 0; w < cluster.workers(); w++) {
      for (int i = 0; i < perTask; i++) {
        String task = "/job:worker/task:" + w;
        out.add(usesGpu() ? task + "/device:GPU:" + i : perTask > 1 ? task + "/device:CPU:" + i : task);
      }
    }
    return out;
  }

  /** The session target: {@code grpc://} of this task in a cluster, "" in-process. */
  public String target() {
    return cluster == null ? "" : cluster.target();
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
    if (towers > 1 && !usesGpu()) {
      // Virtual CPU devices for CPU towers; they share the process's thread pools.
      b.putDeviceCount("CPU", towers);
    }
    if (device != null) {
      if (device.equals("cpu")) {
        b.putDeviceCount("GPU", 0);
      } else {
        b.setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(gpuMemoryGrowth)
            .setVisibleDeviceList(device.substring(4)));
      }
    } else if (gpuMemoryGrowth) {
      b.setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true));
    }
    if (operationTimeoutMs > 0) {
      b.setOperationTimeoutInMs(operationTimeoutMs);
    }
    return b.build();
  }

  /** The {@code runtime} section of a config.json (the cluster is a property of the launch, not the run). */
  public ObjectNode toJson() {
    ObjectNode n = Configs.JSON.createObjectNode();
    n.put("intraOpThreads", intraOpThreads);
    n.put("interOpThreads", interOpThreads);
    n.put("xla", xla);
    n.put("bf16", bf16);
    n.put("device", device);
    n.put("towers", towers);
    n.put("gpuMemoryGrowth", gpuMemoryGrowth);
    n.put("operationTimeoutMs", operationTimeoutMs);
    return n;
  }

  /** Reads a {@code runtime} section; missing keys keep the values of {@code base}, unknown keys are refused. */
  public static RuntimeOptions fromJson(JsonNode n, RuntimeOptions base) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
      String k = it.next();
      if (!KEYS.contains(k)) {
        throw new IllegalArgumentException("runtime: unknown key '" + k + "' (known: " + new java.util.TreeSet<>(KEYS)
            + ")");
      }
    }
    return new RuntimeOptions(n.path("intraOpThreads").asInt(base.intraOpThreads),
        n.path("interOpThreads").asInt(base.interOpThreads), n.path("xla").asBoolean(base.xla),
        n.path("bf16").asBoolean(base.bf16), n.hasNonNull("device") ? n.get("device").asText() : base.device,
        n.path("towers").asInt(base.towers), n.path("gpuMemoryGrowth").asBoolean(base.gpuMemoryGrowth), base.cluster,
        n.path("operationTimeoutMs").asLong(base.operationTimeoutMs));
  }
}
