package dev.genzoo.graphs.ebm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.Saver;
import dev.genzoo.graphs.train.TrainGraph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The replay buffer: restarts at the configured rate (within binomial error), distinct uniformly drawn slots, chains
 * that start from their slot or from noise on the box, final states written back into exactly the drawn slots, and
 * the buffer saved and restored with a model's training state.
 */
class ReplayBufferTest {
  private static final int CAPACITY = 2000;

  /** A buffer of 2-D points whose slot i holds (100 + i, -100 - i), far outside the noise box [-1, 1]. */
  private record Rig(VarStore store, ReplayBuffer buffer, Placeholder<TInt32> n, Placeholder<TInt64> seed,
      ReplayBuffer.Draw draw, Op write, Op fill) {}

  private static Rig rig(Graph g, double restart) {
    VarStore store = new VarStore(g, TFloat64.class, 0);
    Ops tf = store.tf();
    ReplayBuffer buffer = new ReplayBuffer(store, "ebm/replay_buffer", CAPACITY, new long[] {2}, -1, 1, restart);
    Placeholder<TInt32> n = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TInt64> seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    ReplayBuffer.Draw draw = buffer.draw(tf, n, seed);
    // the chains' stand-in: final state = start + (0.25, 0.5)
    Operand<TFloating> fin = tf.math.add(draw.start(),
        Tensors.constant(tf, store.dtype(), new double[] {0.25, 0.5}, Shape.of(1, 2)));
    Op write = buffer.write(tf, draw, fin);
    double[] content = new double[2 * CAPACITY];
    for (int i = 0; i < CAPACITY; i++) {
      content[2 * i] = 100 + i;
      content[2 * i + 1] = -100 - i;
    }
    Op fill = store.assign(buffer.contents(), Tensors.constant(tf, store.dtype(), content, Shape.of(CAPACITY, 2)));
    return new Rig(store, buffer, n, seed, draw, write, fill);
  }

  private static double[] contents(Session s, Rig r) {
    try (Result res = s.runner().fetch(r.buffer().contents()).run()) {
      return HostTensors.toDoubles(res.get(0));
    }
  }

  /** start, indices, restarted of one draw (with the write-back run in the same step when {@code write}). */
  private static List<double[]> draw(Session s, Rig r, int n, long seed, boolean write) {
    try (TInt32 nt = TInt32.scalarOf(n); TInt64 st = TInt64.vectorOf(seed, 7)) {
      Session.Runner run = s.runner().feed(r.n(), nt).feed(r.seed(), st).fetch(r.draw().start())
          .fetch(r.draw().indices()).fetch(r.draw().restarted());
      if (write) {
        run.addTarget(r.write());
      }
      try (Result res = run.run()) {
        List<double[]> out = new ArrayList<>();
        out.add(HostTensors.toDoubles(res.get(0)));
        TInt32 idx = (TInt32) res.get(1);
        double[] slots = new double[(int) idx.shape().size()];
        for (int i = 0; i < slots.length; i++) {
          slots[i] = idx.getInt(i);
        }
        out.add(slots);
        out.add(HostTensors.toDoubles(res.get(2)));
        return out;
      }
    }
  }

  @Test
  void restartsAtTheConfiguredRateAndChainsStartFromTheirSlotOrTheBox() {
    double p = 0.05;
    try (Graph g = new Graph()) {
      Rig r = rig(g, p);
      try (Session s = new Session(g)) {
        s.runner().addTarget(r.store().initializer()).run().close();
        s.runner().addTarget(r.fill()).run().close();
        int n = 1000;
        int draws = 0;
        int restarts = 0;
        double indexSum = 0;
        for (long seed = 0; seed < 20; seed++) {
          List<double[]> d = draw(s, r, n, seed, false);
          double[] start = d.get(0);
          double[] idx = d.get(1);
          double[] restarted = d.get(2);
          Set<Integer> seen = new HashSet<>();
          for (int j = 0; j < n; j++) {
            int slot = (int) idx[j];
            assertTrue(slot >= 0 && slot < CAPACITY, "slot " + slot);
            assertTrue(seen.add(slot), "slot " + slot + " drawn twice in one batch");
            indexSum += slot;
            if (restarted[j] == 1) {
              restarts++;
              assertTrue(Math.abs(start[2 * j]) <= 1 && Math.abs(start[2 * j + 1]) <= 1, "restart outside the box");
            } else {
              assertEquals(0, restarted[j]);
              assertEquals(100 + slot, start[2 * j], "chain " + j + " does not start from its slot");
              assertEquals(-100 - slot, start[2 * j + 1]);
            }
            draws++;
          }
        }
        double se = Math.sqrt(p * (1 - p) / draws);
        double rate = (double) restarts / draws;
        assertTrue(Math.abs(rate - p) < 4 * se, "restart rate " + rate + " vs " + p + " (SE " + se + ")");
        // slots uniform on 0..CAPACITY-1: mean (C - 1) / 2, sd sqrt((C^2 - 1) / 12) / sqrt(draws) (upper bound: the
        // draws within a batch are without replacement, which only lowers the variance)
        double mean = indexSum / draws;
        double seMean = Math.sqrt((CAPACITY * (double) CAPACITY - 1) / 12 / draws);
        assertTrue(Math.abs(mean - (CAPACITY - 1) / 2.0) < 4 * seMean, "mean slot " + mean);
      }
    }
  }

