package dev.genzoo.checkpoints.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.formats.DType;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.ncsn.NcsnConfig;
import dev.genzoo.graphs.ncsn.RefineNet;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.Saver;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * {@link Ncsnv2Converter} on checkpoints in ermongroup/ncsnv2's layout written by torch.save from the repository's
 * PyTorch port of NCSNv2 (make_torch_converter_fixtures.py): the converted bundle, loaded into genzoo's RefineNet,
 * reproduces the PyTorch network's outputs; the EMA shadow is preferred; broken checkpoints fail naming the tensor;
 * the table covers the CIFAR-10 network's recorded state_dict keys and genzoo's variables exactly.
 */
class Ncsnv2ConverterTest {
  private static final String DIR = "/dev/genzoo/checkpoints/convert/";
  private static final double TOL = 1e-4;
  private static final Ncsnv2Converter CONVERTER = new Ncsnv2Converter();
  private static Map<String, NpyArray> ref;

  @TempDir
  Path tmp;

  static Path resource(String name) throws Exception {
    URL url = Ncsnv2ConverterTest.class.getResource(DIR + name);
    assertNotNull(url, "missing test resource " + DIR + name + " (run make_torch_converter_fixtures.py)");
    return Path.of(url.toURI());
  }

  @BeforeAll
  static void loadReference() throws Exception {
    ref = Npz.readAll(resource("ncsnv2_reference.npz"));
  }

  private static NpyArray ref(String key) {
    NpyArray a = ref.get(key);
    assertNotNull(a, "ncsnv2_reference.npz has no " + key);
    return a;
  }

  /** The converter's default config with the fixture's image size (the only thing weights cannot tell). */
  private static JsonNode fixtureConfig(Path checkpoint) throws IOException {
    JsonNode c = CONVERTER.config(CONVERTER.read(checkpoint), null);
    long[] image = ref("meta/image").asLongs();
    return Configs.override(c, List.of("model.dataShape=[" + image[0] + "," + image[1] + "," + image[2] + "]"));
  }

  @Test
  void defaultConfigComesFromTheWeightsAndTheSigmasBuffer() throws Exception {
    TensorSet up = CONVERTER.read(resource("ncsnv2_ema.pth"));
    NcsnConfig c = Configs.fromJson(CONVERTER.config(up, null), NcsnConfig.class);
    assertEquals(NcsnConfig.Network.REFINENET_V2, c.model().network());
    assertEquals(ref("meta/ngf").asLongs()[0], c.model().ngf());
    assertArrayEquals(new long[] {32, 32, 3}, c.model().dataShape(), "CIFAR-10 size unless requested");
    assertEquals(10.0, c.noise().sigmaBegin(), 0);
    assertEquals(0.01, c.noise().sigmaEnd(), 0);
    assertEquals(10, c.noise().numScales());
    double[] sigmas = ref("meta/sigmas").asDoubles();
    for (int i = 0; i < sigmas.length; i++) {
      assertEquals(sigmas[i], c.levels().sigma(i), 1e-6 * sigmas[i], "sigma " + i);
    }
    // the rest is NCSNv2's CIFAR-10 preset
    NcsnConfig preset = NcsnConfig.cifar10();
    assertEquals(preset.sampling(), c.sampling());
    assertEquals(preset.training(), c.training());
    assertTrue(up.source().contains("EMA"), up.source());
    assertEquals("2", up.metadata().get("step"));
    assertEquals("3", up.metadata().get("epoch"));
  }

  @Test
  void emaCheckpointConvertsToTheEmaNetwork() throws Exception {
    Path ckpt = resource("ncsnv2_ema.pth");
    Path dir = tmp.resolve("ncsnv2-ema");
    BundleManifest m = Converters.toBundle(CONVERTER, ckpt, fixtureConfig(ckpt), "ncsnv2-test", dir, false,
        "test");
    assertEquals("ncsn", m.family());
    double[] out;
    try (Bundle b = Bundle.open(dir)) {
      out = runRefineNet(b.checkpointPrefix(), Configs.fromJson(b.manifest().config(), NcsnConfig.class));
    }
    assertClose(ref("output/raw_ema").asDoubles(), out, "f(x) with the EMA weights");
    double[] rawWeights = ref("output/raw_noema").asDoubles();
    double far = 0;
    for (int i = 0; i < out.length; i++) {
      far = Math.max(far, Math.abs(out[i] - rawWeights[i]));
    }
    assertTrue(far > 0.05, "the output should not be the raw weights' (max difference " + far + ")");

    // the score s(x, sigma_y) = f(x) / sigma_y with the sigmas the config took from the buffer
    NcsnConfig c = Configs.fromJson(m.config(), NcsnConfig.class);
    long[] y = ref("input/y").asLongs();
    long per = out.length / y.length;
    double[] score = new double[out.length];
    for (int i = 0; i < out.length; i++) {
      score[i] = out[i] / c.levels().sigma((int) y[(int) (i / per)]);
    }
    assertClose(ref("output/score_ema").asDoubles(), score, "score");
  }

