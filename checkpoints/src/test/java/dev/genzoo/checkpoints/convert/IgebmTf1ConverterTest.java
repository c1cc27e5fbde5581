package dev.genzoo.checkpoints.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.ebm.EbmConfig;
import dev.genzoo.graphs.ebm.EbmModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The IGEBM TF1 converter on a checkpoint written by TensorFlow's SaveV2 from the upstream tensors of
 * make_tf1_converter_fixtures.py (context_0/... with the variables the forward never reads, the attention block, Adam
 * slots): the converted bundle loads as a genzoo EBM whose energies match the PyTorch port of ResNet32Large; broken
 * checkpoints fail naming the tensor; the table fits the CIFAR-10 model.
 */
class IgebmTf1ConverterTest {
  private static final String FIXTURE = "igebm_tf1_tiny.npz";
  private static Map<String, NpyArray> arrays;

  @TempDir
  Path tmp;

  @BeforeAll
  static void load() throws IOException {
    arrays = Tf1Fixtures.npz(FIXTURE);
  }

  /** The fixture's network (F filters on its image shape) in the tiny preset's config. */
  private static JsonNode tinyConfig() {
    EbmConfig p = EbmConfig.tiny();
    EbmConfig.Model m = p.model();
    EbmConfig.Model fixture = new EbmConfig.Model(m.network(), arrays.get("meta/image_shape").asLongs(),
        Tf1Fixtures.ints(arrays.get("meta/filters"))[0], m.depth(), m.spectralNorm(), m.activation(), m.dropout());
    return Configs.toJson(new EbmConfig("tf1-fixture", fixture, p.chains(), p.buffer(), p.l2(), p.training(),
        p.sampling()));
  }

  private Path checkpoint(Map<String, NpyArray> tensors) throws IOException {
    Files.createDirectories(tmp.resolve("cifar10_large_model_uncond"));
    return Tf1Fixtures.saveV2(tensors, tmp.resolve("cifar10_large_model_uncond").resolve("model_121200"));
  }

  @Test
  void fixtureIsTheExpectedNetwork() {
    assertEquals(4, Tf1Fixtures.ints(arrays.get("meta/filters"))[0]);
    assertArrayEquals(new long[] {8, 8, 3}, arrays.get("meta/image_shape").asLongs());
  }

