package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorBundle;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ddpm.DdpmConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The authors' DDPM release (Ho, Jain and Abbeel 2020, hojonathanho/diffusion): the TF1 Saver checkpoint
 * {@code diffusion_cifar10_model/model.ckpt-790000} of the CIFAR-10 U-Net, whose exponential moving averages give the
 * published samples (FID 3.17).
 *
 * <p>The authors' {@code unet.model} runs under {@code tf.variable_scope('model')}; {@code nn.conv2d}, {@code nn.dense}
 * and {@code nn.nin} create {@code W} (HWIO for convolutions, [in, out] for dense and 1x1 layers) and {@code b}, and
 * {@code tf.contrib.layers.group_norm} creates {@code gamma} and {@code beta}. Genzoo's {@link
 * dev.genzoo.graphs.ddpm.UNet} has the same layers under the same paths and layouts, so the table is a renaming:
 * <pre>
 * model/&lt;path&gt;/W -&gt; unet/&lt;path&gt;/kernel     model/&lt;path&gt;/b -&gt; unet/&lt;path&gt;/bias
 * model/&lt;path&gt;/gamma, beta -&gt; unet/&lt;path&gt;/gamma, beta
 * </pre>
 * for the paths {@code temb/dense0}, {@code temb/dense1}, {@code conv_in}, {@code down_i/block_j/{norm1, conv1,
 * temb_proj, norm2, conv2, nin_shortcut}}, {@code down_i/attn_j/{norm, q, k, v, proj_out}}, {@code
 * down_i/downsample/conv}, {@code mid/{block_1, attn_1, block_2}}, {@code up_i/block_j}, {@code up_i/attn_j}, {@code
 * up_i/upsample/conv}, {@code norm_out} and {@code conv_out}, listed from the config as {@code unet.py} builds them.
 *
 * <p>The training checkpoint also holds {@code tf.train.ExponentialMovingAverage}'s shadow {@code
 * <var>/ExponentialMovingAverage} of every variable (decay 0.9999), Adam's slots {@code <var>/Adam} and {@code
 * <var>/Adam_1}, {@code beta1_power}, {@code beta2_power} and {@code global_step}. {@link #read} takes the EMA shadows
 * as the weights (the authors evaluate with them), or the raw weights for {@link #rawWeights()}; the optimiser state
 * is ignored and reported as such.
 *
 * <p>Without a requested config the converter uses the {@code cifar10} preset, with the width, channel multipliers,
 * residual blocks per level, attention levels and image channels read off the checkpoint's shapes; the image size
 * cannot be read off the weights and stays 32x32 (pass a config for other sizes), and the GroupNorm groups stay 32, as
 * the authors' code fixes them.
 */
public final class DdpmTf1Converter implements ModelConverter {
  /** The authors' variable scope. */
  public static final String SCOPE = "model";
  /** The scope of genzoo's U-Net. */
  public static final String GENZOO_SCOPE = "unet";
  /** The suffix of {@code tf.train.ExponentialMovingAverage}'s shadow variables. */
  public static final String EMA_SUFFIX = "/ExponentialMovingAverage";
  /** The metadata key that says which weights {@link #read} took ({@code ema} or {@code raw}). */
  public static final String WEIGHTS_KEY = "weights";

  /** A variable of the authors' network (not a slot of one): a W, b, gamma or beta under {@code model/}. */
  private static final Pattern MODEL_VARIABLE = Pattern.compile(SCOPE + "/.+/(W|b|gamma|beta)");

  private final boolean ema;

  /** The converter of the EMA weights (the authors' evaluation weights): {@code ddpm-tf1}. */
  public DdpmTf1Converter() {
    this(true);
  }

  private DdpmTf1Converter(boolean ema) {
    this.ema = ema;
  }

  /** The converter of the raw (non-averaged) training weights of the same checkpoint: {@code ddpm-tf1-raw}. */
  public static DdpmTf1Converter rawWeights() {
    return new DdpmTf1Converter(false);
  }

  @Override
  public String name() {
    return ema ? "ddpm-tf1" : "ddpm-tf1-raw";
  }

  @Override
  public String family() {
    return "ddpm";
  }

  @Override
  public String description() {
    return "Ho et al. 2020's TF1 Saver checkpoint (hojonathanho/diffusion, e.g. diffusion_cifar10_model/"
        + "model.ckpt-790000), " + (ema ? "its EMA weights" : "its raw (non-EMA) weights");
  }

  /** True when this converter takes the EMA shadows. */
  public boolean usesEma() {
    return ema;
  }

  @Override
  public TensorSet read(Path checkpoint) throws IOException {
    return selectWeights(TensorBundle.read(tfPrefix(checkpoint)));
  }

  /**
   * The checkpoint prefix for {@code path}: the prefix itself, or the prefix of its {@code .index}, {@code .meta} or
   * {@code .data-*} file.
   */
  static Path tfPrefix(Path path) {
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    if (name.endsWith(".meta") && name.length() > 5) {
      return path.resolveSibling(name.substring(0, name.length() - 5));
    }
    return TensorBundle.prefixOf(path);
  }

  /**
   * Picks the weights among the checkpoint's tensors: every model variable under its own name holds its EMA shadow's
   * value (or its raw value for {@link #rawWeights()}); the other tensors (optimiser slots, counters, and the shadows
   * when the raw weights are taken) pass through for the name map to ignore and report.
   *
   * @throws IllegalArgumentException when EMA weights are wanted and the checkpoint has no shadows, or shadows of only
   *     some variables
   */
  public TensorSet selectWeights(TensorSet all) {
    Set<String> variables = new LinkedHashSet<>();
    List<String> withoutShadow = new ArrayList<>();
    for (String n : all.names()) {
      if (MODEL_VARIABLE.matcher(n).matches()) {
        variables.add(n);
        if (!all.contains(n + EMA_SUFFIX)) {
          withoutShadow.add(n);
        }
      }
    }
    TensorSet out = new TensorSet(all.source());
    out.metadata().putAll(all.metadata());
    if (!ema) {
      for (NamedTensor t : all) {
        out.add(t);
      }
      out.metadata().put(WEIGHTS_KEY, "raw");
      return out;
    }
    if (!variables.isEmpty() && withoutShadow.size() == variables.size()) {
      throw new IllegalArgumentException(all.source() + " holds no " + EMA_SUFFIX.substring(1) + " shadows of its "
          + SCOPE + "/ variables (e.g. " + variables.iterator().next() + EMA_SUFFIX + "); convert its raw weights with "
          + rawWeights().name());
    }
    if (!withoutShadow.isEmpty()) {
      throw new IllegalArgumentException(all.source() + ": " + withoutShadow.size() + " of " + variables.size()
          + " variables have no " + EMA_SUFFIX.substring(1) + " shadow: "
          + String.join(", ", withoutShadow.subList(0, Math.min(5, withoutShadow.size())))
          + (withoutShadow.size() > 5 ? ", ..." : ""));
    }
    for (NamedTensor t : all) {
      String n = t.name();
      if (MODEL_VARIABLE.matcher(n).matches()) {
        out.add(all.get(n + EMA_SUFFIX).withName(n));
      } else if (!(n.endsWith(EMA_SUFFIX) && variables.contains(n.substring(0, n.length() - EMA_SUFFIX.length())))) {
        out.add(t);
      }
    }
    out.metadata().put(WEIGHTS_KEY, "ema");
    return out;
  }

  @Override
  public JsonNode config(TensorSet upstream, JsonNode requested) {
    if (requested != null) {
      return requested;
    }
    return Configs.toJson(inferConfig(upstream));
  }

  /**
   * The {@code cifar10} preset with the architecture the checkpoint's shapes show: base width {@code ch} and image
   * channels from {@code conv_in/W}, one channel multiplier per {@code down_i} level, the residual blocks of
   * {@code down_0}, and attention at the resolutions (32 / 2^i) of the levels that have {@code attn_0}.
   */
  public DdpmConfig inferConfig(TensorSet upstream) {
    DdpmConfig preset = DdpmConfig.cifar10();
    DdpmConfig.Model p = preset.model();
    long[] convIn = shapeOf(upstream, SCOPE + "/conv_in/W", 4);
    int channels = Math.toIntExact(convIn[2]);
    int ch = Math.toIntExact(convIn[3]);
    long[] convOut = shapeOf(upstream, SCOPE + "/conv_out/W", 4);
    if (convOut[3] != channels) {
      throw new IllegalArgumentException(upstream.source() + ": " + SCOPE + "/conv_out/W has " + convOut[3]
          + " output channels for " + channels + " image channels; genzoo's DDPM predicts epsilon only (the "
          + "authors' learned-variance models output twice the channels)");
    }
    List<Integer> mult = new ArrayList<>();
    List<Integer> attn = new ArrayList<>();
    for (int i = 0; upstream.contains(SCOPE + "/down_" + i + "/block_0/conv1/W"); i++) {
      long out = shapeOf(upstream, SCOPE + "/down_" + i + "/block_0/conv1/W", 4)[3];
      if (out % ch != 0) {
        throw new IllegalArgumentException(upstream.source() + ": " + SCOPE + "/down_" + i + "/block_0/conv1/W has "
            + out + " output channels, not a multiple of the base width " + ch);
      }
      mult.add(Math.toIntExact(out / ch));
      if (upstream.contains(SCOPE + "/down_" + i + "/attn_0/q/W")) {
        attn.add((int) (p.dataShape()[0] >> i));
      }
    }
    if (mult.isEmpty()) {
      throw new IllegalArgumentException(upstream.source() + " has no tensor " + SCOPE
          + "/down_0/block_0/conv1/W: not a checkpoint of the diffusion_tf U-Net");
    }
    int blocks = 0;
    while (upstream.contains(SCOPE + "/down_0/block_" + blocks + "/conv1/W")) {
      blocks++;
    }
    for (int k : mult) {
      if ((long) ch * k % p.groups() != 0) {
        throw new IllegalArgumentException(upstream.source() + ": a level of " + ch + " x " + k + " channels cannot "
            + "be split into the " + p.groups() + " GroupNorm groups of the authors' code; pass a config that "
            + "gives the groups");
      }
    }
    DdpmConfig.Model m = new DdpmConfig.Model(p.network(), new long[] {p.dataShape()[0], p.dataShape()[1], channels},
        ch, mult.stream().mapToInt(Integer::intValue).toArray(), blocks,
        attn.stream().mapToInt(Integer::intValue).toArray(), p.dropout(), p.groups(), 0, 0);
    return new DdpmConfig(preset.preset(), m, preset.diffusion(), preset.training(), preset.sampling());
  }

  private static long[] shapeOf(TensorSet upstream, String name, int rank) {
    if (!upstream.contains(name)) {
      throw new IllegalArgumentException(upstream.source() + " has no tensor " + name
          + ": not a checkpoint of the diffusion_tf U-Net (pass a config to convert it anyway)");
    }
    long[] s = upstream.get(name).shape();
    if (s.length != rank) {
      throw new IllegalArgumentException(upstream.source() + ": " + name + " has shape " + Arrays.toString(s)
          + ", expected rank " + rank);
    }
    return s;
  }

  @Override
  public NameMap nameMap(JsonNode config) {
    DdpmConfig c = Configs.fromJson(config, DdpmConfig.class);
    DdpmConfig.Model m = c.model();
    if (m.network() != DdpmConfig.Network.UNET) {
      throw new IllegalArgumentException("the DDPM TF1 checkpoint holds a U-Net; the config asks for " + m.network());
    }
    if (m.numClasses() != 0) {
      throw new IllegalArgumentException("the DDPM TF1 checkpoint is unconditional (the authors' unet.model has no "
          + "label embedding); the config asks for " + m.numClasses() + " classes");
    }
    NameMap map = new NameMap();
    Table t = new Table(map);
    long ch = m.ch();
    t.dense("temb/dense0");
    t.dense("temb/dense1");
    t.dense("conv_in");
    int levels = m.chMult().length;
    long resolution = m.dataShape()[0];
    List<Long> skips = new ArrayList<>();
    skips.add(ch);
    long cur = ch;
    for (int i = 0; i < levels; i++) {
      long out = ch * m.chMult()[i];
      for (int j = 0; j < m.numResBlocks(); j++) {
        t.block("down_" + i + "/block_" + j, cur, out);
        cur = out;
        if (hasAttention(m, resolution)) {
          t.attention("down_" + i + "/attn_" + j);
        }
        skips.add(cur);
      }
      if (i != levels - 1) {
        t.dense("down_" + i + "/downsample/conv");
        skips.add(cur);
        resolution /= 2;
      }
    }
    t.block("mid/block_1", cur, cur);
    t.attention("mid/attn_1");
    t.block("mid/block_2", cur, cur);
    for (int i = levels - 1; i >= 0; i--) {
      long out = ch * m.chMult()[i];
      for (int j = 0; j < m.numResBlocks() + 1; j++) {
        t.block("up_" + i + "/block_" + j, cur + skips.remove(skips.size() - 1), out);
        cur = out;
        if (hasAttention(m, resolution)) {
          t.attention("up_" + i + "/attn_" + j);
        }
      }
      if (i != 0) {
        t.dense("up_" + i + "/upsample/conv");
        resolution *= 2;
      }
    }
    t.norm("norm_out");
    t.dense("conv_out");
    map.ignore(".*/Adam(_\\d+)?", "Adam moment estimates (optimiser state)")
        .ignore("beta[12]_power(_\\d+)?", "Adam's bias-correction powers (optimiser state)")
        .ignore(".*/(RMSProp|Momentum)(_\\d+)?", "optimiser slots")
        .ignore("global_step", "the training step counter")
        .ignore(".*" + EMA_SUFFIX, "EMA shadows (the raw weights were taken)");
    return map;
  }

  private static boolean hasAttention(DdpmConfig.Model m, long resolution) {
    for (int r : m.attnResolutions()) {
      if (r == resolution) {
        return true;
      }
    }
    return false;
  }

  /** Rows for the layer kinds of unet.py, upstream {@code model/<path>/...} to genzoo {@code unet/<path>/...}. */
  private record Table(NameMap map) {
    /** nn.conv2d, nn.dense and nn.nin: W (HWIO or [in, out], as genzoo's kernels) and b. */
    void dense(String path) {
      map.map(SCOPE + "/" + path + "/W", GENZOO_SCOPE + "/" + path + "/kernel");
      map.map(SCOPE + "/" + path + "/b", GENZOO_SCOPE + "/" + path + "/bias");
    }

    /** tf.contrib.layers.group_norm: gamma and beta. */
    void norm(String path) {
      map.map(SCOPE + "/" + path + "/gamma", GENZOO_SCOPE + "/" + path + "/gamma");
      map.map(SCOPE + "/" + path + "/beta", GENZOO_SCOPE + "/" + path + "/beta");
    }

    /** resnet_block: norm1, conv1, temb_proj, norm2, conv2 and, when the channels change, nin_shortcut. */
    void block(String path, long in, long out) {
      norm(path + "/norm1");
      dense(path + "/conv1");
      dense(path + "/temb_proj");
      norm(path + "/norm2");
      dense(path + "/conv2");
      if (in != out) {
        dense(path + "/nin_shortcut");
      }
    }

    /** attn_block: norm, q, k, v, proj_out. */
    void attention(String path) {
      norm(path + "/norm");
      for (String n : List.of("q", "k", "v", "proj_out")) {
        dense(path + "/" + n);
      }
    }
  }
}
