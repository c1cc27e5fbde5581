package dev.genzoo.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelBase;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.train.Trainer;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.types.TInt64;

/**
 * Distributed training on TensorFlow's gRPC runtime with every task a separate JVM on 127.0.0.1: one parameter server
 * and two workers train a DDPM on points exactly as one process does with the same global batch, and a worker killed
 * mid-run and restarted costs the interrupted step only.
 */
class DistributedTrainingTest {
  private static final int STEPS = 300;

  @TempDir
  static Path shared;

  @TempDir
  Path tmp;

  private static List<String> reference;
  private final List<Process> started = new ArrayList<>();

  private static List<String> common(Path out) {
    return new ArrayList<>(List.of("train", "ddpm", "--preset", "toy2d", "--data", "toy:8gaussians", "--steps",
        String.valueOf(STEPS), "--set", "training.batchSize=64", "--no-progress", "--checkpoint-every", "100",
        "--sample-every", "0", "--threads", "1", "--out", out.toString()));
  }

  /** The same training in this process, on one device: the loss log the cluster must reproduce. */
  @BeforeAll
  static void trainInOneProcess() throws IOException {
    Path out = shared.resolve("single");
    CliRun.Result r = CliRun.run(common(out).toArray(String[]::new));
    assertEquals(0, r.status(), r.err());
    reference = Files.readAllLines(out.resolve("loss.csv"), StandardCharsets.UTF_8);
  }

  @AfterEach
  void stopTasks() {
    for (Process p : started) {
      p.destroyForcibly();
    }
  }

  @Test
  void onePsAndTwoWorkersTrainAsOneProcessWithTheSameGlobalBatch() throws Exception {
    String cluster = cluster();
    Path out = tmp.resolve("cluster");
    Process ps = task(out, cluster, "ps", 0, "ps.log");
    Process worker1 = task(out, cluster, "worker", 1, "w1.log");
    Process chief = task(out, cluster, "worker", 0, "chief.log");
    assertTrue(chief.waitFor(240, TimeUnit.SECONDS), "the chief did not finish: " + log("chief.log"));
    assertEquals(0, chief.exitValue(), log("chief.log"));
    assertTrue(log("chief.log").contains("2 tower(s) on 2 worker(s)"), log("chief.log"));
    // released by the chief, the other tasks exit by themselves
    assertTrue(ps.waitFor(60, TimeUnit.SECONDS), log("ps.log"));
    assertTrue(worker1.waitFor(60, TimeUnit.SECONDS), log("w1.log"));
    assertEquals(0, ps.exitValue());
    assertEquals(0, worker1.exitValue());
    assertSameLosses(Files.readAllLines(out.resolve("loss.csv"), StandardCharsets.UTF_8));
    assertCheckpointLoads(out);
  }

  @Test
  void aWorkerKilledMidRunAndRestartedCostsOnlyTheInterruptedStep() throws Exception {
    String cluster = cluster();
    Path out = tmp.resolve("cluster");
    task(out, cluster, "ps", 0, "ps.log");
    Process worker1 = task(out, cluster, "worker", 1, "w1.log");
    Process chief = task(out, cluster, "worker", 0, "chief.log");
    Path csv = out.resolve("loss.csv");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (rows(csv) < 60) {
      assertTrue(System.nanoTime() < deadline && chief.isAlive(), "the chief made no progress: " + log("chief.log"));
      Thread.sleep(50);
    }
    worker1.destroyForcibly().waitFor();
    long killedAt = rows(csv);
    assertTrue(killedAt < STEPS, "the run finished before the worker was killed");
    Thread.sleep(2000);
    Process restarted = task(out, cluster, "worker", 1, "w1b.log");
    assertTrue(chief.waitFor(240, TimeUnit.SECONDS), "the chief did not finish: " + log("chief.log"));
    assertEquals(0, chief.exitValue(), log("chief.log"));
    String chiefLog = log("chief.log");
    assertTrue(chiefLog.contains("waiting for the cluster to answer"), chiefLog);
    assertTrue(chiefLog.contains("the cluster answers again; continuing at step"), chiefLog);
    assertTrue(restarted.waitFor(60, TimeUnit.SECONDS), log("w1b.log"));
    // Every step once, with the loss of the uninterrupted single-process run: the interrupted step did not apply,
    // and its retry used the same batch and seed.
    assertSameLosses(Files.readAllLines(csv, StandardCharsets.UTF_8));
    assertCheckpointLoads(out);
  }

