package dev.genzoo.graphs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Batch;
import dev.genzoo.data.BatchSource;
import dev.genzoo.data.ToyBatches;
import dev.genzoo.data.Toys;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.flow.FlowConfig;
import dev.genzoo.graphs.flow.FlowModel;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.VarStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.Session;

class TrainerTest {
  @TempDir
  Path tmp;

  private static FlowConfig smallToy(long steps) {
    FlowConfig c = FlowConfig.toy2d();
    var m = c.model();
    return new FlowConfig("test", new FlowConfig.Model(m.architecture(), m.dataShape(), 1, 3, 16, 0, m.coupling(),
        true, m.preprocess(), m.logitAlpha(), null), c.training().withSteps(steps), c.sampling());
  }

  private static Trainer.Options options(Path out) {
    return Trainer.Options.defaults(out).withSeed(7).withProgress(false).withCheckpointEvery(10).withSampleEvery(-1);
  }

  /** Every variable of the training state (weights, Adam slots, EMA, step), flattened. */
  private static List<double[]> state(FlowModel model) {
    List<double[]> out = new ArrayList<>();
    Session s = model.session();
    for (VarStore.Var v : model.variables().all()) {
      if (v.kind() == VarStore.Kind.SCRATCH || v.kind() == VarStore.Kind.STEP) {
        continue;
      }
      try (Result r = s.runner().fetch(v.ref()).run()) {
        out.add(HostTensors.toDoubles(r.get(0)));
      }
    }
    return out;
  }

