package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.checkpoints.formats.TorchCheckpoint;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.ncsn.NcsnConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The authors' NCSNv2 checkpoints (Song &amp; Ermon 2020, "Improved Techniques for Training Score-Based Generative
 * Models", github ermongroup/ncsnv2) to genzoo's {@code ncsn} family with the {@code REFINENET_V2} network.
 *
 * <p><b>The file.</b> {@code runners/ncsn_runner.py} saves {@code checkpoint_<step>.pth} as the list
 * {@code [score.state_dict(), optimizer.state_dict(), epoch, step]}, followed by {@code ema_helper.state_dict()} when
 * the config's {@code model.ema} is on (CIFAR-10: ema_rate 0.999). The score network is wrapped in
 * {@code torch.nn.DataParallel}, so the state dict's keys start with {@code module.}; the EMA entry is
 * {@code EMAHelper.shadow}: one copy per parameter with {@code requires_grad}, keyed by the inner module's
 * {@code named_parameters()} (no {@code module.} prefix, no buffers). Upstream samples with the EMA weights
 * ({@code ema_helper.ema(score)} in {@code NCSNRunner.sample}), and so does this converter: every parameter comes from
 * the shadow when the checkpoint has one, the buffers (the noise levels {@code sigmas}) from the state dict; the
 * source line of the conversion report says which copy was used. The optimiser state is never read.
 *
 * <p><b>The table</b> is upstream's module structure (models/ncsnv2.py {@code NCSNv2}: begin_conv, res1..res4 of two
 * residual blocks each, refine1..refine4, normalizer, end_conv), every key renamed by the rule of
 * {@link dev.genzoo.graphs.ncsn.RefineNet}'s Javadoc ({@link #genzooName}); convolution weights OIHW become HWIO
 * kernels.
 *
 * <p><b>The config</b> is the {@code cifar10} preset (NCSNv2 on CIFAR-10) with the channel count and ngf read off
 * {@code begin_conv.weight} and the noise levels read off the {@code sigmas} buffer (sigma_1, sigma_L and L; they must
 * be geometric, as upstream's {@code sigma_dist: geometric}). The image size cannot be read off a convolutional
 * network: it stays 32 x 32 unless a config is requested.
 */
public final class Ncsnv2Converter implements ModelConverter {
  private static final String PREFIX = "module.";

  @Override
  public String name() {
    return "ncsnv2-pytorch";
  }

  @Override
  public String family() {
    return "ncsn";
  }

  @Override
  public String description() {
    return "NCSNv2 (Song & Ermon 2020, ermongroup/ncsnv2) checkpoint_*.pth, the list [state_dict, optimizer, epoch, "
        + "step, ema_shadow]; converts the EMA weights when present";
  }

  @Override
  public TensorSet read(Path checkpoint) throws IOException {
    Object root = TorchCheckpoint.read(checkpoint).root();
    Map<?, ?> state;
    Map<?, ?> ema = null;
    Object epoch = null;
    Object step = null;
    if (root instanceof List<?> list) {
      if (list.isEmpty() || !(list.get(0) instanceof Map<?, ?> first)) {
        throw notNcsnv2(checkpoint, "its first list entry is not a state dict");
      }
      state = first;
      epoch = list.size() > 2 ? list.get(2) : null;
      step = list.size() > 3 ? list.get(3) : null;
      if (list.size() > 4) {
        if (!(list.get(4) instanceof Map<?, ?> shadow)) {
          throw notNcsnv2(checkpoint, "its fifth entry (the EMA shadow) is not a dict but "
              + describe(list.get(4)));
        }
        ema = shadow.isEmpty() ? null : shadow;
      }
    } else if (root instanceof Map<?, ?> map && !map.isEmpty()
        && map.values().stream().allMatch(v -> v instanceof NamedTensor)) {
      state = map; // a bare state dict
    } else {
      throw notNcsnv2(checkpoint, "it holds " + describe(root));
    }

    Map<String, NamedTensor> raw = tensors(checkpoint, state, "state dict", true);
    Map<String, NamedTensor> shadow = ema == null ? Map.of() : tensors(checkpoint, ema, "EMA shadow", false);
    for (String k : raw.keySet()) {
      if (k.endsWith(".embed.weight")) {
        throw new IllegalArgumentException(checkpoint + " holds " + k + ": a conditional instance norm, i.e. an NCSN "
            + "(2019) CondRefineNetDilated checkpoint, not NCSNv2's unconditional network; this converter reads NCSNv2");
      }
      if (k.startsWith("res5.") || k.startsWith("refine5.")) {
        throw new IllegalArgumentException(checkpoint + " holds " + k + ": an NCSNv2Deeper / NCSNv2Deepest network "
            + "(upstream's LSUN / FFHQ models), which genzoo's RefineNet (the CIFAR-10 / CelebA NCSNv2) does not have");
      }
    }
    String which = ema == null ? "raw weights: the checkpoint has no EMA entry"
        : "EMA weights from the checkpoint's 5th entry";
    TensorSet out = new TensorSet(checkpoint + " [" + which + "]");
    List<String> rawOnly = new ArrayList<>();
    for (Map.Entry<String, NamedTensor> e : raw.entrySet()) {
      NamedTensor t = e.getValue();
      NamedTensor s = shadow.get(e.getKey());
      if (s != null) {
        if (!Arrays.equals(s.shape(), t.shape())) {
          throw new IllegalArgumentException(checkpoint + ": the EMA shadow of " + e.getKey() + " has shape "
              + s.shapeString() + " but the state dict's tensor has " + t.shapeString());
        }
        t = s;
      } else if (ema != null && !e.getKey().equals("sigmas")) {
        rawOnly.add(e.getKey());
      }
      out.add(t.withName(e.getKey()));
    }
    for (Map.Entry<String, NamedTensor> e : shadow.entrySet()) {
      if (!raw.containsKey(e.getKey())) {
        out.add(e.getValue().withName("ema:" + e.getKey())); // reported as left over
      }
    }
    out.metadata().put("weights", which);
    if (!rawOnly.isEmpty()) {
      out.metadata().put("raw_without_ema_shadow", String.join(",", rawOnly));
    }
    if (epoch != null) {
      out.metadata().put("epoch", String.valueOf(epoch));
    }
    if (step != null) {
      out.metadata().put("step", String.valueOf(step));
    }
    return out;
  }

  private static IllegalArgumentException notNcsnv2(Path file, String why) {
    return new IllegalArgumentException(file + " is not an NCSNv2 checkpoint (expected the list [state_dict, "
        + "optimizer, epoch, step] or [..., ema_shadow] that ermongroup/ncsnv2 saves): " + why);
  }

  private static String describe(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof Map<?, ?> m) {
      List<String> keys = new ArrayList<>();
      for (Object k : m.keySet()) {
        if (keys.size() == 5) {
          keys.add("...");
          break;
        }
        keys.add(String.valueOf(k));
      }
      return "a dict with keys " + keys;
    }
    if (o instanceof List<?> l) {
      return "a list of " + l.size();
    }
    return "a " + o.getClass().getSimpleName();
  }

  /** The tensors of a dict, keys without DataParallel's {@code module.} prefix. */
  private static Map<String, NamedTensor> tensors(Path file, Map<?, ?> dict, String what, boolean dataParallel) {
    Map<String, NamedTensor> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (!(e.getValue() instanceof NamedTensor t)) {
        throw new IllegalArgumentException(file + ": the " + what + " entry " + key + " is " + describe(e.getValue())
            + ", not a tensor");
      }
      String name = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
      if (out.put(name, t) != null) {
        throw new IllegalArgumentException(file + ": the " + what + " holds both " + name + " and " + PREFIX + name);
      }
    }
    return out;
  }

  @Override
  public JsonNode config(TensorSet upstream, JsonNode requested) {
    if (requested != null && !requested.isNull() && !requested.isMissingNode()) {
      return requested;
    }
    NcsnConfig preset = NcsnConfig.cifar10();
    long[] shape = preset.model().dataShape().clone();
    int ngf = preset.model().ngf();
    if (upstream.contains("begin_conv.weight")) {
      long[] w = upstream.get("begin_conv.weight").shape();
      if (w.length == 4) {
        ngf = Math.toIntExact(w[0]);
        shape[2] = w[1];
      }
    }
    NcsnConfig.Noise noise = preset.noise();
    if (upstream.contains("sigmas")) {
      noise = geometricNoise(upstream.source(), upstream.get("sigmas").toDoubles());
    }
    NcsnConfig c = new NcsnConfig(preset.preset(), new NcsnConfig.Model(NcsnConfig.Network.REFINENET_V2, shape, ngf,
        0), noise, preset.training(), preset.sampling());
    return Configs.toJson(c);
  }

  /**
   * sigma_1, sigma_L and L of upstream's {@code sigmas} buffer ({@code get_sigmas}: exp(linspace(log sigma_begin,
   * log sigma_end, L)), stored as float32), checked to be geometric to float32 precision.
   */
  static NcsnConfig.Noise geometricNoise(String source, double[] s) {
    if (s.length < 2) {
      throw new IllegalArgumentException(source + ": the sigmas buffer holds " + s.length + " noise levels; NCSNv2 "
          + "needs at least 2");
    }
    int n = s.length;
    double begin = s[0];
    double end = s[n - 1];
    if (!(begin > 0) || !(end > 0)) {
      throw new IllegalArgumentException(source + ": the sigmas buffer has non-positive levels (" + begin + " .. "
          + end + ")");
    }
    for (int i = 0; i < n; i++) {
      double expected = Math.exp(Math.log(begin) + (Math.log(end) - Math.log(begin)) * i / (n - 1));
      if (Math.abs(s[i] - expected) > 1e-5 * expected) {
        throw new IllegalArgumentException(source + ": the sigmas buffer is not a geometric sequence (level " + i
            + " is " + s[i] + ", geometric from " + begin + " to " + end + " would give " + expected + "); genzoo's "
            + "NCSN has geometric noise levels only: request a config to convert the network anyway");
      }
    }
    return new NcsnConfig.Noise(shortest(begin), shortest(end), n);
  }

  /** The float32 value's shortest decimal (50.0, 0.01) rather than its double expansion (0.009999999776). */
  private static double shortest(double v) {
    return Double.parseDouble(Float.toString((float) v));
  }

  @Override
  public NameMap nameMap(JsonNode config) {
    NcsnConfig c = Configs.fromJson(config, NcsnConfig.class);
    if (c.model().network() != NcsnConfig.Network.REFINENET_V2) {
      throw new IllegalArgumentException("the " + name() + " converter fills NCSNv2's network (model.network "
          + "REFINENET_V2), not " + c.model().network());
    }
    NameMap map = new NameMap();
    for (String key : upstreamParameters()) {
      map.map(key, genzooName(key), key.endsWith(".weight") ? Transform.OIHW_TO_HWIO : Transform.IDENTITY);
    }
    map.ignore("sigmas", "the noise levels, a buffer: read into the config's noise section");
    return map;
  }

  /**
   * The parameter names of upstream's {@code NCSNv2} (models/ncsnv2.py with models/layers.py), without the
   * DataParallel prefix, in module order. They do not depend on ngf, the channel count or the image size.
   */
  public static List<String> upstreamParameters() {
    List<String> k = new ArrayList<>();
    conv(k, "begin_conv", true);
    norm(k, "normalizer");
    conv(k, "end_conv", true);
    for (int r = 1; r <= 4; r++) {
      for (int b = 0; b < 2; b++) {
        String p = "res" + r + "." + b + ".";
        boolean first = b == 0 && r >= 2; // res2..res4 start with resample='down' (and a shortcut)
        boolean meanPool = first && r == 2; // ConvMeanPool; res3/res4 are dilated and keep plain convolutions
        conv(k, p + "conv1", true);
        norm(k, p + "normalize2");
        conv(k, p + (meanPool ? "conv2.conv" : "conv2"), true);
        if (first) {
          conv(k, p + (meanPool ? "shortcut.conv" : "shortcut"), true);
        }
        norm(k, p + "normalize1");
      }
    }
    refineBlock(k, "refine1", 1, true, false);
    refineBlock(k, "refine2", 2, false, false);
    refineBlock(k, "refine3", 2, false, false);
    refineBlock(k, "refine4", 2, false, true);
    return k;
  }

  private static void conv(List<String> k, String path, boolean bias) {
    k.add(path + ".weight");
    if (bias) {
      k.add(path + ".bias");
    }
  }

  private static void norm(List<String> k, String path) {
    k.add(path + ".alpha");
    k.add(path + ".gamma");
    k.add(path + ".beta");
  }

  /** RefineBlock: adapt_convs (one 2x2 RCU per input), output_convs (RCU, 3 units at the end), msf, crp. */
  private static void refineBlock(List<String> k, String path, int inputs, boolean start, boolean end) {
    for (int i = 0; i < inputs; i++) {
      rcu(k, path + ".adapt_convs." + i, 2);
    }
    rcu(k, path + ".output_convs", end ? 3 : 1);
    if (!start) {
      for (int i = 0; i < inputs; i++) {
        conv(k, path + ".msf.convs." + i, true);
      }
    }
    for (int i = 0; i < 2; i++) {
      conv(k, path + ".crp.convs." + i, false);
    }
  }

  private static void rcu(List<String> k, String path, int blocks) {
    for (int i = 1; i <= blocks; i++) {
      for (int j = 1; j <= 2; j++) {
        conv(k, path + "." + i + "_" + j + "_conv", false);
      }
    }
  }

  private static final Map<String, String> LIST_ITEMS = Map.of("res1", "block", "res2", "block", "res3", "block",
      "res4", "block", "adapt_convs", "block", "convs", "conv", "norms", "norm");
  private static final Pattern RCU = Pattern.compile("(\\d+)_(\\d+)_(conv|norm)");

  /**
   * An upstream state-dict key (without {@code module.}) to genzoo's variable name, the rule of
   * {@link dev.genzoo.graphs.ncsn.RefineNet}'s Javadoc: {@code .} becomes {@code /}; a ModuleList index i after list L
   * becomes {@code L/<item>_i} (item {@code block} for res1..res4 and adapt_convs, {@code conv} for convs, {@code norm}
   * for norms); an RCU attribute {@code i_j_conv} / {@code i_j_norm} becomes {@code conv_i_j} / {@code norm_i_j}; a
   * convolution's {@code weight} becomes {@code kernel}, a conditional norm's {@code embed.weight} becomes
   * {@code embedding}; everything under {@code ncsn/}. For example {@code res2.0.conv2.conv.weight} ->
   * {@code ncsn/res2/block_0/conv2/conv/kernel}.
   */
  public static String genzooName(String key) {
    String[] parts = key.split("\\.");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (!p.isEmpty() && p.chars().allMatch(Character::isDigit)) {
        String item = i > 0 ? LIST_ITEMS.get(parts[i - 1]) : null;
        if (item == null) {
          throw new IllegalArgumentException("NCSN key " + key + ": index " + p + " after "
              + (i > 0 ? parts[i - 1] : "nothing") + ", which is not one of upstream's module lists "
              + LIST_ITEMS.keySet());
        }
        out.add(item + "_" + p);
        continue;
      }
      Matcher m = RCU.matcher(p);
      out.add(m.matches() ? m.group(3) + "_" + m.group(1) + "_" + m.group(2) : p);
    }
    int n = out.size();
    if (n >= 2 && out.get(n - 2).equals("embed") && out.get(n - 1).equals("weight")) {
      out = new ArrayList<>(out.subList(0, n - 2));
      out.add("embedding");
    } else if (out.get(n - 1).equals("weight")) {
      out.set(n - 1, "kernel");
    } else if (!List.of("bias", "alpha", "gamma", "beta").contains(out.get(n - 1))) {
      throw new IllegalArgumentException("NCSN key " + key + " is not a weight, bias, alpha, gamma or beta");
    }
    return "ncsn/" + String.join("/", out);
  }
}
