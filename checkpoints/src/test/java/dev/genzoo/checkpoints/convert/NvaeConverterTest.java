package dev.genzoo.checkpoints.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.DType;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.nvae.NvaeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NvaeConverter}: what it reads from a checkpoint in the layout of upstream's train.py (fixtures of
 * make_nvae_converter_fixtures.py), the genzoo config it builds from the saved args, what it refuses, and the
 * name map's checks. The numerical comparison with the PyTorch reference, and the name map of the cifar10 preset
 * against the keys of upstream's full CIFAR-10 model, are in dev.genzoo.graphs.nvae.NvaeCheckpointConversionTest.
 */
class NvaeConverterTest {
  private final NvaeConverter converter = new NvaeConverter();

  @TempDir
  Path tmp;

  private static Path resource(String name) throws Exception {
    var url = NvaeConverterTest.class.getResource(name);
    assertNotNull(url, "missing test fixture " + name);
    return Path.of(url.toURI());
  }

  @Test
  void readsTheStateDictAndTheArgs() throws Exception {
    TensorSet up = converter.read(resource("nvae_cifar10_tiny.pt"));
    // the script's tiny CIFAR-10 model: stem Conv2D 3 -> 2 channels, 3x3, weight-normalised, with bias
    assertArrayEquals(new long[] {2, 3, 3, 3}, up.get("stem.weight").shape());
    assertArrayEquals(new long[] {2, 1, 1, 1}, up.get("stem.log_weight_norm").shape());
    assertArrayEquals(new long[] {8, 8, 8}, up.get("prior_ftr0").shape());
    assertEquals(DType.F32, up.get("stem.weight").dtype());
    assertTrue(up.contains("pre_process.0._ops.0.bn_act.num_batches_tracked"));
    for (String n : up.names()) {
      assertFalse(n.startsWith("state_dict.") || n.startsWith("optimizer") || n.startsWith("module."), n);
    }
    Map<String, String> meta = up.metadata();
    assertEquals("cifar10", meta.get("args.dataset"));
    assertEquals("2", meta.get("args.num_channels_enc"));
    assertEquals("1", meta.get("args.num_nf"));
    assertEquals("True", meta.get("args.use_se"));
    assertEquals("False", meta.get("args.weight_decay_norm_anneal"));
    assertEquals("0.01", meta.get("args.weight_decay_norm"));
    assertEquals("0.0001", meta.get("args.kl_const_coeff"));
    assertEquals("res_bnswish,res_bnswish", meta.get("arch_instance.normal_enc"));
    assertEquals("mconv_e6k5g0", meta.get("arch_instance.up_dec"));
    assertEquals("3", meta.get("epoch"));
    assertEquals("21", meta.get("global_step"));
  }

  @Test
  void configFollowsTheArgs() throws Exception {
    NvaeConfig c = parse(converter.config(converter.read(resource("nvae_cifar10_tiny.pt")), null));
    NvaeConfig.Model m = c.model();
    // the script's args: cifar10, 2 channels, 1 pre/post block of 2 cells, 2 scales of 2 groups with ada_groups,
    // 2 latents, 1 cell per group, SE, res_dist, num_nf 1, 2 logistics
    assertEquals(new NvaeConfig.Model(new long[] {32, 32, 3}, NvaeConfig.Likelihood.DMOL, 2, 0, 2, 2, 1, 2, 2, 2,
        true, 1, 2, 1, 1, 1, 2, true, true, 1), m);
    assertArrayEquals(new int[] {2, 1}, m.groups());
    assertEquals(0.01, c.objective().spectralRegularization(), 0);
    assertEquals(0.3, c.objective().klAnnealPortion(), 0);

    NvaeConfig g = parse(converter.config(converter.read(resource("nvae_mnist_tiny.pt")), null));
    // mnist: 28 x 28 Bernoulli images padded by 2 (upstream's 32 x 32 input), no SE, no res_dist, no flows
    assertEquals(new NvaeConfig.Model(new long[] {28, 28, 1}, NvaeConfig.Likelihood.BERNOULLI, 1, 2, 2, 2, 1, 1, 2,
        2, false, 1, 2, 1, 1, 1, 1, false, false, 0), g.model());
    assertEquals("mnist", g.preset());
  }

