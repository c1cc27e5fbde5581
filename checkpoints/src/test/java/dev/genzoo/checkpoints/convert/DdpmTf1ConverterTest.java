package dev.genzoo.checkpoints.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.ddpm.DdpmConfig;
import dev.genzoo.graphs.ddpm.UNet;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.Saver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The DDPM TF1 converter on a checkpoint written by TensorFlow's SaveV2 from the upstream tensors of
 * make_tf1_converter_fixtures.py (raw weights, different EMA shadows, Adam slots, global_step): the converted bundle
 * loads as a genzoo DDPM and its U-Net reproduces the PyTorch port's eps_theta(x, t) with the EMA weights (or the raw
 * ones for the raw converter); broken checkpoints fail naming the tensor; the table fits the released CIFAR-10 model.
 */
class DdpmTf1ConverterTest {
  private static final String FIXTURE = "ddpm_tf1_tiny.npz";
  private static Map<String, NpyArray> arrays;

  @TempDir
  Path tmp;

  @BeforeAll
  static void load() throws IOException {
    arrays = Tf1Fixtures.npz(FIXTURE);
  }

  /** The fixture's architecture (its meta arrays) in the cifar10 preset's config. */
  private static DdpmConfig tinyConfig() {
    long[] image = arrays.get("meta/image_shape").asLongs();
    DdpmConfig p = DdpmConfig.cifar10();
    DdpmConfig.Model m = new DdpmConfig.Model(DdpmConfig.Network.UNET, image,
        Tf1Fixtures.ints(arrays.get("meta/ch"))[0], Tf1Fixtures.ints(arrays.get("meta/ch_mult")),
        Tf1Fixtures.ints(arrays.get("meta/num_res_blocks"))[0], Tf1Fixtures.ints(arrays.get("meta/attn_res")), 0.1,
        Tf1Fixtures.ints(arrays.get("meta/groups"))[0], 0, 0);
    return new DdpmConfig("tf1-fixture", m, p.diffusion(), p.training(), p.sampling());
  }

  private Path checkpoint(Map<String, NpyArray> tensors) {
    return Tf1Fixtures.saveV2(tensors, tmp.resolve("diffusion_model").resolve("model.ckpt-790000"));
  }

  private Path checkpoint() throws IOException {
    Files.createDirectories(tmp.resolve("diffusion_model"));
    return checkpoint(Tf1Fixtures.checkpointTensors(arrays));
  }

  @Test
  void fixtureIsTheExpectedArchitecture() {
    assertArrayEquals(new long[] {8, 8, 3}, arrays.get("meta/image_shape").asLongs());
    assertEquals(4, Tf1Fixtures.ints(arrays.get("meta/ch"))[0]);
    assertArrayEquals(new int[] {1, 2}, Tf1Fixtures.ints(arrays.get("meta/ch_mult")));
    assertArrayEquals(new int[] {4}, Tf1Fixtures.ints(arrays.get("meta/attn_res")));
  }

  @Test
  void emaWeightsReproduceTheReferenceOutput() throws Exception {
    Path prefix = checkpoint();
    JsonNode config = Configs.toJson(tinyConfig());
    Path dir = tmp.resolve("bundle");
    BundleManifest written = Converters.toBundle(new DdpmTf1Converter(), Path.of(prefix + ".index"), config,
        "ddpm-tf1-fixture", dir, false, "genzoo convert ddpm-tf1 model.ckpt-790000");
    assertEquals("ddpm", written.family());
    String notes = written.provenance().notes().toString();
    assertTrue(notes.contains("ddpm-tf1") && notes.contains("0 left over"), notes);
    try (Bundle bundle = Bundle.open(dir)) {
      try (GenerativeModel model = Families.get("ddpm").create(bundle.manifest().config(), ModelOptions.inference())) {
        model.restoreWeights(bundle.checkpointPrefix());
      }
      double[] eps = eps(tinyConfig().model(), bundle.checkpointPrefix());
      float[] expected = arrays.get("output/eps").asFloats();
      double err = Tf1Fixtures.maxAbsDiff(expected, eps);
      assertTrue(err < 1e-4 * Math.max(1, Tf1Fixtures.maxAbs(expected)), "max |genzoo - reference| = " + err);
      // the raw weights give another network: the EMA shadows were really taken
      assertTrue(Tf1Fixtures.maxAbsDiff(arrays.get("output/eps_raw").asFloats(), eps) > 0.1);
    }
  }

