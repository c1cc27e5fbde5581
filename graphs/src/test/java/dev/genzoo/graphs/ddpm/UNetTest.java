package dev.genzoo.graphs.ddpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.Npz;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.VarStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The U-Net against a PyTorch implementation of the DDPM network (tools' bench/ddpm_torch.py, fixtures made by
 * scripts/make-ddpm-fixtures.sh): every weight random, the same inputs, the outputs compared; and the parameter count of
 * the CIFAR-10 configuration against the released checkpoint's 35,746,307.
 */
class UNetTest {
  @Test
  void cifar10HasThePublishedParameterCount() {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      new UNet(store.root().child("unet"), DdpmConfig.cifar10().model());
      assertEquals(35_746_307L, store.parameterCount());
      // Within 0.5% of the paper's 35.7M.
      assertTrue(Math.abs(store.parameterCount() - 35.7e6) / 35.7e6 < 0.005);
    }
  }

  @Test
  void matchesPyTorchUnconditional() throws Exception {
    compare("unet_tiny.npz", 0);
  }

  @Test
  void matchesPyTorchClassConditional() throws Exception {
    compare("unet_tiny_cond.npz", 10);
  }

  private void compare(String fixture, int numClasses) throws Exception {
    Path file = Path.of(getClass().getResource(fixture).toURI());
    Map<String, NpyArray> arrays = Npz.readAll(file);
    DdpmConfig.Model m = new DdpmConfig.Model(DdpmConfig.Network.UNET, new long[] {8, 8, 3}, 32, new int[] {1, 2}, 1,
        new int[] {4}, 0.1, 32, numClasses, 0.1);
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      Ops tf = store.tf();
      UNet net = new UNet(store.root().child("unet"), m);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 3)));
      Placeholder<TInt32> t = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TInt32> y = numClasses > 0 ? tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))) : null;
      @SuppressWarnings("unchecked")
      Operand<TFloating> xf = (Operand<TFloating>) (Operand<?>) x;
      Operand<TFloating> eps = net.call(tf, xf, t, y, null);
      List<Op> assigns = new ArrayList<>();
      Set<String> used = new HashSet<>();
      for (VarStore.Var v : store.all()) {
        NpyArray a = arrays.get(v.name());
        assertTrue(a != null, "fixture has no array for " + v.name());
        assertEquals(v.shape(), Shape.of(a.shape()), v.name());
        assigns.add(tf.assign(v.<TFloat32>as(), tf.constant(Shape.of(a.shape()),
            org.tensorflow.ndarray.buffer.DataBuffers.of(a.asFloats(), true, false))));
        used.add(v.name());
      }
      for (String k : arrays.keySet()) {
        assertTrue(used.contains(k) || !k.startsWith("unet/"), "fixture array " + k + " is not a variable");
      }
      try (Session s = new Session(g)) {
        Session.Runner init = s.runner();
        assigns.forEach(init::addTarget);
        init.run().close();
        NpyArray xs = arrays.get("input/x");
        float[] expected = arrays.get("output/eps").asFloats();
        try (TFloat32 xt = HostTensors.float32(xs.asFloats(), xs.shape());
             TInt32 tt = TInt32.vectorOf(ints(arrays.get("input/t")));
             TInt32 yt = numClasses > 0 ? TInt32.vectorOf(ints(arrays.get("input/labels"))) : null) {
          Session.Runner r = s.runner().feed(x, xt).feed(t, tt).fetch(eps);
          if (y != null) {
            r.feed(y, yt);
          }
          try (Result res = r.run()) {
            double[] got = HostTensors.toDoubles(res.get(0));
            assertEquals(expected.length, got.length);
            double maxAbs = 0;
            double maxErr = 0;
            for (int i = 0; i < got.length; i++) {
              maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
              maxErr = Math.max(maxErr, Math.abs(expected[i] - got[i]));
            }
            assertTrue(maxErr < 1e-4 * Math.max(1, maxAbs), "max |genzoo - PyTorch| = " + maxErr + " (output scale "
                + maxAbs + ")");
          }
        }
      }
    }
  }

  private static int[] ints(NpyArray a) {
    long[] l = a.asLongs();
    int[] r = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      r[i] = (int) l[i];
    }
    return r;
  }
}
