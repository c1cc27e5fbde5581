package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.checkpoints.formats.TorchCheckpoint;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.nvae.NvaeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The official NVAE release (Vahdat &amp; Kautz 2020; github NVlabs/NVAE): the {@code checkpoint.pt} that upstream's
 * train.py writes, {@code torch.save({'epoch', 'state_dict': model.state_dict(), 'optimizer', 'global_step',
 * 'args': args, 'arch_instance': utils.get_arch_cells(args.arch_instance), 'scheduler', 'grad_scalar'})}, from which
 * upstream's evaluate.py rebuilds the model as {@code AutoEncoder(checkpoint['args'], None, arch_instance)}.
 *
 * <p>{@link #read} keeps the tensors of {@code state_dict} (without a {@code module.} prefix, if one is there) and
 * puts the training arguments into the set's metadata as {@code args.<name>} (as Python's str() prints the value:
 * {@code True}, {@code 128}, {@code 0.0001}, {@code cifar10}), the architecture cells as
 * {@code arch_instance.<cell type>} (the operations joined by commas), and {@code epoch} and {@code global_step}.
 *
 * <p>{@link #config} builds the genzoo {@link NvaeConfig} from those arguments as upstream's AutoEncoder reads them:
 * the dataset gives the image shape, the output distribution and the padding (CIFAR-10 and the other colour datasets:
 * 8-bit RGB with a discretised mixture of {@code num_mixture_dec} logistics; MNIST and Omniglot: 28 x 28 Bernoulli
 * images padded to 32 x 32); {@code num_channels_enc/dec}, {@code num_preprocess_blocks/cells},
 * {@code num_postprocess_blocks/cells}, {@code num_latent_scales}, {@code num_groups_per_scale}, {@code ada_groups},
 * {@code min_groups_per_scale}, {@code num_latent_per_group}, {@code num_cell_per_cond_enc/dec}, {@code use_se},
 * {@code res_dist} and {@code num_nf} give the network; {@code kl_anneal_portion}, {@code kl_const_portion},
 * {@code kl_const_coeff} and {@code weight_decay_norm} the objective; training and sampling settings come from the
 * genzoo preset of the kind of data (cifar10 for colour images, mnist for MNIST and Omniglot). Old checkpoints without {@code ada_groups},
 * {@code min_groups_per_scale} or {@code num_mixture_dec} get evaluate.py's defaults (false, 1, 10). What genzoo cannot
 * represent is refused with the argument named: another {@code arch_instance} than {@code res_mbconv}, the Normal
 * decoder ({@code num_mixture_dec} 1), {@code num_x_bits} other than 8 for colour images, upstream's "vanilla VAE"
 * (one scale with one group), unequal pre- and post-processing blocks, and datasets upstream cannot build either.
 * A file without {@code args} (a bare {@code model.state_dict()}) gets genzoo's cifar10 preset, the architecture of
 * the official CIFAR-10 checkpoint, unless a config is given; the name map's shape checks then tell whether it fits.
 *
 * <p>{@link #nameMap} pairs every upstream module with the genzoo variable that mirrors it (the same flat cell indices):
 * convolution weights OIHW to HWIO, depthwise [C, 1, k, k] to [k, k, C, 1], {@code log_weight_norm} [out, 1, 1, 1]
 * to [out], linear weights [out, in] to [in, out], BatchNorm weight, bias, running_mean, running_var to gamma, beta,
 * moving_mean, moving_variance, {@code prior_ftr0} [C, h, w] to [h, w, C]. Ignored on purpose: BatchNorm's
 * {@code num_batches_tracked} counters, and the {@code weight_normalized} entries of convolutions without weight
 * normalisation (upstream registers the weight a second time under that name). The spectral regulariser's power
 * iteration vectors are not in the checkpoint (upstream keeps them outside the state_dict); genzoo's are optimiser
 * state and start afresh.
 */
public final class NvaeConverter implements ModelConverter {
  /** upstream utils.get_arch_cells('res_mbconv') for the cell types the AutoEncoder builds. */
  private static final Map<String, String> RES_MBCONV = Map.of(
      "normal_pre", "res_bnswish,res_bnswish", "down_pre", "res_bnswish,res_bnswish",
      "normal_enc", "res_bnswish,res_bnswish", "down_enc", "res_bnswish,res_bnswish",
      "normal_dec", "mconv_e6k5g0", "up_dec", "mconv_e6k5g0",
      "normal_post", "mconv_e3k5g0", "up_post", "mconv_e3k5g0");

  @Override
  public String name() {
    return "nvae-pt";
  }

  @Override
  public String family() {
    return "nvae";
  }

  @Override
  public String description() {
    return "NVlabs/NVAE checkpoint.pt (PyTorch): the AutoEncoder's state_dict, the architecture rebuilt from its args";
  }

  @Override
  public TensorSet read(Path checkpoint) throws IOException {
    TorchCheckpoint ck = TorchCheckpoint.read(checkpoint);
    TensorSet out = new TensorSet(checkpoint.toString());
    Object root = ck.root();
    TensorSet weights;
    if (root instanceof Map<?, ?> m && m.containsKey("state_dict")) {
      weights = ck.tensors("state_dict");
      if (m.get("args") instanceof TorchCheckpoint.Namespace) {
        // the scalar attributes, as Python's str() prints them
        for (Map.Entry<String, String> e : ck.tensors("args").metadata().entrySet()) {
          out.metadata().put("args." + e.getKey(), e.getValue());
        }
      }
      if (m.get("arch_instance") instanceof Map<?, ?> arch) {
        for (Map.Entry<?, ?> e : arch.entrySet()) {
          out.metadata().put("arch_instance." + e.getKey(), e.getValue() instanceof List<?> l
              ? String.join(",", l.stream().map(String::valueOf).toList()) : String.valueOf(e.getValue()));
        }
      }
      for (String k : List.of("epoch", "global_step")) {
        if (m.get(k) != null) {
          out.metadata().put(k, String.valueOf(m.get(k)));
        }
      }
    } else {
      // a bare model.state_dict(): the tensors, without args (config then falls back to the cifar10 preset)
      weights = ck.tensors();
    }
    if (weights.size() == 0) {
      throw new IOException(checkpoint + " holds no model tensors (no 'state_dict' with tensors): not an NVAE "
          + "checkpoint.pt");
    }
    boolean prefixed = true;
    for (String n : weights.names()) {
      prefixed &= n.startsWith("module.");
    }
    for (NamedTensor t : weights) {
      out.add(prefixed ? t.withName(t.name().substring("module.".length())) : t);
    }
    return out;
  }

  @Override
  public JsonNode config(TensorSet upstream, JsonNode requested) {
    if (requested != null) {
      return requested;
    }
    if (upstream.metadata().keySet().stream().noneMatch(k -> k.startsWith("args."))) {
      // a bare state_dict: the official CIFAR-10 model's architecture, checked tensor by tensor by the name map
      return Configs.toJson(NvaeConfig.cifar10());
    }
    return Configs.toJson(nvaeConfig(upstream));
  }

  /** The genzoo config of the checkpoint's {@code args} (see the class comment); an error names what is refused. */
  public static NvaeConfig nvaeConfig(TensorSet upstream) {
    Args a = new Args(upstream);
    String arch = a.string("arch_instance", "res_mbconv");
    boolean hasCells = upstream.metadata().keySet().stream().anyMatch(k -> k.startsWith("arch_instance."));
    if (hasCells) {
      for (Map.Entry<String, String> e : RES_MBCONV.entrySet()) {
        String got = upstream.metadata().get("arch_instance." + e.getKey());
        if (!e.getValue().equals(got)) {
          throw a.refuse("arch_instance", "its " + e.getKey() + " cells are [" + got + "]; genzoo builds "
              + "res_mbconv's [" + e.getValue() + "]");
        }
      }
    } else if (!arch.equals("res_mbconv")) {
      throw a.refuse("arch_instance", "'" + arch + "': genzoo builds res_mbconv cells only");
    }

    String dataset = a.string("dataset", null);
    long size;
    boolean grey = dataset.equals("mnist") || dataset.equals("omniglot");
    if (grey || dataset.equals("cifar10")) {
      size = 32;
    } else if (dataset.equals("ffhq")) {
      size = 256;
    } else if (dataset.startsWith("celeba_") || dataset.startsWith("imagenet_") || dataset.startsWith("lsun_")) {
      try {
        size = Long.parseLong(dataset.substring(dataset.lastIndexOf('_') + 1));
      } catch (NumberFormatException e) {
        throw a.refuse("dataset", "'" + dataset + "' names no image size");
      }
    } else {
      throw a.refuse("dataset", "'" + dataset + "': upstream builds no AutoEncoder for it (get_input_size)");
    }
    int numMix = a.integer("num_mixture_dec", 10);
    if (!grey) {
      if (numMix == 1) {
        throw a.refuse("num_mixture_dec", "1 selects upstream's Normal decoder (NormalDecoder), which genzoo does not "
            + "have; genzoo's colour decoder is the discretised logistic mixture");
      }
      int bits = a.integer("num_x_bits", 8);
      if (bits != 8) {
        throw a.refuse("num_x_bits", bits + ": genzoo's discretised logistic mixture is over 8-bit values");
      }
    }
    int scales = a.integer("num_latent_scales", null);
    int groups = a.integer("num_groups_per_scale", null);
    if (scales == 1 && groups == 1) {
      throw a.refuse("num_groups_per_scale", "1 with num_latent_scales 1 is upstream's vanilla VAE (no encoder or "
          + "decoder tower, a stem_decoder), which genzoo does not build");
    }
    int preBlocks = a.integer("num_preprocess_blocks", null);
    int postBlocks = a.integer("num_postprocess_blocks", null);
    if (preBlocks != postBlocks) {
      throw a.refuse("num_postprocess_blocks", postBlocks + " differs from num_preprocess_blocks " + preBlocks
          + ": the decoder would not return to the input resolution");
    }
    NvaeConfig base = grey ? NvaeConfig.mnist() : NvaeConfig.cifar10();
    NvaeConfig.Model model;
    try {
      model = new NvaeConfig.Model(grey ? new long[] {28, 28, 1} : new long[] {size, size, 3},
          grey ? NvaeConfig.Likelihood.BERNOULLI : NvaeConfig.Likelihood.DMOL, grey ? 1 : numMix, grey ? 2 : 0,
          a.integer("num_channels_enc", null), a.integer("num_channels_dec", null), preBlocks,
          a.integer("num_preprocess_cells", null), scales, groups, a.bool("ada_groups", false),
          a.integer("min_groups_per_scale", 1), a.integer("num_latent_per_group", null),
          a.integer("num_cell_per_cond_enc", null), a.integer("num_cell_per_cond_dec", null), postBlocks,
          a.integer("num_postprocess_cells", null), a.bool("use_se", null), a.bool("res_dist", null),
          a.integer("num_nf", 0));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(a.source + ": its args describe a network genzoo cannot build: "
          + e.getMessage(), e);
    }
    NvaeConfig.Objective o = base.objective();
    NvaeConfig.Objective objective = new NvaeConfig.Objective(a.real("kl_anneal_portion", o.klAnnealPortion()),
        a.real("kl_const_portion", o.klConstPortion()), a.real("kl_const_coeff", o.klConstCoeff()), o.klBalance(),
        a.real("weight_decay_norm", o.spectralRegularization()), o.powerIterations());
    return new NvaeConfig(base.preset(), model, objective, base.training(), base.sampling());
  }

  /** The checkpoint's training arguments, read from the metadata {@link #read} filled. */
  private static final class Args {
    final String source;
    final Map<String, String> meta;

    Args(TensorSet upstream) {
      this.source = upstream.source();
      this.meta = upstream.metadata();
      if (meta.keySet().stream().noneMatch(k -> k.startsWith("args."))) {
        throw new IllegalArgumentException(source + " carries no 'args' (the argparse.Namespace upstream's train.py "
            + "saves beside the state_dict), so the architecture is unknown: give the genzoo config explicitly");
      }
    }

    IllegalArgumentException refuse(String arg, String why) {
      return new IllegalArgumentException(source + ": args." + arg + " = " + why);
    }

    private String raw(String name, Object fallback) {
      String v = meta.get("args." + name);
      if (v == null) {
        if (fallback == null) {
          throw new IllegalArgumentException(source + ": its args have no " + name + ", which the NVAE architecture "
              + "needs");
        }
        return null;
      }
      return v;
    }

    String string(String name, String fallback) {
      String v = raw(name, fallback);
      return v == null ? fallback : v;
    }

    int integer(String name, Integer fallback) {
      String v = raw(name, fallback);
      if (v == null) {
        return fallback;
      }
      try {
        return Integer.parseInt(v.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(source + ": args." + name + " should be an integer, got '" + v + "'");
      }
    }

    double real(String name, double fallback) {
      String v = meta.get("args." + name);
      if (v == null) {
        return fallback;
      }
      try {
        return Double.parseDouble(v.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(source + ": args." + name + " should be a number, got '" + v + "'");
      }
    }

    boolean bool(String name, Boolean fallback) {
      String v = raw(name, fallback);
      if (v == null) {
        return fallback;
      }
      return switch (v.strip().toLowerCase(Locale.ROOT)) {
        case "true", "1" -> true;
        case "false", "0" -> false;
        default -> throw new IllegalArgumentException(source + ": args." + name + " should be True or False, got '"
            + v + "'");
      };
    }
  }

  @Override
  public NameMap nameMap(JsonNode config) {
    NvaeConfig.Model m = Configs.fromJson(config, NvaeConfig.class).model();
    Table t = new Table();
    t.map.ignore(".*\\.num_batches_tracked", "BatchNorm's update counter, unused in evaluation");
    t.map.ignore(".*\\.weight_normalized", "upstream's second registration of a convolution weight that has no "
        + "weight normalisation (the same tensor as .weight)");

    t.conv("stem", "nvae/stem", true, true);
    int[] groups = m.groups();
    int scales = m.latentScales();
    for (int b = 0, i = 0; b < m.preprocessBlocks(); b++) {
      for (int c = 0; c < m.preprocessCells(); c++, i++) {
        t.encoderCell("pre_process." + i, "nvae/pre_process/cell_" + i, c == m.preprocessCells() - 1, m.useSe());
      }
    }
    int i = 0;
    for (int s = 0; s < scales; s++) {
      for (int g = 0; g < groups[s]; g++) {
        for (int c = 0; c < m.cellsPerGroupEnc(); c++, i++) {
          t.encoderCell("enc_tower." + i, "nvae/enc_tower/cell_" + i, false, m.useSe());
        }
        if (!(s == scales - 1 && g == groups[s] - 1)) {
          t.conv("enc_tower." + i + ".conv", "nvae/enc_tower/cell_" + i + "/conv", true, true);
          i++;
        }
      }
      if (s < scales - 1) {
        t.encoderCell("enc_tower." + i, "nvae/enc_tower/cell_" + i, true, m.useSe());
        i++;
      }
    }
    t.conv("enc0.1", "nvae/enc0/conv", true, true);
    for (int s = 0, gi = 0, di = 0, fi = 0; s < scales; s++) {
      for (int g = 0; g < groups[scales - s - 1]; g++, gi++) {
        t.conv("enc_sampler." + gi, "nvae/enc_sampler/sampler_" + gi, true, true);
        for (int f = 0; f < m.numFlows(); f++, fi++) {
          t.flow("nf_cells." + fi, "nvae/nf_cells/cell_" + fi);
        }
        if (!(s == 0 && g == 0)) {
          t.conv("dec_sampler." + di + ".1", "nvae/dec_sampler/sampler_" + di + "/conv", true, true);
          di++;
        }
      }
    }
    t.map.map("prior_ftr0", "nvae/prior_ftr0", rank(3).then(x -> x.transpose(1, 2, 0)));
    i = 0;
    for (int s = 0; s < scales; s++) {
      for (int g = 0; g < groups[scales - s - 1]; g++) {
        if (!(s == 0 && g == 0)) {
          for (int c = 0; c < m.cellsPerGroupDec(); c++, i++) {
            t.decoderCell("dec_tower." + i, "nvae/dec_tower/cell_" + i, false, m.useSe());
          }
        }
        t.conv("dec_tower." + i + ".conv", "nvae/dec_tower/cell_" + i + "/conv", true, true);
        i++;
      }
      if (s < scales - 1) {
        t.decoderCell("dec_tower." + i, "nvae/dec_tower/cell_" + i, true, m.useSe());
        i++;
      }
    }
    for (int b = 0, j = 0; b < m.postprocessBlocks(); b++) {
      for (int c = 0; c < m.postprocessCells(); c++, j++) {
        t.decoderCell("post_process." + j, "nvae/post_process/cell_" + j, c == 0, m.useSe());
      }
    }
    t.conv("image_conditional.1", "nvae/image_conditional/conv", true, true);
    return t.map;
  }

  /** Checks a tensor's rank before a layout change. */
  private static Transform rank(int r) {
    return x -> {
      if (x.shape().length != r) {
        throw new IllegalArgumentException(x + " should have rank " + r);
      }
      return x;
    };
  }

  /** [out, 1, 1, 1] (upstream's per-filter log_weight_norm) to [out]. */
  private static final Transform PER_FILTER = x -> {
    long[] s = x.shape();
    if (s.length != 4 || s[1] != 1 || s[2] != 1 || s[3] != 1) {
      throw new IllegalArgumentException(x + " should be [out, 1, 1, 1]");
    }
    return x.reshape(s[0]);
  };

  /** The rows of the table, one helper per upstream module kind. */
  private static final class Table {
    final NameMap map = new NameMap();

    /** upstream Conv2D (weight, log_weight_norm when weight-normalised, bias when it has one). */
    void conv(String up, String gz, boolean weightNorm, boolean bias) {
      map.map(up + ".weight", gz + "/kernel", Transform.OIHW_TO_HWIO);
      if (weightNorm) {
        map.map(up + ".log_weight_norm", gz + "/log_weight_norm", PER_FILTER);
      }
      if (bias) {
        map.map(up + ".bias", gz + "/bias");
      }
    }

    /** upstream BatchNorm2d / SyncBatchNormSwish. */
    void bn(String up, String gz) {
      map.map(up + ".weight", gz + "/gamma", rank(1));
      map.map(up + ".bias", gz + "/beta", rank(1));
      map.map(up + ".running_mean", gz + "/moving_mean", rank(1));
      map.map(up + ".running_var", gz + "/moving_variance", rank(1));
    }

    /** upstream SE: Linear, ReLU, Linear, Sigmoid. */
    void se(String up, String gz) {
      map.map(up + ".se.0.weight", gz + "/dense_1/kernel", Transform.LINEAR_OI_TO_IO);
      map.map(up + ".se.0.bias", gz + "/dense_1/bias");
      map.map(up + ".se.2.weight", gz + "/dense_2/kernel", Transform.LINEAR_OI_TO_IO);
      map.map(up + ".se.2.bias", gz + "/dense_2/bias");
    }

    /** A res_bnswish cell: two BNSwishConv (bn_act, conv_0); a down cell has the FactorizedReduce skip. */
    void encoderCell(String up, String gz, boolean down, boolean useSe) {
      for (int j = 0; j < 2; j++) {
        bn(up + "._ops." + j + ".bn_act", gz + "/op_" + j + "/bn");
        conv(up + "._ops." + j + ".conv_0", gz + "/op_" + j + "/conv", true, true);
      }
      if (down) {
        for (int k = 1; k <= 4; k++) {
          conv(up + ".skip.conv_" + k, gz + "/skip/conv_" + k, true, true);
        }
      }
      if (useSe) {
        se(up + ".se", gz + "/se");
      }
    }

    /**
     * An mconv cell (InvertedResidual): [UpsamplingNearest2d,] BN, ConvBNSwish 1x1, ConvBNSwish depthwise, Conv2D
     * 1x1, BN; an up cell has the skip UpSample, Conv2D 1x1 without bias.
     */
    void decoderCell(String up, String gz, boolean upsample, boolean useSe) {
      String ops = up + "._ops.0.conv.";
      int o = upsample ? 1 : 0;
      bn(ops + o + ".bn", gz + "/op_0/bn_in");
      map.map(ops + (o + 1) + ".conv.0.weight", gz + "/op_0/expand/conv/kernel", Transform.OIHW_TO_HWIO);
      bn(ops + (o + 1) + ".conv.1", gz + "/op_0/expand/bn");
      map.map(ops + (o + 2) + ".conv.0.weight", gz + "/op_0/depthwise/conv/kernel", Transform.DEPTHWISE_OIHW_TO_HWC1);
      bn(ops + (o + 2) + ".conv.1", gz + "/op_0/depthwise/bn");
      map.map(ops + (o + 3) + ".weight", gz + "/op_0/project/conv/kernel", Transform.OIHW_TO_HWIO);
      bn(ops + (o + 4) + ".bn", gz + "/op_0/project/bn");
      if (upsample) {
        conv(up + ".skip.1", gz + "/skip/conv", true, false);
      }
      if (useSe) {
        se(up + ".se", gz + "/se");
      }
    }

    /** A PairedCellAR: per cell a masked 3x3 conv and a masked depthwise 5x5 (convz.0, convz.2), and mu.conv_0. */
    void flow(String up, String gz) {
      for (String cell : List.of("cell1", "cell2")) {
        String u = up + "." + cell;
        String g = gz + "/" + cell;
        map.map(u + ".conv.convz.0.weight", g + "/convz_0/kernel", Transform.OIHW_TO_HWIO);
        map.map(u + ".conv.convz.0.log_weight_norm", g + "/convz_0/log_weight_norm", PER_FILTER);
        map.map(u + ".conv.convz.2.weight", g + "/convz_2/kernel", Transform.DEPTHWISE_OIHW_TO_HWC1);
        map.map(u + ".conv.convz.2.log_weight_norm", g + "/convz_2/log_weight_norm", PER_FILTER);
        conv(u + ".mu.conv_0", g + "/mu/conv_0", true, true);
      }
    }
  }
}