  @Test
  void rawWeightsConverterTakesTheTrainingWeights() throws Exception {
    Path prefix = checkpoint();
    DdpmTf1Converter raw = DdpmTf1Converter.rawWeights();
    assertEquals("ddpm-tf1-raw", raw.name());
    Path dir = tmp.resolve("bundle-raw");
    // the data shard's name also finds the checkpoint
    Converters.toBundle(raw, Path.of(prefix + ".data-00000-of-00001"), Configs.toJson(tinyConfig()), "raw", dir,
        false, "test");
    try (Bundle bundle = Bundle.open(dir)) {
      double[] eps = eps(tinyConfig().model(), bundle.checkpointPrefix());
      float[] expected = arrays.get("output/eps_raw").asFloats();
      double err = Tf1Fixtures.maxAbsDiff(expected, eps);
      assertTrue(err < 1e-4 * Math.max(1, Tf1Fixtures.maxAbs(expected)), "max |genzoo - reference| = " + err);
    }
    Converters.Converted c = Converters.convert(raw, prefix, Configs.toJson(tinyConfig()));
    assertEquals("raw", raw.read(prefix).metadata().get(DdpmTf1Converter.WEIGHTS_KEY));
    assertTrue(c.report().ignored().stream().anyMatch(s -> s.startsWith("model/conv_in/W/ExponentialMovingAverage ")),
        c.report().ignored().toString());
  }