  @Test
  void checkpointWithoutEmaConvertsTheRawWeights() throws Exception {
    Path ckpt = resource("ncsnv2_noema.pth");
    Converters.Converted conv = Converters.convert(CONVERTER, ckpt, fixtureConfig(ckpt));
    assertTrue(conv.report().source().contains("raw weights"), conv.report().source());
    assertTrue(conv.report().leftover().isEmpty(), conv.report().leftover().toString());
    assertTrue(conv.report().ignored().stream().anyMatch(s -> s.startsWith("sigmas")), conv.report().ignored()
        .toString());
    Path dir = tmp.resolve("ncsnv2-raw");
    Converters.toBundle(CONVERTER, ckpt, fixtureConfig(ckpt), "ncsnv2-raw", dir, false, "test");
    try (Bundle b = Bundle.open(dir)) {
      double[] out = runRefineNet(b.checkpointPrefix(), Configs.fromJson(b.manifest().config(), NcsnConfig.class));
      assertClose(ref("output/raw_noema").asDoubles(), out, "f(x) with the raw weights");
    }
  }

  @Test
  void missingTensorIsNamed() throws Exception {
    Path ckpt = resource("ncsnv2_missing.pth");
    ConversionException e = assertThrows(ConversionException.class,
        () -> Converters.toBundle(CONVERTER, ckpt, fixtureConfig(ckpt), "x", tmp.resolve("missing"), false, "t"));
    assertTrue(e.getMessage().contains("res2.0.conv2.conv.weight"), e.getMessage());
    assertTrue(e.getMessage().contains("ncsn/res2/block_0/conv2/conv/kernel"), e.getMessage());
    assertEquals(1, e.report().problems().size(), e.report().problems().toString());
    assertTrue(Files.notExists(tmp.resolve("missing")), "nothing written");
  }

  @Test
  void wrongShapeIsNamedAndLeftoversReported() throws Exception {
    Path ckpt = resource("ncsnv2_wrongshape.pth");
    ConversionException e = assertThrows(ConversionException.class,
        () -> Converters.convert(CONVERTER, ckpt, fixtureConfig(ckpt)));
    assertTrue(e.getMessage().contains("ncsn/end_conv/bias") && e.getMessage().contains("end_conv.bias"),
        e.getMessage());
    assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[4]"), e.getMessage());
    assertEquals(List.of("extra_buffer"), e.report().leftover());
  }

  @Test
  void genzooNamesFollowRefineNetsRule() {
    assertThrows(IllegalArgumentException.class, () -> Ncsnv2Converter.genzooName("res1.7.conv1.weight.x.3"));
    assertEquals("ncsn/refine4/adapt_convs/block_1/norm_2_1/embedding",
        Ncsnv2Converter.genzooName("refine4.adapt_convs.1.2_1_norm.embed.weight"));
    assertEquals("ncsn/refine2/crp/convs/conv_0/kernel", Ncsnv2Converter.genzooName("refine2.crp.convs.0.weight"));
    assertEquals("ncsn/res1/block_0/normalize1/alpha", Ncsnv2Converter.genzooName("res1.0.normalize1.alpha"));
    assertEquals("ncsn/refine1/output_convs/conv_1_2/kernel",
        Ncsnv2Converter.genzooName("refine1.output_convs.1_2_conv.weight"));
  }

