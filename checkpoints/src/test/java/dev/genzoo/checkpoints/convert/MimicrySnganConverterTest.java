package dev.genzoo.checkpoints.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.sngan.ResNetCritic;
import dev.genzoo.graphs.sngan.ResNetGenerator;
import dev.genzoo.graphs.sngan.SnganConfig;
import dev.genzoo.graphs.train.Saver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TFloating;

/**
 * {@link MimicrySnganConverter} on Mimicry-layout checkpoints (netG.pth and netD.pth, each {model_state_dict,
 * optimizer_state_dict, global_step}) written by torch.save from the repository's PyTorch port of Mimicry's SNGAN32
 * (make_torch_converter_fixtures.py): genzoo's generator and critic with the converted weights reproduce PyTorch's
 * eval-mode outputs; the critic's file is found beside the generator's or reported missing; broken checkpoints fail
 * naming the tensors; the table covers Mimicry's CIFAR-10 networks and genzoo's variables exactly.
 */
class MimicrySnganConverterTest {
  private static final double TOL = 1e-4;
  private static final MimicrySnganConverter CONVERTER = new MimicrySnganConverter();
  private static Map<String, NpyArray> ref;

  @TempDir
  Path tmp;

  @BeforeAll
  static void loadReference() throws Exception {
    ref = Npz.readAll(Ncsnv2ConverterTest.resource("mimicry_reference.npz"));
  }

  private static NpyArray ref(String key) {
    NpyArray a = ref.get(key);
    assertNotNull(a, "mimicry_reference.npz has no " + key);
    return a;
  }

  private static Path netG() throws Exception {
    return Ncsnv2ConverterTest.resource("mimicry_tiny/netG.pth");
  }

  @Test
  void configIsReadOffTheWeights() throws Exception {
    TensorSet up = CONVERTER.read(netG());
    SnganConfig c = Configs.fromJson(CONVERTER.config(up, null), SnganConfig.class);
    SnganConfig.Model m = c.model();
    assertEquals(SnganConfig.Network.RESNET, m.network());
    assertEquals(ref("meta/nz").asLongs()[0], m.zDim());
    assertEquals(ref("meta/ngf").asLongs()[0], m.ngf());
    assertEquals(ref("meta/ndf").asLongs()[0], m.ndf());
    assertEquals(ref("meta/bottom_width").asLongs()[0], m.bottomWidth());
    assertArrayEquals(ref("meta/image").asLongs(), m.dataShape());
    assertEquals(SnganConfig.Upsample.BILINEAR, m.upsample());
    SnganConfig preset = SnganConfig.cifar10();
    assertEquals(preset.gan(), c.gan());
    assertEquals(preset.training(), c.training());
    assertTrue(up.metadata().get("netD").endsWith("netD.pth"), up.metadata().toString());
  }

  @Test
  void convertedNetworksReproducePyTorchEvalOutputs() throws Exception {
    Path dir = tmp.resolve("sngan");
    BundleManifest m = Converters.toBundle(CONVERTER, netG(), null, "mimicry-test", dir, false, "test");
    assertEquals("sngan", m.family());
    try (Bundle b = Bundle.open(dir)) {
      SnganConfig c = Configs.fromJson(b.manifest().config(), SnganConfig.class);
      double[][] out = runNetworks(b.checkpointPrefix(), c);
      assertClose(ref("output/g_eval").asDoubles(), out[0], "G(z) in eval mode");
      assertClose(ref("output/d_eval").asDoubles(), out[1], "D(x) in eval mode");
      double[] unit = ref("output/d_eval_unit_u").asDoubles();
      double gap = 0;
      for (int i = 0; i < unit.length; i++) {
        gap = Math.max(gap, Math.abs(unit[i] - out[1][i]));
      }
      assertTrue(gap > 10 * TOL, "the fixture cannot tell a rescaled u from an unscaled one (gap " + gap + ")");

      // and the bundle samples as a genzoo model
      try (GenerativeModel model = Families.get("sngan").create(b.manifest().config(), ModelOptions.inference())) {
        model.restoreWeights(b.checkpointPrefix());
        Samples s = model.sample(3, SampleOptions.seed(1));
        assertArrayEquals(new long[] {3, 8, 8, 3}, s.shape());
      }
    }
  }