  private static void assertSameLosses(List<String> lines) {
    assertEquals(reference.size(), lines.size(), "loss.csv rows");
    for (int i = 1; i < lines.size(); i++) {
      String[] a = reference.get(i).split(",");
      String[] b = lines.get(i).split(",");
      assertEquals(a[0], b[0], "step of row " + i);
      for (int k = 1; k < a.length - 1; k++) {
        double x = Double.parseDouble(a[k]);
        double y = Double.parseDouble(b[k]);
        assertEquals(x, y, 1e-4 * Math.max(1, Math.abs(x)), "step " + a[0] + " column " + k);
      }
    }
  }

  /** The final checkpoint is complete, restores into a fresh model at the last step, and the bundle samples. */
  private static void assertCheckpointLoads(Path out) throws IOException {
    Path ckpt = Trainer.latestCheckpoint(out);
    assertEquals(String.format("step-%08d", STEPS), ckpt.getFileName().toString());
    JsonNode config = Configs.JSON.readTree(out.resolve("config.json").toFile()).path("config");
    try (GenerativeModel m = Families.get("ddpm").create(config, ModelOptions.training(1))) {
      ((ModelBase) m).stateSaver().restore(m.session(), ckpt.resolve("variables"));
      try (Result r = m.session().runner().fetch(m.trainGraph().globalStep()).run()) {
        assertEquals(STEPS, ((TInt64) r.get(0)).getLong());
      }
    }
    Path png = out.resolve("check.png");
    CliRun.Result r = CliRun.run("sample", out.resolve("bundle").toString(), "--n", "256", "--out", png.toString());
    assertEquals(0, r.status(), r.err());
    assertTrue(Files.size(png) > 0);
  }

  private static long rows(Path csv) throws IOException {
    if (!Files.exists(csv)) {
      return 0;
    }
    try (var lines = Files.lines(csv, StandardCharsets.UTF_8)) {
      return Math.max(0, lines.count() - 1);
    }
  }

  private String log(String name) {
    try {
      return Files.readString(tmp.resolve(name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no " + name + ")";
    }
  }

  private static String cluster() throws IOException {
    int[] ports = new int[3];
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        sockets.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
    return "ps=127.0.0.1:" + ports[0] + ";worker=127.0.0.1:" + ports[1] + ",127.0.0.1:" + ports[2];
  }

  /** One task's JVM: the same command line on every task, with its --job and --task. */
  private Process task(Path out, String cluster, String job, int task, String logName) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classPath(), "-Xmx1g", "-Djava.awt.headless=true", "-Dgenzoo.cluster.reconnectTimeoutMs=120000",
        Main.class.getName()));
    cmd.addAll(common(out));
    cmd.addAll(List.of("--cluster", cluster, "--job", job, "--task", String.valueOf(task)));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve(logName).toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    started.add(p);
    return p;
  }

  /** {@code java.class.path}, plus where the classes a task needs were loaded from (a launcher's own loader). */
  private static String classPath() {
    Set<String> entries = new LinkedHashSet<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
    for (String c : List.of("dev.genzoo.tools.Main", "dev.genzoo.graphs.ModelBase", "dev.genzoo.zoo.Zoo",
        "dev.genzoo.checkpoints.Bundle", "picocli.CommandLine", "org.tensorflow.Graph",
        "org.tensorflow.internal.c_api.global.tensorflow", "org.tensorflow.ndarray.Shape",
        "org.bytedeco.javacpp.Loader", "com.google.protobuf.Message", "org.tensorflow.framework.optimizers.Adam",
        "com.fasterxml.jackson.databind.ObjectMapper", "com.fasterxml.jackson.core.JsonFactory",
        "com.fasterxml.jackson.annotation.JsonIgnoreProperties", "org.apache.commons.compress.archivers.ArchiveEntry",
        "org.apache.commons.io.IOUtils", "org.apache.commons.lang3.StringUtils", "org.apache.commons.codec.Charsets",
        "me.tongfei.progressbar.ProgressBar", "org.jline.terminal.Terminal", "org.jline.nativ.JLineNativeLoader")) {
      try {
        Class<?> k = Class.forName(c, false, DistributedTrainingTest.class.getClassLoader());
        entries.add(Path.of(k.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
      } catch (ReflectiveOperationException | java.net.URISyntaxException | NullPointerException e) {
        // not on the class path: not needed
      }
    }
    java.net.URL natives = DistributedTrainingTest.class.getClassLoader()
        .getResource("org/tensorflow/internal/c_api/linux-x86_64/");
    if (natives != null && natives.getProtocol().equals("jar")) {
      String f = natives.getPath();
      entries.add(Path.of(java.net.URI.create(f.substring(0, f.indexOf("!/")))).toString());
    }
    return String.join(File.pathSeparator, entries);
  }
}