  @Test
  void reportIgnoresOptimizerStateAndListsLeftovers() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    t.put("model/extra/W", Tf1Fixtures.filled(1f, 2, 2));
    t.put("model/extra/W/ExponentialMovingAverage", Tf1Fixtures.filled(2f, 2, 2));
    t.put("some_counter", NpyArray.ofLongs(new long[] {7}));
    Files.createDirectories(tmp.resolve("diffusion_model"));
    Path prefix = checkpoint(t);
    DdpmTf1Converter conv = new DdpmTf1Converter();
    TensorSet read = conv.read(prefix);
    assertEquals("ema", read.metadata().get(DdpmTf1Converter.WEIGHTS_KEY));
    assertArrayEquals(new float[] {2, 2, 2, 2}, read.get("model/extra/W").toFloats(), "EMA value taken");
    assertFalse(read.contains("model/conv_in/W/ExponentialMovingAverage"));
    Converters.Converted c = Converters.convert(conv, prefix, Configs.toJson(tinyConfig()));
    ConversionReport r = c.report();
    int variables = 144;  // the tiny U-Net's (make_tf1_converter_fixtures.py prints it)
    assertEquals(variables, Converters.targets("ddpm", c.config()).size());
    assertEquals(variables, r.mapped().size());
    assertEquals(List.of("model/extra/W", "some_counter"), r.leftover().stream().sorted().toList());
    assertEquals(2 * variables + 3, r.ignored().size(), "Adam, Adam_1, beta1_power, beta2_power, global_step");
    assertTrue(r.ignored().contains("global_step (the training step counter)"), r.ignored().toString());
    assertTrue(r.ignored().stream().anyMatch(s -> s.startsWith("model/mid/attn_1/q/W/Adam_1 ")));
    assertTrue(r.mapped().contains("unet/down_1/attn_0/proj_out/kernel <- model/down_1/attn_0/proj_out/W"),
        r.mapped().toString());
    assertTrue(r.summary().contains("2 left over"), r.summary());
  }

  @Test
  void missingTensorFailsNamingItAndWritesNothing() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    String gone = "model/mid/attn_1/k/b";
    for (String s : List.of("", "/ExponentialMovingAverage", "/Adam", "/Adam_1")) {
      assertTrue(t.remove(gone + s) != null, gone + s);
    }
    Files.createDirectories(tmp.resolve("diffusion_model"));
    Path prefix = checkpoint(t);
    Path dir = tmp.resolve("bundle");
    ConversionException e = assertThrows(ConversionException.class, () -> Converters.toBundle(new DdpmTf1Converter(),
        prefix, Configs.toJson(tinyConfig()), "x", dir, false, "test"));
    assertTrue(e.getMessage().contains("has no tensor " + gone + " (for unet/mid/attn_1/k/bias)"), e.getMessage());
    assertEquals(1, e.report().problems().size(), e.report().problems().toString());
    assertFalse(Files.exists(dir));
    try (var s = Files.list(tmp)) {
      assertEquals(List.of(tmp.resolve("diffusion_model")), s.toList(), "nothing half-written beside the target");
    }
  }

  @Test
  void wrongShapeFailsNamingIt() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    for (String s : List.of("", "/ExponentialMovingAverage")) {
      t.put("model/conv_in/W" + s, Tf1Fixtures.filled(0.5f, 3, 3, 3, 5));
    }
    Files.createDirectories(tmp.resolve("diffusion_model"));
    Path prefix = checkpoint(t);
    ConversionException e = assertThrows(ConversionException.class,
        () -> Converters.convert(new DdpmTf1Converter(), prefix, Configs.toJson(tinyConfig())));
    assertTrue(e.getMessage().contains("unet/conv_in/kernel needs shape [3, 3, 3, 4] but model/conv_in/W "
        + "[3, 3, 3, 5]"), e.getMessage());
  }

  @Test
  void emaShadowsMustCoverEveryVariable() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    t.remove("model/up_0/block_1/conv2/W/ExponentialMovingAverage");
    Files.createDirectories(tmp.resolve("diffusion_model"));
    Path prefix = checkpoint(t);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DdpmTf1Converter().read(prefix));
    assertTrue(e.getMessage().contains("1 of 144 variables have no ExponentialMovingAverage shadow: "
        + "model/up_0/block_1/conv2/W"), e.getMessage());

    Map<String, NpyArray> noEma = Tf1Fixtures.checkpointTensors(arrays);
    noEma.keySet().removeIf(n -> n.endsWith("/ExponentialMovingAverage"));
    Path other = Tf1Fixtures.saveV2(noEma, tmp.resolve("diffusion_model").resolve("no-ema"));
    e = assertThrows(IllegalArgumentException.class, () -> new DdpmTf1Converter().read(other));
    assertTrue(e.getMessage().contains("no ExponentialMovingAverage shadows")
        && e.getMessage().contains("ddpm-tf1-raw"), e.getMessage());
  }

  @Test
  void configIsReadOffTheShapesWhenNoneIsGiven() throws Exception {
    Path prefix = checkpoint();
    DdpmTf1Converter conv = new DdpmTf1Converter();
    TensorSet upstream = conv.read(Path.of(prefix + ".meta"));  // the .meta file's name also finds the checkpoint
    // the authors' code always has 32 GroupNorm groups, which the fixture's 4 and 8 channels cannot have
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conv.config(upstream, null));
    assertTrue(e.getMessage().contains("4 x 1 channels cannot be split into the 32 GroupNorm groups"), e.getMessage());

    // another architecture, by the shapes that show it: ch 32, ch_mult (1, 2, 3), 3 blocks, attention on level 1
    TensorSet shapes = new TensorSet("shapes");
    shapes.add(zeros("model/conv_in/W", 3, 3, 3, 32)).add(zeros("model/conv_out/W", 3, 3, 32, 3));
    for (int j = 0; j < 3; j++) {
      shapes.add(zeros("model/down_0/block_" + j + "/conv1/W", 3, 3, 32, 32));
    }
    shapes.add(zeros("model/down_1/block_0/conv1/W", 3, 3, 32, 64)).add(zeros("model/down_1/attn_0/q/W", 64, 64));
    shapes.add(zeros("model/down_2/block_0/conv1/W", 3, 3, 64, 96));
    DdpmConfig inferred = Configs.fromJson(conv.config(shapes, null), DdpmConfig.class);
    DdpmConfig.Model m = inferred.model();
    assertEquals(32, m.ch());
    assertArrayEquals(new int[] {1, 2, 3}, m.chMult());
    assertEquals(3, m.numResBlocks());
    // level 1 is 16x16 when the image size is CIFAR-10's (it cannot be read off the weights)
    assertArrayEquals(new int[] {16}, m.attnResolutions());
    assertArrayEquals(new long[] {32, 32, 3}, m.dataShape());
    assertEquals(32, m.groups());
    assertEquals(DdpmConfig.cifar10().diffusion(), inferred.diffusion());

    shapes.put(zeros("model/conv_out/W", 3, 3, 32, 6));
    e = assertThrows(IllegalArgumentException.class, () -> conv.config(shapes, null));
    assertTrue(e.getMessage().contains("predicts epsilon only"), e.getMessage());
  }

  private static NamedTensor zeros(String name, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return NamedTensor.ofFloats(name, shape, new float[Math.toIntExact(n)]);
  }

  @Test
  void tableFitsTheReleasedCifar10Model() throws Exception {
    JsonNode doc = Tf1Fixtures.json("ddpm_cifar10_upstream.json");
    assertEquals(35_746_307L, doc.get("param_count").asLong());
    DdpmTf1Converter conv = new DdpmTf1Converter();
    TensorSet upstream = conv.selectWeights(Tf1Fixtures.zeroCheckpoint(doc, "model.ckpt-790000"));
    JsonNode config = conv.config(upstream, null);
    assertEquals(Families.get("ddpm").preset("cifar10"), config, "the cifar10 preset is the released model");
    List<NameMap.Target> targets = Converters.targets("ddpm", config);
    NameMap.Result r = conv.nameMap(config).apply(upstream, targets);
    assertEquals(328, targets.size());
    assertEquals(targets.size(), r.report().mapped().size());
    assertEquals(List.of(), r.report().leftover());
    assertEquals(2 * 328 + 3, r.report().ignored().size());
    long params = 0;
    for (NameMap.Target t : targets) {
      long n = 1;
      for (long d : t.shape()) {
        n *= d;
      }
      params += n;
    }
    assertEquals(35_746_307L, params);
  }

  /** eps_theta(x, t) of a genzoo U-Net whose weights TensorFlow's RestoreV2 reads from {@code prefix}. */
  private static double[] eps(DdpmConfig.Model m, Path prefix) {
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      Ops tf = store.tf();
      UNet net = new UNet(store.root().child("unet"), m);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 3)));
      Placeholder<TInt32> t = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      @SuppressWarnings("unchecked")
      Operand<TFloating> xf = (Operand<TFloating>) (Operand<?>) x;
      Operand<TFloating> out = net.call(tf, xf, t, null, null);
      Saver saver = new Saver(store, Saver.identity(store.ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE)));
      try (Session s = new Session(g)) {
        saver.restore(s, prefix);
        NpyArray xs = arrays.get("input/x");
        try (TFloat32 xt = HostTensors.float32(xs.asFloats(), xs.shape());
             TInt32 tt = TInt32.vectorOf(Tf1Fixtures.ints(arrays.get("input/t")));
             Result res = s.runner().feed(x, xt).feed(t, tt).fetch(out).run()) {
          return HostTensors.toDoubles(res.get(0));
        }
      }
    }
  }
}
