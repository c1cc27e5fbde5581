package dev.genzoo.graphs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.flow.FlowConfig;
import dev.genzoo.graphs.flow.FlowModel;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

class RuntimeOptionsTest {
  @Test
  void aGpuAskedForAndMissingIsAClearError() {
    RuntimeOptions rt = new RuntimeOptions(1, 0, false, false, "gpu:0");
    FlowModel m;
    try {
      m = new FlowModel(FlowConfig.toy2d(), new ModelOptions(false, 0, rt, TFloat32.class));
    } catch (IllegalStateException e) {
      assertTrue(e.getMessage().contains("--device gpu:0 asks for 1 GPU(s) but TensorFlow can use 0"), e.getMessage());
      assertTrue(e.getMessage().contains("device:CPU:0"), e.getMessage());
      assertTrue(e.getMessage().contains("-Pgpu") || e.getMessage().contains("CUDA 12.3"), e.getMessage());
      return;
    }
    m.close();
    Assumptions.abort("this machine has a usable GPU");
  }

  @Test
  void sessionConfigCarriesEveryOption() {
    ConfigProto c = new RuntimeOptions(3, 4, true, true, "gpu:1,2", 2, false, null, 5000).toConfigProto();
    assertEquals(3, c.getIntraOpParallelismThreads());
    assertEquals(4, c.getInterOpParallelismThreads());
    assertEquals("1,2", c.getGpuOptions().getVisibleDeviceList());
    assertFalse(c.getGpuOptions().getAllowGrowth());
    assertEquals(5000, c.getOperationTimeoutInMs());
    assertTrue(c.getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16()
        == org.tensorflow.proto.RewriterConfig.Toggle.ON);
    ConfigProto cpu = new RuntimeOptions(0, 0, false, false, "cpu").withTowers(3).toConfigProto();
    assertEquals(3, cpu.getDeviceCountOrThrow("CPU"));
    assertEquals(0, cpu.getDeviceCountOrThrow("GPU"));
    assertEquals(List.of("/device:GPU:0", "/device:GPU:1"),
        new RuntimeOptions(0, 0, false, false, "gpu:0,1").withTowers(2).towerDevices());
  }

  @Test
  void theRuntimeSectionRoundTripsAndRefusesUnknownKeys() {
    RuntimeOptions rt = new RuntimeOptions(2, 1, true, false, "cpu", 4, false, null, 9);
    assertEquals(rt, RuntimeOptions.fromJson(rt.toJson(), RuntimeOptions.defaults()));
    var bad = Configs.JSON.createObjectNode().put("xla", true).put("trheads", 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RuntimeOptions.fromJson(bad, RuntimeOptions.defaults()));
    assertTrue(e.getMessage().contains("unknown key 'trheads'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RuntimeOptions(0, 0, false, false, "gpu"));
    assertTrue(e.getMessage().contains("--device must be cpu or gpu:N"), e.getMessage());
  }

  @Test
  void clusterSpecsParseAndPlaceTowersOnWorkers() {
    Cluster c = Cluster.parse("ps=h0:2222,h1:2222;worker=h2:2222,h3:2223", "worker", 1);
    assertEquals(2, c.psTasks());
    assertEquals(2, c.workers());
    assertFalse(c.isChief());
    assertEquals("grpc://h3:2223", c.target());
    assertEquals("ps=h0:2222,h1:2222;worker=h2:2222,h3:2223", c.spec());
    assertEquals(2, c.serverDef().getCluster().getJobCount());
    RuntimeOptions rt = RuntimeOptions.defaults().withCluster(c.as("worker", 0), 0);
    assertEquals(List.of("/job:worker/task:0", "/job:worker/task:1"), rt.towerDevices());
    assertEquals(List.of("/job:worker/task:0/device:GPU:0", "/job:worker/task:0/device:GPU:1",
        "/job:worker/task:1/device:GPU:0", "/job:worker/task:1/device:GPU:1"),
        new RuntimeOptions(0, 0, false, false, "gpu:0,1", 2, true, c, 0).towerDevices());
    for (String[] bad : new String[][] {{"worker=h:1", "at least one parameter-server task"},
        {"ps=h:1", "at least one worker task"}, {"ps=h:1;worker=h", "is not HOST:PORT"},
        {"ps=h:1;worker=h:2;chief=h:3", "unknown job 'chief'"}, {"ps=h:1;worker=h:2;ps=h:4", "given twice"}}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Cluster.parse(bad[0], "worker", 0));
      assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Cluster.parse("ps=h:1;worker=h:2", "worker", 1));
    assertTrue(e.getMessage().contains("--task 1: job worker has tasks 0..0"), e.getMessage());
  }
}
