package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.TensorBundle;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ebm.EbmConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The authors' IGEBM release (Du and Mordatch 2019, openai/ebm_code_release): a TF1 Saver checkpoint of the
 * unconditional CIFAR-10 energy {@code ResNet32Large} that {@code train.py --large_model} trains (the README's
 * {@code cifar10_large_model_uncond}, {@code --resume_iter=121200}: {@code model_121200}), converted into genzoo's
 * {@link dev.genzoo.graphs.ebm.ResNetEnergy} (family {@code ebm}).
 *
 * <p>{@code train.py} builds the weights with {@code construct_weights('context_0')}. In a convolution's scope the
 * code's {@code get_weight('c', ...)} creates the kernel {@code cweight} [3, 3, in, out] and its spectral norm's
 * non-trainable row vector {@code c_u} [1, out], and {@code init_conv_weight} adds {@code b}, {@code g}, {@code gb}
 * and {@code cb}. The table (genzoo scope {@code ebm/energy}, {@code <blk>} one of {@code res_optim}, {@code
 * res_1} ... {@code res_8}):
 * <pre>
 * context_0/c1_pre/cweight, c_u              -&gt; c1_pre/kernel, kernel_u
 * context_0/&lt;blk&gt;_res_c1/cweight, c_u, gb    -&gt; &lt;blk&gt;/conv_1/kernel, kernel_u, input_bias
 * context_0/&lt;blk&gt;_res_c2/cweight, c_u, gb, g -&gt; &lt;blk&gt;/conv_2/kernel, kernel_u, input_bias, gain
 * context_0/&lt;blk&gt;_res_adaptive/cweight, c_u -&gt; &lt;blk&gt;/shortcut/kernel, kernel_u   (res_3 and res_6)
 * context_0/fc5/wweight, b                   -&gt; fc5/kernel, fc5/bias
 * </pre>
 * Kernels keep their HWIO layout; the u rows [1, out] become genzoo's vectors [out] (the same vector: both codes view
 * the kernel as the matrix [9 in, out]). The variables the unconditional forward never reads are ignored and reported:
 * every convolution's {@code b} and {@code cb}, the {@code g} and {@code gb} of {@code c1_pre} and of the shortcuts,
 * the {@code g} of the first convolutions, and the attention block {@code atten/*}, which only {@code
 * --use_attention} runs (in place of {@code res_4}); a checkpoint whose {@code atten/gamma} moved from its initial 0
 * was trained with attention and is refused. Adam's slots and powers are ignored too. The checkpoint has no moving
 * averages: the weights are the training weights.
 *
 * <p>Genzoo's inference uses the stored u vectors as they are, where the authors' graph runs one more power iteration
 * in every forward pass; after training u has converged and the two agree closely, not exactly.
 *
 * <p>Without a requested config the converter uses the {@code cifar10} preset with the filters F and the image
 * channels read off {@code c1_pre/cweight}; the image size stays 32x32.
 */
public final class IgebmTf1Converter implements ModelConverter {
  /** The authors' variable scope. */
  public static final String SCOPE = "context_0";
  /** The scope of genzoo's energy network. */
  public static final String GENZOO_SCOPE = "ebm/energy";

  /** ResNet32Large's residual blocks as {@code construct_weights} names them, with their in/out width factors. */
  private static final List<String> BLOCKS = List.of("res_optim", "res_1", "res_2", "res_3", "res_4", "res_5",
      "res_6", "res_7", "res_8");
  private static final int[] IN = {1, 1, 1, 1, 2, 2, 2, 4, 4};
  private static final int[] OUT = {1, 1, 1, 2, 2, 2, 4, 4, 4};

  @Override
  public String name() {
    return "igebm-tf1";
  }

  @Override
  public String family() {
    return "ebm";
  }

  @Override
  public String description() {
    return "Du & Mordatch 2019's TF1 Saver checkpoint of the unconditional CIFAR-10 ResNet32Large energy "
        + "(openai/ebm_code_release, train.py --large_model; e.g. cifar10_large_model_uncond/model_121200)";
  }

  @Override
  public TensorSet read(Path checkpoint) throws IOException {
    TensorSet all = TensorBundle.read(DdpmTf1Converter.tfPrefix(checkpoint));
    checkNoAttention(all);
    return all;
  }

  /**
   * Refuses a checkpoint trained with {@code --use_attention}: its attention gain {@code atten/gamma} starts at 0 and
   * only moves when the attention block runs, which genzoo's network does not have.
   */
  public static void checkNoAttention(TensorSet all) {
    String gamma = SCOPE + "/atten/gamma";
    if (all.contains(gamma)) {
      for (double g : all.get(gamma).toDoubles()) {
        if (g != 0) {
          throw new IllegalArgumentException(all.source() + ": " + gamma + " is " + g + ", not its initial 0, so the "
              + "model was trained with --use_attention (an attention block in place of res_4), which genzoo's "
              + "ResNet32Large does not have");
        }
      }
    }
  }

  @Override
  public JsonNode config(TensorSet upstream, JsonNode requested) {
    if (requested != null) {
      return requested;
    }
    return Configs.toJson(inferConfig(upstream));
  }

  /** The {@code cifar10} preset with F and the image channels of {@code c1_pre/cweight} [3, 3, C, F]. */
  public EbmConfig inferConfig(TensorSet upstream) {
    String name = SCOPE + "/c1_pre/cweight";
    if (!upstream.contains(name)) {
      throw new IllegalArgumentException(upstream.source() + " has no tensor " + name + ": not a checkpoint of "
          + "IGEBM's ResNet32Large built under " + SCOPE + " (pass a config to convert it anyway)");
    }
    long[] s = upstream.get(name).shape();
    if (s.length != 4 || s[0] != 3 || s[1] != 3) {
      throw new IllegalArgumentException(upstream.source() + ": " + name + " has shape " + Arrays.toString(s)
          + ", expected [3, 3, C, F]");
    }
    EbmConfig preset = EbmConfig.cifar10();
    EbmConfig.Model p = preset.model();
    EbmConfig.Model m = new EbmConfig.Model(p.network(), new long[] {p.dataShape()[0], p.dataShape()[1], s[2]},
        Math.toIntExact(s[3]), p.depth(), p.spectralNorm(), p.activation(), p.dropout());
    return new EbmConfig(preset.preset(), m, preset.chains(), preset.buffer(), preset.l2(), preset.training(),
        preset.sampling());
  }

  @Override
  public NameMap nameMap(JsonNode config) {
    EbmConfig c = Configs.fromJson(config, EbmConfig.class);
    EbmConfig.Model m = c.model();
    if (m.network() != EbmConfig.Network.RESNET32_LARGE) {
      throw new IllegalArgumentException("the IGEBM TF1 checkpoint holds ResNet32Large; the config asks for "
          + m.network());
    }
    long f = m.width();
    NameMap map = new NameMap();
    spectral(map, "c1_pre", "c1_pre", f);
    for (int i = 0; i < BLOCKS.size(); i++) {
      String blk = BLOCKS.get(i);
      long in = IN[i] * f;
      long out = OUT[i] * f;
      String g = GENZOO_SCOPE + "/" + blk;
      spectral(map, blk + "_res_c1", blk + "/conv_1", out);
      map.map(up(blk + "_res_c1/gb"), g + "/conv_1/input_bias");
      spectral(map, blk + "_res_c2", blk + "/conv_2", out);
      map.map(up(blk + "_res_c2/gb"), g + "/conv_2/input_bias");
      map.map(up(blk + "_res_c2/g"), g + "/conv_2/gain");
      if (in != out) {
        spectral(map, blk + "_res_adaptive", blk + "/shortcut", out);
      }
    }
    map.map(up("fc5/wweight"), GENZOO_SCOPE + "/fc5/kernel");
    map.map(up("fc5/b"), GENZOO_SCOPE + "/fc5/bias");
    String conv = SCOPE + "/(c1_pre|\\w+_res_(c1|c2|adaptive))";
    map.ignore(conv + "/(b|cb)", "convolution bias and class bias, unused (conv_block's use_bias is off; "
            + "unconditional model)")
        .ignore(SCOPE + "/(c1_pre|\\w+_res_adaptive)/(g|gb)", "scale and input bias, unused by these convolutions")
        .ignore(SCOPE + "/\\w+_res_c1/g", "scale, unused by the first convolution of a block")
        .ignore(SCOPE + "/atten/.*", "the attention block, unused without --use_attention")
        .ignore(".*/Adam(_\\d+)?", "Adam moment estimates (optimiser state)")
        .ignore("beta[12]_power(_\\d+)?", "Adam's bias-correction powers (optimiser state)")
        .ignore("global_step", "the training step counter");
    return map;
  }

  private static String up(String rel) {
    return SCOPE + "/" + rel;
  }

  /** A spectrally normalised convolution: its kernel as it is and its u row [1, out] as the vector [out]. */
  private static void spectral(NameMap map, String upstreamScope, String genzooPath, long out) {
    map.map(up(upstreamScope + "/cweight"), GENZOO_SCOPE + "/" + genzooPath + "/kernel");
    map.map(up(upstreamScope + "/c_u"), GENZOO_SCOPE + "/" + genzooPath + "/kernel_u", Transform.reshape(out));
  }
}