  @Test
  void reportListsIgnoredCountersAndNoLeftovers() throws Exception {
    Converters.Converted conv = Converters.convert(CONVERTER, netG(), null);
    assertTrue(conv.report().leftover().isEmpty(), conv.report().leftover().toString());
    long counters = conv.report().ignored().stream().filter(s -> s.contains("num_batches_tracked")).count();
    // two up-sampling blocks with two BatchNorms each, and b4
    assertEquals(5, counters, conv.report().ignored().toString());
  }

  /**
   * Mimicry's model zoo publishes netG.pth alone: the generator converts exactly, and the critic, which sampling never
   * reads, starts fresh (reported as initialised: Xavier-uniform kernels, zero biases, unit u).
   */
  @Test
  void generatorAloneConvertsWithAFreshCritic() throws Exception {
    Path lonely = tmp.resolve("zoo");
    Files.createDirectories(lonely);
    Files.copy(netG(), lonely.resolve("netG.pth"));
    Path dir = tmp.resolve("out");
    Converters.Converted conv = Converters.convert(CONVERTER, lonely.resolve("netG.pth"), null);
    long fresh = conv.report().mapped().stream().filter(l -> l.startsWith("critic/") && l.contains("initialised"))
        .count();
    long critic = Converters.targets("sngan", conv.config()).stream().filter(t -> t.name().startsWith("critic/"))
        .count();
    assertEquals(critic, fresh, conv.report().mapped().toString());
    assertTrue(conv.report().mapped().stream().filter(l -> l.startsWith("generator/"))
        .noneMatch(l -> l.contains("initialised")));
    Converters.toBundle(CONVERTER, lonely.resolve("netG.pth"), null, "x", dir, false, "t");
    try (Bundle b = Bundle.open(dir)) {
      SnganConfig c = Configs.fromJson(b.manifest().config(), SnganConfig.class);
      double[][] out = runNetworks(b.checkpointPrefix(), c);
      assertClose(ref("output/g_eval").asDoubles(), out[0], "G(z) in eval mode, generator-only release");
      TensorSet w = dev.genzoo.checkpoints.formats.TensorBundle.read(b.checkpointPrefix());
      for (String n : w.names()) {
        double[] v = w.get(n).toDoubles();
        if (n.startsWith("critic/") && n.endsWith("_u")) {
          double sq = 0;
          for (double x : v) {
            sq += x * x;
          }
          assertEquals(1, sq, 1e-5, n);
        } else if (n.startsWith("critic/") && n.endsWith("/bias")) {
          for (double x : v) {
            assertEquals(0, x, n);
          }
        } else if (n.startsWith("critic/") && n.endsWith("/kernel")) {
          long[] sh = w.get(n).shape();
          long rf = sh.length == 4 ? sh[0] * sh[1] : 1;
          double a = Math.sqrt(6.0 / (rf * sh[sh.length - 2] + rf * sh[sh.length - 1]));
          double sq = 0;
          for (double x : v) {
            assertTrue(Math.abs(x) <= a, n);
            sq += x * x;
          }
          assertEquals(a * a / 3, sq / v.length, 0.5 * a * a / 3, n + ": variance of U(-a, a)");
        }
      }
    }
    assertTrue(Files.notExists(tmp.resolve("missing")));
  }