  @Test
  void aFullBatchIsAPermutationOfTheSlots() {
    try (Graph g = new Graph()) {
      Rig r = rig(g, 0.05);
      try (Session s = new Session(g)) {
        s.runner().addTarget(r.store().initializer()).run().close();
        double[] idx = draw(s, r, CAPACITY, 3, false).get(1);
        Set<Integer> seen = new HashSet<>();
        for (double v : idx) {
          seen.add((int) v);
        }
        assertEquals(CAPACITY, seen.size());
      }
    }
  }

  @Test
  void finalStatesAreWrittenIntoExactlyTheDrawnSlots() {
    try (Graph g = new Graph()) {
      Rig r = rig(g, 0.3);
      try (Session s = new Session(g)) {
        s.runner().addTarget(r.store().initializer()).run().close();
        s.runner().addTarget(r.fill()).run().close();
        double[] before = contents(s, r);
        int n = 50;
        List<double[]> d = draw(s, r, n, 11, true);
        double[] after = contents(s, r);
        double[] start = d.get(0);
        double[] idx = d.get(1);
        boolean[] written = new boolean[CAPACITY];
        int restarted = 0;
        for (int j = 0; j < n; j++) {
          int slot = (int) idx[j];
          written[slot] = true;
          restarted += (int) d.get(2)[j];
          assertEquals(start[2 * j] + 0.25, after[2 * slot], 1e-12, "slot " + slot);
          assertEquals(start[2 * j + 1] + 0.5, after[2 * slot + 1], 1e-12, "slot " + slot);
        }
        assertTrue(restarted > 0, "want restarted chains among the written ones");
        for (int i = 0; i < CAPACITY; i++) {
          if (!written[i]) {
            assertEquals(before[2 * i], after[2 * i], "slot " + i + " was not drawn but changed");
            assertEquals(before[2 * i + 1], after[2 * i + 1]);
          }
        }
      }
    }
  }

  @Test
  void initialSlotsAreUniformNoiseOnTheBox() {
    try (Graph g = new Graph()) {
      Rig r = rig(g, 0.05);
      try (Session s = new Session(g)) {
        s.runner().addTarget(r.store().initializer()).run().close();
        double[] c = contents(s, r);
        double sum = 0;
        double sq = 0;
        for (double v : c) {
          assertTrue(v >= -1 && v <= 1);
          sum += v;
          sq += v * v;
        }
        // U[-1, 1]: mean 0, variance 1/3; 4000 values
        double se = Math.sqrt(1.0 / 3 / c.length);
        assertTrue(Math.abs(sum / c.length) < 4 * se, "mean " + sum / c.length);
        assertEquals(1.0 / 3, sq / c.length, 0.03);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> {
      try (Graph g = new Graph()) {
        new ReplayBuffer(new VarStore(g, TFloat32.class, 0), "b", 10, new long[] {2}, 1, -1, 0.05);
      }
    });
  }

  /** The buffer is training state: in the training checkpoint, restored with it, and not in the model's weights. */
  @Test
  void savedAndRestoredWithTheTrainingState(@TempDir Path dir) throws Exception {
    try (EbmModel model = new EbmModel(EbmConfig.tiny(), ModelOptions.training(5))) {
      ReplayBuffer buffer = model.replayBuffer();
      VarStore.Var v = model.variables().get(buffer.variableName());
      assertEquals(VarStore.Kind.SAMPLER, v.kind());
      assertArrayEquals(new long[] {64, 8, 8, 3}, v.shape().asArray());
      Saver state = model.stateSaver();
      assertTrue(state.entries().stream().anyMatch(e -> e.key().equals(buffer.variableName())),
          "the training checkpoint holds the buffer");
      step(model, 0);
      double[] saved = read(model, buffer);
      state.save(model.session(), dir.resolve("state"));
      step(model, 1);
      double[] moved = read(model, buffer);
      assertNotEquals(0, diffCount(saved, moved), "a training step wrote into the buffer");
      state.restore(model.session(), dir.resolve("state"));
      assertArrayEquals(saved, read(model, buffer), "the restored buffer is the saved one");
      model.saveWeights(dir.resolve("weights"));
      assertTrue(Files.exists(dir.resolve("weights.index")));
      assertTrue(Files.size(dir.resolve("weights.index")) > 0);
      // the weights checkpoint is far smaller than the buffer (64 x 192 floats) plus the weights
      long weightsBytes = Files.size(dir.resolve("weights.data-00000-of-00001"));
      long stateBytes = Files.size(dir.resolve("state.data-00000-of-00001"));
      assertTrue(stateBytes - weightsBytes >= 64L * 192 * 4, "state " + stateBytes + " vs weights " + weightsBytes);
    }
  }

  private static int diffCount(double[] a, double[] b) {
    int n = 0;
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i]) {
        n++;
      }
    }
    return n;
  }

  static double[] read(EbmModel model, ReplayBuffer buffer) {
    try (Result r = model.session().runner().fetch(buffer.contents()).run()) {
      return HostTensors.toDoubles(r.get(0));
    }
  }

  static float step(EbmModel model, long step) {
    TrainGraph g = model.trainGraph();
    long[] ds = model.dataShape();
    long[] shape = Tensors.batchShape(model.ebmConfig().training().batchSize(), ds);
    int size = 1;
    for (long d : shape) {
      size *= (int) d;
    }
    SplittableRandom rng = new SplittableRandom(step);
    float[] x = new float[size];
    for (int i = 0; i < size; i++) {
      x[i] = (float) (rng.nextInt(256) + rng.nextDouble());
    }
    try (TFloat32 xt = HostTensors.float32(x, shape); TInt64 seed = TInt64.vectorOf(9, step);
         Result r = model.session().runner().feed(g.x(), xt).feed(g.seed(), seed).addTarget(g.step())
             .fetch(g.loss()).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }
}