  @Test
  void convertedEnergiesMatchTheReference() throws Exception {
    Path prefix = checkpoint(Tf1Fixtures.checkpointTensors(arrays));
    Path dir = tmp.resolve("bundle");
    BundleManifest written = Converters.toBundle(new IgebmTf1Converter(), Path.of(prefix + ".index"), tinyConfig(),
        "igebm-fixture", dir, false, "genzoo convert igebm-tf1 model_121200");
    assertEquals("ebm", written.family());
    try (Bundle bundle = Bundle.open(dir);
         GenerativeModel model = Families.get("ebm").create(bundle.manifest().config(), ModelOptions.inference())) {
      model.restoreWeights(bundle.checkpointPrefix());
      float[] x = arrays.get("input/x").asFloats();
      double[] xs = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        xs[i] = x[i];
      }
      double[] energy = ((EbmModel) model).energy(xs);
      float[] expected = arrays.get("output/energy").asFloats();
      double err = Tf1Fixtures.maxAbsDiff(expected, energy);
      assertTrue(err < 1e-4 * Math.max(1, Tf1Fixtures.maxAbs(expected)), "max |genzoo - reference| = " + err
          + " (energies " + java.util.Arrays.toString(energy) + ")");
    }
  }

  @Test
  void reportIgnoresTheUnusedVariablesAndOptimizerState() throws Exception {
    Path prefix = checkpoint(Tf1Fixtures.checkpointTensors(arrays));
    Converters.Converted c = Converters.convert(new IgebmTf1Converter(), prefix, tinyConfig());
    ConversionReport r = c.report();
    int targets = Converters.targets("ebm", c.config()).size();
    // c1_pre: kernel, u; 9 blocks: 7 each; the 2 shortcuts: 2 each; fc5: 2
    assertEquals(2 + 9 * 7 + 2 * 2 + 2, targets);
    assertEquals(targets, r.mapped().size());
    assertEquals(List.of(), r.leftover());
    assertTrue(r.mapped().contains("ebm/energy/res_3/shortcut/kernel_u <- context_0/res_3_res_adaptive/c_u"),
        r.mapped().toString());
    assertTrue(r.mapped().contains("ebm/energy/res_8/conv_2/gain <- context_0/res_8_res_c2/g"), r.mapped().toString());
    for (String unused : List.of("context_0/c1_pre/b", "context_0/c1_pre/gb", "context_0/res_1_res_c1/g",
        "context_0/res_1_res_c2/cb", "context_0/res_6_res_adaptive/gb", "context_0/atten/atten_q_u",
        "context_0/atten/gamma", "context_0/fc5/wweight/Adam_1", "beta2_power")) {
      assertTrue(r.ignored().stream().anyMatch(s -> s.startsWith(unused + " (")), unused + " not in " + r.ignored());
    }
    assertEquals(Tf1Fixtures.checkpointTensors(arrays).size() - targets, r.ignored().size());
  }

  @Test
  void missingTensorFailsNamingIt() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    assertTrue(t.remove("context_0/res_3_res_adaptive/c_u") != null);
    Path prefix = checkpoint(t);
    Path dir = tmp.resolve("bundle");
    ConversionException e = assertThrows(ConversionException.class, () -> Converters.toBundle(new IgebmTf1Converter(),
        prefix, tinyConfig(), "x", dir, false, "test"));
    assertTrue(e.getMessage().contains("has no tensor context_0/res_3_res_adaptive/c_u (for "
        + "ebm/energy/res_3/shortcut/kernel_u)"), e.getMessage());
    assertFalse(Files.exists(dir));
  }

  @Test
  void wrongShapeFailsNamingIt() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    t.put("context_0/fc5/wweight", Tf1Fixtures.filled(0.1f, 16, 2));
    t.put("context_0/res_5_res_c2/c_u", Tf1Fixtures.filled(0.1f, 1, 4));
    Path prefix = checkpoint(t);
    ConversionException e = assertThrows(ConversionException.class,
        () -> Converters.convert(new IgebmTf1Converter(), prefix, tinyConfig()));
    assertTrue(e.getMessage().contains("ebm/energy/fc5/kernel needs shape [16, 1] but context_0/fc5/wweight [16, 2]"),
        e.getMessage());
    assertTrue(e.getMessage().contains("context_0/res_5_res_c2/c_u"), e.getMessage());
    assertEquals(2, e.report().problems().size(), e.report().problems().toString());
  }

  @Test
  void refusesACheckpointTrainedWithAttention() throws Exception {
    Map<String, NpyArray> t = Tf1Fixtures.checkpointTensors(arrays);
    t.put("context_0/atten/gamma", Tf1Fixtures.filled(0.25f, 1));
    Path prefix = checkpoint(t);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new IgebmTf1Converter().read(prefix));
    assertTrue(e.getMessage().contains("context_0/atten/gamma is 0.25") && e.getMessage().contains("--use_attention"),
        e.getMessage());
  }

  @Test
  void tableFitsTheCifar10Model() throws Exception {
    JsonNode doc = Tf1Fixtures.json("igebm_cifar10_upstream.json");
    // the number train.py prints for the CIFAR-10 ResNet32Large (every trainable variable, used or not)
    assertEquals(18_738_312L, doc.get("trainable_param_count").asLong());
    IgebmTf1Converter conv = new IgebmTf1Converter();
    TensorSet upstream = Tf1Fixtures.zeroCheckpoint(doc, "model_cifar10");
    IgebmTf1Converter.checkNoAttention(upstream);
    JsonNode config = conv.config(upstream, null);
    assertEquals(Families.get("ebm").preset("cifar10"), config, "the cifar10 preset is the released model");
    List<NameMap.Target> targets = Converters.targets("ebm", config);
    NameMap.Result r = conv.nameMap(config).apply(upstream, targets);
    assertEquals(targets.size(), r.report().mapped().size());
    assertEquals(List.of(), r.report().leftover());
    long used = 0;
    for (NameMap.Target t : targets) {
      if (!t.name().endsWith("_u")) {
        long n = 1;
        for (long d : t.shape()) {
          n *= d;
        }
        used += n;
      }
    }
    // ResNet32Large at F = 128 on 32x32x3 without the variables its unconditional forward never reads
    assertEquals(18_591_105L, used);
  }
}