  @Test
  void trainingNStepsEqualsHalfThenResume() throws IOException {
    FlowConfig cfg = smallToy(40);
    BatchSource data = new ToyBatches(Toys.byName("8gaussians"), 7);
    List<double[]> straight;
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      Trainer.Result r = new Trainer(m, data, cfg.training(), options(tmp.resolve("a")), s -> { }).run();
      assertEquals(40, r.step());
      straight = state(m);
    }
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      Trainer.Result r = new Trainer(m, data, cfg.training(), options(tmp.resolve("b")).withUntilStep(20), s -> { })
          .run();
      assertEquals(20, r.step());
    }
    List<double[]> resumed;
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(99))) {
      Trainer.Result r = new Trainer(m, data, cfg.training(), options(tmp.resolve("b")).withResume(true), s -> { })
          .run();
      assertEquals(20, r.startStep());
      assertEquals(40, r.step());
      resumed = state(m);
    }
    assertEquals(straight.size(), resumed.size());
    for (int i = 0; i < straight.size(); i++) {
      assertArrayEquals(straight.get(i), resumed.get(i), 1e-6, "variable " + i + " after resuming");
    }
    // The loss log of the resumed run is the uninterrupted one, row for row (minus the wall-clock column).
    assertEquals(lossColumns(tmp.resolve("a")), lossColumns(tmp.resolve("b")));
  }

  private static List<String> lossColumns(Path out) throws IOException {
    List<String> rows = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("loss.csv"), StandardCharsets.UTF_8)) {
      rows.add(line.substring(0, line.lastIndexOf(',')));
    }
    return rows;
  }

  /** A source that returns NaN from step {@code bad} on. */
  private record Poisoned(BatchSource inner, long bad) implements BatchSource {
    @Override
    public long[] exampleShape() {
      return inner.exampleShape();
    }

    @Override
    public Batch batch(long step, int batchSize) {
      Batch b = inner.batch(step, batchSize);
      if (step >= bad) {
        java.util.Arrays.fill(b.x(), Float.NaN);
      }
      return b;
    }

    @Override
    public String describe() {
      return "poisoned";
    }
  }

  @Test
  void nanLossStopsAndKeepsTheLastGoodCheckpoint() throws IOException {
    FlowConfig cfg = smallToy(40);
    Path out = tmp.resolve("nan");
    BatchSource data = new Poisoned(new ToyBatches(Toys.byName("8gaussians"), 7), 14);
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
          () -> new Trainer(m, data, cfg.training(), options(out), s -> { }).run());
      assertEquals(15, e.step());
      assertTrue(e.getMessage().contains("at step 15"), e.getMessage());
      assertTrue(e.getMessage().contains("step-00000010"), e.getMessage());
    }
    assertEquals(out.resolve("checkpoints/step-00000010"), Trainer.latestCheckpoint(out));
    assertFalse(Files.exists(out.resolve("checkpoints/step-00000015")));
    // The kept checkpoint is whole: a fresh model resumes from it.
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      Trainer.Result r = new Trainer(m, new ToyBatches(Toys.byName("8gaussians"), 7), cfg.training(),
          options(out).withResume(true), s -> { }).run();
      assertEquals(10, r.startStep());
      assertTrue(Double.isFinite(r.lastLoss()));
    }
  }

  @Test
  void aCrashMidCheckpointLeavesThePreviousOneUsable() throws IOException {
    FlowConfig cfg = smallToy(30);
    Path out = tmp.resolve("crash");
    BatchSource data = new ToyBatches(Toys.byName("8gaussians"), 7);
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      new Trainer(m, data, cfg.training(), options(out).withUntilStep(20), s -> { }).run();
    }
    // What a process killed while writing step 30 leaves: a half-written temporary folder next to the good ones.
    Path half = out.resolve("checkpoints/.tmp-step-00000030123");
    Files.createDirectories(half);
    Files.write(half.resolve("variables.index"), new byte[] {1, 2, 3});
    assertEquals(out.resolve("checkpoints/step-00000020"), Trainer.latestCheckpoint(out));
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      Trainer.Result r = new Trainer(m, data, cfg.training(), options(out).withResume(true), s -> { }).run();
      assertEquals(20, r.startStep());
      assertEquals(30, r.step());
    }
    assertFalse(Files.exists(half), "temporary leftovers are swept");
    assertEquals(out.resolve("checkpoints/step-00000030"), Trainer.latestCheckpoint(out));
  }

  @Test
  void refusesToOverwriteARunWithoutResume() throws IOException {
    FlowConfig cfg = smallToy(10);
    Path out = tmp.resolve("twice");
    BatchSource data = new ToyBatches(Toys.byName("8gaussians"), 7);
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      new Trainer(m, data, cfg.training(), options(out), s -> { }).run();
    }
    try (FlowModel m = new FlowModel(cfg, ModelOptions.training(3))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Trainer(m, data, cfg.training(), options(out), s -> { }).run());
      assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }
  }

  @Test
  void writesTheLossLogCurveAndSampleGrids() throws IOException {
    FlowConfig cfg = FlowConfig.tiny();
    Path out = tmp.resolve("pictures");
    byte[] pixels = new byte[64 * 8 * 8 * 3];
    new java.util.Random(1).nextBytes(pixels);
    var images = new dev.genzoo.data.ImageDataset(pixels, 64, 8, 8, 3, null, List.of(), "random bytes");
    BatchSource data = new dev.genzoo.data.ImageBatches(images, 1, true, false);
    try (FlowModel m = new FlowModel(cfg.withTraining(cfg.training().withSteps(12)), ModelOptions.training(3))) {
      new Trainer(m, data, m.flowConfig().training(), options(out).withSampleEvery(6), s -> { }).run();
    }
    List<String> csv = Files.readAllLines(out.resolve("loss.csv"));
    assertEquals(13, csv.size());
    assertTrue(csv.get(0).startsWith("step,loss,bpd,grad_norm,lr"), csv.get(0));
    for (String png : List.of("loss.png", "samples/step-00000006.png", "samples/step-00000012.png")) {
      assertTrue(javax.imageio.ImageIO.read(out.resolve(png).toFile()).getWidth() > 100, png);
    }
    assertTrue(Files.exists(out.resolve("config.json")));
  }
}