  /** upstream README's CIFAR-10 command, on top of train.py's defaults, is genzoo's cifar10 preset. */
  @Test
  void theReadmeCifar10CommandIsTheCifar10Preset() {
    Map<String, String> args = trainPyDefaults();
    args.putAll(Map.ofEntries(Map.entry("dataset", "cifar10"), Map.entry("num_channels_enc", "128"),
        Map.entry("num_channels_dec", "128"), Map.entry("epochs", "400"), Map.entry("num_postprocess_cells", "2"),
        Map.entry("num_preprocess_cells", "2"), Map.entry("num_latent_scales", "1"),
        Map.entry("num_latent_per_group", "20"), Map.entry("num_cell_per_cond_enc", "2"),
        Map.entry("num_cell_per_cond_dec", "2"), Map.entry("num_preprocess_blocks", "1"),
        Map.entry("num_postprocess_blocks", "1"), Map.entry("num_groups_per_scale", "30"),
        Map.entry("batch_size", "32"), Map.entry("weight_decay_norm", "0.01"), Map.entry("num_nf", "1"),
        Map.entry("num_process_per_node", "8"), Map.entry("use_se", "True"), Map.entry("res_dist", "True"),
        Map.entry("fast_adamax", "True")));
    NvaeConfig.Model m = NvaeConverter.nvaeConfig(withArgs(args)).model();
    NvaeConfig.Model p = NvaeConfig.cifar10().model();
    // the README leaves out --ada_groups, which does nothing with one scale; everything else is the preset
    assertFalse(m.adaGroups());
    assertArrayEquals(p.groups(), m.groups());
    NvaeConfig.Model same = new NvaeConfig.Model(m.dataShape(), m.likelihood(), m.numMix(), m.padding(),
        m.channelsEnc(), m.channelsDec(), m.preprocessBlocks(), m.preprocessCells(), m.latentScales(),
        m.groupsPerScale(), p.adaGroups(), m.minGroupsPerScale(), m.latentPerGroup(), m.cellsPerGroupEnc(),
        m.cellsPerGroupDec(), m.postprocessBlocks(), m.postprocessCells(), m.useSe(), m.residualPosterior(),
        m.numFlows());
    assertEquals(p, same);
  }

  @Test
  void refusesWhatGenzooCannotBuildNamingTheArgument() throws Exception {
    TensorSet up = converter.read(resource("nvae_cifar10_tiny.pt"));
    assertRefused(up, Map.of("args.num_mixture_dec", "1"), "num_mixture_dec");
    assertRefused(up, Map.of("args.num_x_bits", "5"), "num_x_bits");
    assertRefused(up, Map.of("args.dataset", "stacked_mnist"), "args.dataset");
    assertRefused(up, Map.of("arch_instance.normal_dec", "res_bnswish,res_bnswish"), "arch_instance");
    assertRefused(up, Map.of("args.num_latent_scales", "1", "args.num_groups_per_scale", "1"),
        "num_groups_per_scale");
    assertRefused(up, Map.of("args.num_postprocess_blocks", "2"), "num_postprocess_blocks");
    assertRefused(up, Map.of("args.use_se", "maybe"), "use_se");
    TensorSet noChannels = copy(up, Map.of());
    noChannels.metadata().remove("args.num_channels_dec");
    var e = assertThrows(IllegalArgumentException.class, () -> converter.config(noChannels, null));
    assertTrue(e.getMessage().contains("num_channels_dec"), e.getMessage());
    // a 3-channel image whose height does not halve often enough: the model's own check, reported as the args'
    assertRefused(up, Map.of("args.num_preprocess_blocks", "4", "args.num_postprocess_blocks", "4",
        "args.num_latent_scales", "4"), "args describe a network genzoo cannot build");
  }

  @Test
  void oldCheckpointsGetEvaluatePyDefaultsAndBareStateDictsTheCifar10Preset() throws Exception {
    TensorSet up = converter.read(resource("nvae_cifar10_tiny.pt"));
    TensorSet old = copy(up, Map.of());
    old.metadata().remove("args.ada_groups");
    old.metadata().remove("args.min_groups_per_scale");
    old.metadata().remove("args.num_mixture_dec");
    NvaeConfig.Model m = parse(converter.config(old, null)).model();
    assertFalse(m.adaGroups());
    assertEquals(1, m.minGroupsPerScale());
    assertEquals(10, m.numMix());

    TensorSet bare = copy(up, Map.of());
    bare.metadata().clear();
    assertEquals(NvaeConfig.cifar10(), parse(converter.config(bare, null)));
    JsonNode requested = Configs.toJson(NvaeConfig.tiny());
    assertSame(requested, converter.config(up, requested));
  }