  @Test
  void mimicryLogLayoutAndFolderInput() throws Exception {
    Path log = tmp.resolve("log/checkpoints");
    Files.createDirectories(log.resolve("netG"));
    Files.createDirectories(log.resolve("netD"));
    Files.copy(netG(), log.resolve("netG/netG_2_steps.pth"));
    Files.copy(Ncsnv2ConverterTest.resource("mimicry_tiny/netD.pth"), log.resolve("netD/netD_2_steps.pth"));
    TensorSet up = CONVERTER.read(log.resolve("netG/netG_2_steps.pth"));
    assertTrue(up.metadata().get("netD").endsWith("netD_2_steps.pth"), up.metadata().toString());

    Path folder = tmp.resolve("folder");
    Files.createDirectories(folder);
    Files.copy(netG(), folder.resolve("netG.pth"));
    Files.copy(Ncsnv2ConverterTest.resource("mimicry_tiny/netD.pth"), folder.resolve("netD.pth"));
    assertEquals(up.names(), CONVERTER.read(folder).names());
  }

  @Test
  void criticFileGivenAsTheCheckpointIsRefused() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CONVERTER.read(Ncsnv2ConverterTest.resource("mimicry_tiny/netD.pth")));
    assertTrue(e.getMessage().contains("critic"), e.getMessage());
  }

  @Test
  void missingAndMisshapedTensorsAreNamed() throws Exception {
    ConversionException e = assertThrows(ConversionException.class,
        () -> Converters.convert(CONVERTER, Ncsnv2ConverterTest.resource("mimicry_bad/netG.pth"), null));
    String msg = String.join("\n", e.report().problems());
    assertTrue(msg.contains("netG.block2.c1.weight") && msg.contains("generator/block2/c1/kernel"), msg);
    assertTrue(msg.contains("critic/l5/kernel needs shape [8, 1]") && msg.contains("netD.l5.weight_orig"), msg);
    assertTrue(msg.contains("critic/l5/kernel_u"), msg);
    assertEquals(3, e.report().problems().size(), msg);
  }

  @Test
  void scaledUMatchesPyTorchsEvalSigma() {
    // W = [[1, 2], [3, 4]], u = (1, 0), v = (0, 1): u^T W v = 2, W^T u = (1, 2), |W^T u| = sqrt 5
    NamedTensor w = NamedTensor.ofFloats("w", new long[] {2, 2}, new float[] {1, 2, 3, 4});
    NamedTensor u = NamedTensor.ofFloats("u", new long[] {2}, new float[] {1, 0});
    NamedTensor v = NamedTensor.ofFloats("v", new long[] {2}, new float[] {0, 1});
    double[] s = MimicrySnganConverter.scaledU(w, u, v).toDoubles();
    assertEquals(2 / Math.sqrt(5), s[0], 1e-12);
    assertEquals(0, s[1], 0);
    // genzoo's inference sigma |W^T u'| is then PyTorch's 2
    assertEquals(2, Math.hypot(1 * s[0] + 3 * s[1], 2 * s[0] + 4 * s[1]), 1e-12);
    // a conv weight [out 1, in 1, 1, 2]: v has in * kh * kw = 2 entries; a wrong v is an error naming the tensors
    NamedTensor conv = NamedTensor.ofFloats("c", new long[] {1, 1, 1, 2}, new float[] {3, 4});
    NamedTensor u1 = NamedTensor.ofFloats("u", new long[] {1}, new float[] {1});
    assertEquals(3 / 5.0, MimicrySnganConverter.scaledU(conv, u1, NamedTensor.ofFloats("v", new long[] {2},
        new float[] {1, 0})).toDoubles()[0], 1e-12);
    assertThrows(IllegalArgumentException.class, () -> MimicrySnganConverter.scaledU(conv, u1, u1));
  }

  /** The table at Mimicry's CIFAR-10 size (SNGAN32 defaults) against the recorded state_dict keys, both ways. */
  @Test
  void tableMatchesMimicrysCifar10NetworksBothWays() throws Exception {
    Map<String, long[]> upstream = Ncsnv2ConverterTest.readKeys(
        Ncsnv2ConverterTest.resource("mimicry_sngan32_keys.txt"));
    JsonNode cifar = Families.get("sngan").preset("cifar10");
    Map<String, long[]> targets = new HashMap<>();
    for (NameMap.Target t : Converters.targets("sngan", cifar)) {
      targets.put(t.name(), t.shape());
    }
    Set<String> filled = new TreeSet<>();
    Set<String> read = new TreeSet<>();
    for (NameMap.Rule r : CONVERTER.nameMap(cifar).rules()) {
      List<NamedTensor> in = new ArrayList<>();
      for (String u : r.upstream()) {
        long[] shape = upstream.get(u);
        assertNotNull(shape, "the table reads " + u + ", which Mimicry's SNGAN32 does not have");
        in.add(ones(u, shape));
        read.add(u);
      }
      long[] target = targets.get(r.genzoo());
      assertNotNull(target, "the table fills " + r.genzoo() + ", which genzoo's model does not have");
      assertArrayEquals(target, r.compute().apply(in).shape(), r.upstream() + " -> " + r.genzoo());
      assertTrue(filled.add(r.genzoo()), r.genzoo() + " filled twice");
    }
    assertEquals(new TreeSet<>(targets.keySet()), filled);
    Set<String> unread = new TreeSet<>(upstream.keySet());
    unread.removeAll(read);
    for (String k : unread) {
      assertTrue(k.startsWith("netG.") && k.endsWith(".num_batches_tracked"), "upstream " + k + " is not read");
    }
    assertEquals(7, unread.size(), unread.toString()); // three GBlocks with two BatchNorms each, and b5
  }

  private static NamedTensor ones(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[Math.toIntExact(n)];
    java.util.Arrays.fill(v, 1f);
    return NamedTensor.ofFloats(name, shape, v);
  }

  /** genzoo's generator and critic with the bundle's weights, in inference: {G(z) NHWC, D(x)}. */
  private static double[][] runNetworks(Path prefix, SnganConfig c) {
    NpyArray z = ref("input/z");
    NpyArray x = ref("input/x");
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      Ops tf = store.tf();
      ResNetGenerator gen = new ResNetGenerator(store.root().child("generator"), c.model());
      ResNetCritic critic = new ResNetCritic(store.root().child("critic"), c.model());
      long[] hwc = c.model().dataShape();
      Placeholder<TFloating> zIn = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, c.model().zDim())));
      Placeholder<TFloating> xIn = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, hwc[0], hwc[1],
          hwc[2])));
      Operand<TFloating> gOut = gen.call(tf, zIn, Pass.inference());
      Operand<TFloating> dOut = critic.call(tf, xIn, Pass.inference());
      Saver saver = new Saver(store, Saver.identity(store.all()));
      ConfigProto quiet = ConfigProto.newBuilder().setGraphOptions(GraphOptions.newBuilder().setRewriteOptions(
          RewriterConfig.newBuilder().setRemapping(RewriterConfig.Toggle.OFF))).build();
      try (Session s = new Session(g, quiet)) {
        s.runner().addTarget(store.initializer()).run().close();
        saver.restore(s, prefix);
        try (Tensor zt = HostTensors.of(store.dtype(), z.asDoubles(), z.shape());
             Tensor xt = HostTensors.of(store.dtype(), x.asDoubles(), x.shape());
             Result r = s.runner().feed(zIn, zt).feed(xIn, xt).fetch(gOut).fetch(dOut).run()) {
          assertArrayEquals(ref("output/g_eval").shape(), r.get(0).shape().asArray(), "G output shape");
          return new double[][] {HostTensors.toDoubles(r.get(0)), HostTensors.toDoubles(r.get(1))};
        }
      }
    }
  }

  private static void assertClose(double[] expected, double[] actual, String what) {
    Ncsnv2ConverterTest.assertClose(expected, actual, what);
  }
}