  @Test
  void nonGeometricSigmasAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Ncsnv2Converter.geometricNoise("f.pth", new double[] {10, 2, 1, 0.01}));
    assertTrue(e.getMessage().contains("geometric"), e.getMessage());
    NcsnConfig.Noise n = Ncsnv2Converter.geometricNoise("f.pth", new double[] {(float) 50, (float) (50 * Math.pow(
        0.01 / 50, 1 / 2.0)), (float) 0.01});
    assertEquals(new NcsnConfig.Noise(50, 0.01, 3), n);
  }

  /**
   * The table at the CIFAR-10 size: the upstream keys it reads are exactly NCSNv2's state_dict keys recorded from the
   * PyTorch port (less the sigmas buffer), and each becomes a genzoo variable of the right shape, every variable once.
   */
  @Test
  void tableMatchesTheCifar10NetworkBothWays() throws Exception {
    Map<String, long[]> upstream = readKeys(resource("ncsnv2_cifar10_keys.txt"));
    Map<String, long[]> stripped = new LinkedHashMap<>();
    upstream.forEach((k, v) -> {
      assertTrue(k.startsWith("module."), "DataParallel prefix on " + k);
      stripped.put(k.substring("module.".length()), v);
    });
    assertEquals(232, stripped.get("sigmas")[0]);
    Set<String> expected = new TreeSet<>(stripped.keySet());
    expected.remove("sigmas");
    assertEquals(expected, new TreeSet<>(Ncsnv2Converter.upstreamParameters()));

    JsonNode cifar = Families.get("ncsn").preset("cifar10");
    Map<String, long[]> targets = new HashMap<>();
    long params = 0;
    for (NameMap.Target t : Converters.targets("ncsn", cifar)) {
      targets.put(t.name(), t.shape());
    }
    Set<String> filled = new TreeSet<>();
    for (NameMap.Rule r : CONVERTER.nameMap(cifar).rules()) {
      assertEquals(1, r.upstream().size(), r.genzoo());
      String u = r.upstream().get(0);
      long[] shape = stripped.get(u);
      assertNotNull(shape, "the table reads " + u + ", which NCSNv2 does not have");
      long[] target = targets.get(r.genzoo());
      assertNotNull(target, "the table fills " + r.genzoo() + ", which genzoo's model does not have");
      NamedTensor converted = r.compute().apply(List.of(zeros(u, shape)));
      assertArrayEquals(target, converted.shape(), u + " -> " + r.genzoo());
      assertTrue(filled.add(r.genzoo()), r.genzoo() + " filled twice");
      params += converted.numElements();
    }
    assertEquals(new TreeSet<>(targets.keySet()), filled);
    long upstreamParams = 0;
    for (String k : expected) {
      long n = 1;
      for (long d : stripped.get(k)) {
        n *= d;
      }
      upstreamParams += n;
    }
    assertEquals(upstreamParams, params);
  }

  static Map<String, long[]> readKeys(Path file) throws IOException {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] kv = line.split("\t", -1);
      long[] shape = kv[1].isEmpty() ? new long[0]
          : java.util.Arrays.stream(kv[1].split(",")).mapToLong(Long::parseLong).toArray();
      out.put(kv[0], shape);
    }
    return out;
  }

  static NamedTensor zeros(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return new NamedTensor(name, DType.F32, shape, new byte[Math.toIntExact(4 * n)]);
  }

  /** genzoo's V2 RefineNet with the bundle's weights on the fixture's input: f(x), NHWC, flattened. */
  private static double[] runRefineNet(Path prefix, NcsnConfig c) {
    NpyArray x = ref("input/x");
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      Ops tf = store.tf();
      RefineNet net = new RefineNet(store.root().child("ncsn"), c.model().dataShape(), c.model().ngf(),
          RefineNet.Variant.V2, 0);
      long[] hwc = c.model().dataShape();
      Placeholder<TFloating> in = tf.placeholder(store.dtype(), Placeholder.shape(Shape.of(-1, hwc[0], hwc[1],
          hwc[2])));
      Operand<TFloating> y = net.call(tf, in, null);
      Saver saver = new Saver(store, Saver.identity(store.all()));
      // as NcsnModel does: Grappler's oneDNN remapper trips over the RCU sums (a log line, results unaffected)
      ConfigProto quiet = ConfigProto.newBuilder().setGraphOptions(GraphOptions.newBuilder().setRewriteOptions(
          RewriterConfig.newBuilder().setRemapping(RewriterConfig.Toggle.OFF))).build();
      try (Session s = new Session(g, quiet)) {
        s.runner().addTarget(store.initializer()).run().close();
        saver.restore(s, prefix);
        try (Tensor xt = HostTensors.of(store.dtype(), x.asDoubles(), x.shape());
             Result r = s.runner().feed(in, xt).fetch(y).run()) {
          assertArrayEquals(ref("output/raw_ema").shape(), r.get(0).shape().asArray(), "output shape");
          return HostTensors.toDoubles(r.get(0));
        }
      }
    }
  }

  static void assertClose(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": size");
    double worst = 0;
    int at = -1;
    double ss = 0;
    for (int i = 0; i < expected.length; i++) {
      ss += expected[i] * expected[i];
      double d = Math.abs(expected[i] - actual[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    assertTrue(Math.sqrt(ss / expected.length) > 0.05, what + ": degenerate reference");
    assertTrue(worst <= TOL, what + ": |difference| " + worst + " at " + at + " (expected " + (at < 0 ? 0
        : expected[at]) + ", got " + (at < 0 ? 0 : actual[at]) + ")");
  }
}