  @Test
  void missingTensorsWrongShapesAndLeftoversAreReported() throws Exception {
    TensorSet up = converter.read(resource("nvae_cifar10_tiny.pt"));
    JsonNode config = converter.config(up, null);
    NameMap map = converter.nameMap(config);
    List<NameMap.Target> targets = Converters.targets("nvae", config);

    NameMap.Result ok = map.apply(up, targets);
    assertEquals(targets.size(), ok.weights().size());
    assertTrue(ok.report().leftover().isEmpty(), ok.report().leftover().toString());
    // the ignored: every BatchNorm counter and every weight_normalized alias, and nothing else
    long expectedIgnored = up.names().stream().filter(n -> n.endsWith(".num_batches_tracked")
        || n.endsWith(".weight_normalized")).count();
    assertTrue(expectedIgnored > 0);
    assertEquals(expectedIgnored, ok.report().ignored().size());
    assertEquals(up.size() - expectedIgnored, ok.report().mapped().size());

    TensorSet missing = copy(up, Map.of());
    missing.remove("enc_sampler.1.weight");
    var e = assertThrows(ConversionException.class, () -> map.apply(missing, targets));
    assertTrue(e.getMessage().contains("enc_sampler.1.weight"), e.getMessage());
    assertTrue(e.getMessage().contains("nvae/enc_sampler/sampler_1/kernel"), e.getMessage());

    TensorSet wrong = copy(up, Map.of());
    wrong.put(NamedTensor.ofFloats("dec_tower.0.conv.weight", new long[] {8, 9, 1, 1}, new float[72]));
    e = assertThrows(ConversionException.class, () -> map.apply(wrong, targets));
    assertTrue(e.getMessage().contains("dec_tower.0.conv.weight"), e.getMessage());
    assertTrue(e.getMessage().contains("nvae/dec_tower/cell_0/conv/kernel"), e.getMessage());

    TensorSet extra = copy(up, Map.of());
    extra.add(NamedTensor.ofFloats("enc_tower.9.conv.weight", new long[] {1}, new float[1]));
    NameMap.Result r = map.apply(extra, targets);
    assertEquals(List.of("enc_tower.9.conv.weight"), r.report().leftover());
    assertTrue(r.report().summary().contains("enc_tower.9.conv.weight"), r.report().summary());

    // a config the weights do not fit (genzoo's tiny preset: 8 channels) fails the conversion and writes nothing
    Path target = tmp.resolve("bundle");
    e = assertThrows(ConversionException.class, () -> Converters.toBundle(converter,
        resource("nvae_cifar10_tiny.pt"), Configs.toJson(NvaeConfig.tiny()), "nvae-tiny", target, false, "test"));
    assertTrue(e.getMessage().contains("stem.weight"), e.getMessage());
    assertFalse(Files.exists(target));
    try (var left = Files.list(tmp)) {
      assertEquals(0, left.count());
    }
  }

  private void assertRefused(TensorSet up, Map<String, String> change, String named) {
    TensorSet changed = copy(up, change);
    var e = assertThrows(IllegalArgumentException.class, () -> converter.config(changed, null), change.toString());
    assertTrue(e.getMessage().contains(named), e.getMessage());
    assertTrue(e.getMessage().contains(up.source()), e.getMessage());
  }

  private static TensorSet copy(TensorSet up, Map<String, String> metadataChanges) {
    TensorSet c = new TensorSet(up.source());
    for (NamedTensor t : up) {
      c.add(t);
    }
    c.metadata().putAll(up.metadata());
    c.metadata().putAll(metadataChanges);
    return c;
  }

  private static TensorSet withArgs(Map<String, String> args) {
    TensorSet t = new TensorSet("checkpoint.pt");
    args.forEach((k, v) -> t.metadata().put("args." + k, v));
    return t;
  }

  /** upstream train.py's argument defaults (argparse), as Python prints them. */
  private static Map<String, String> trainPyDefaults() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("dataset", "mnist");
    a.put("batch_size", "200");
    a.put("learning_rate", "0.01");
    a.put("learning_rate_min", "0.0001");
    a.put("weight_decay", "0.0003");
    a.put("weight_decay_norm", "0.0");
    a.put("weight_decay_norm_init", "10.0");
    a.put("weight_decay_norm_anneal", "False");
    a.put("epochs", "200");
    a.put("warmup_epochs", "5");
    a.put("fast_adamax", "False");
    a.put("arch_instance", "res_mbconv");
    a.put("kl_anneal_portion", "0.3");
    a.put("kl_const_portion", "0.0001");
    a.put("kl_const_coeff", "0.0001");
    a.put("num_nf", "0");
    a.put("num_x_bits", "8");
    a.put("num_latent_scales", "1");
    a.put("num_groups_per_scale", "10");
    a.put("num_latent_per_group", "20");
    a.put("ada_groups", "False");
    a.put("min_groups_per_scale", "1");
    a.put("num_channels_enc", "32");
    a.put("num_preprocess_blocks", "2");
    a.put("num_preprocess_cells", "3");
    a.put("num_cell_per_cond_enc", "1");
    a.put("num_channels_dec", "32");
    a.put("num_postprocess_blocks", "2");
    a.put("num_postprocess_cells", "3");
    a.put("num_cell_per_cond_dec", "1");
    a.put("num_mixture_dec", "10");
    a.put("use_se", "False");
    a.put("res_dist", "False");
    return a;
  }

  private static NvaeConfig parse(JsonNode json) {
    return Configs.fromJson(json, NvaeConfig.class);
  }
}
