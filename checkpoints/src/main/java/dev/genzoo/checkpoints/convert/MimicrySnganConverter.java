package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.checkpoints.formats.TorchCheckpoint;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.sngan.SnganConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mimicry's SN-GAN for 32 x 32 images (Lee and Town 2020, github kwotsin/mimicry, {@code torch_mimicry/nets/sngan/
 * sngan_32.py}: {@code ResNetGenerator32} and {@code ResNetDiscriminator32}) to genzoo's {@code sngan} family with the
 * {@code RESNET} networks; the CIFAR-10 model of Mimicry's model zoo reaches FID 16.77 (50k / 50k), IS 7.97. There
 * are no official SN-GAN weights for CIFAR-10 (Miyato et al. released Chainer code only); this is a reproduction.
 *
 * <p><b>The files.</b> Mimicry's {@code BaseModel.save_checkpoint} writes one file per network, a dict
 * {@code {'model_state_dict', 'optimizer_state_dict', 'global_step'}}: {@code netG.pth} and {@code netD.pth} (or, in a
 * training log, {@code checkpoints/netG/netG_<step>_steps.pth} and {@code checkpoints/netD/netD_<step>_steps.pth}).
 * genzoo's SN-GAN model holds both networks, also for sampling, so a bundle needs the critic too. Give this converter
 * the generator's file (or the folder holding {@code netG.pth}); it takes the critic from, in this order, the same
 * folder's file named like the generator's with {@code netG} replaced by {@code netD}, the same folder's
 * {@code netD.pth}, and a {@code netD} folder beside a {@code netG} folder (Mimicry's log layout). Mimicry's model zoo
 * publishes {@code netG.pth} only: without the critic's file the bundle's critic is initialised fresh (Xavier-uniform
 * kernels as Mimicry initialises them, zero biases, random unit power-iteration vectors; reported as initialised),
 * which sampling never reads and fine-tuning trains from scratch.
 *
 * <p><b>The table</b> (the names of {@link dev.genzoo.graphs.sngan.ResNetGenerator} and
 * {@link dev.genzoo.graphs.sngan.ResNetCritic}): {@code l1.weight} [out, in] -> {@code generator/l1/kernel} [in,
 * out]; BatchNorm {@code weight, bias, running_mean, running_var} -> {@code gamma, beta, moving_mean,
 * moving_variance} ({@code num_batches_tracked} has no counterpart); convolution {@code weight} OIHW -> {@code kernel}
 * HWIO. In the critic (PyTorch's {@code spectral_norm}) {@code weight_orig} is the raw kernel and {@code weight_u}
 * gives {@code kernel_u}, rescaled: PyTorch's eval mode divides by sigma = u^T W v with the stored u and v, genzoo's
 * inference pass by |W^T u| (W as PyTorch's [out, K] matrix); the two differ whenever v is not W^T u / |W^T u| (v
 * comes from the power iteration before the last weight update). genzoo's u may have any length (its power iteration
 * normalises W^T u, so training is unaffected), and {@code kernel_u} = u (u^T W v) / |W^T u| makes the converted
 * critic's outputs equal PyTorch's eval-mode outputs.
 *
 * <p><b>The config</b> is the {@code cifar10} preset with z, ngf, ndf, the bottom width, the number of up-sampling
 * blocks (hence the image size) and the channel count read off the weights; up-sampling is bilinear (Mimicry's GBlock).
 */
public final class MimicrySnganConverter implements ModelConverter {
  private static final String G = "netG.";
  private static final String D = "netD.";
  private static final Pattern G_BLOCK = Pattern.compile("netG\\.block(\\d+)\\..*");

  @Override
  public String name() {
    return "mimicry-sngan32";
  }

  @Override
  public String family() {
    return "sngan";
  }

  @Override
  public String description() {
    return "Mimicry's SN-GAN 32x32 reproduction (kwotsin/mimicry SNGAN32): netG.pth plus the netD.pth beside it, "
        + "each {model_state_dict, optimizer_state_dict, global_step}";
  }

  @Override
  public TensorSet read(Path checkpoint) throws IOException {
    Path netG = Files.isDirectory(checkpoint) ? checkpoint.resolve("netG.pth") : checkpoint;
    if (!Files.isRegularFile(netG)) {
      throw new IOException(Files.isDirectory(checkpoint) ? checkpoint + " holds no netG.pth"
          : "no such file: " + checkpoint);
    }
    Map<?, ?> gState = stateDict(netG);
    if (gState.containsKey("l5.weight_orig") || (!gState.containsKey("l1.weight") && gState.containsKey(
        "block1.c1.weight_orig"))) {
      throw new IllegalArgumentException(netG + " holds a critic (ResNetDiscriminator32: block1.c1.weight_orig, "
          + "l5.weight_orig): give the generator's netG.pth; the critic's netD.pth is taken from the same folder");
    }
    List<Path> candidates = criticCandidates(netG);
    Path netD = null;
    for (Path p : candidates) {
      if (Files.isRegularFile(p)) {
        netD = p;
        break;
      }
    }
    if (netD == null) {
      TensorSet out = new TensorSet(netG.toString());
      add(out, netG, gState, G);
      out.metadata().put("netG", netG.toString());
      out.metadata().put("netD", "absent: the critic starts fresh (looked for " + candidates + ")");
      return out;
    }
    Map<?, ?> dState = stateDict(netD);
    if (dState.containsKey("l1.weight")) {
      throw new IllegalArgumentException(netD + " holds a generator (l1.weight), not the critic");
    }
    TensorSet out = new TensorSet(netG + " + " + netD.getFileName());
    add(out, netG, gState, G);
    add(out, netD, dState, D);
    out.metadata().put("netG", netG.toString());
    out.metadata().put("netD", netD.toString());
    return out;
  }

  /** Where the critic's file may be, for the generator's file {@code netG}. */
  static List<Path> criticCandidates(Path netG) {
    Set<Path> out = new LinkedHashSet<>();
    Path dir = netG.toAbsolutePath().getParent();
    String name = netG.getFileName().toString();
    if (name.contains("netG")) {
      out.add(dir.resolve(name.replace("netG", "netD")));
    }
    out.add(dir.resolve("netD.pth"));
    if (dir.getFileName() != null && dir.getFileName().toString().equals("netG") && dir.getParent() != null) {
      out.add(dir.getParent().resolve("netD").resolve(name.replace("netG", "netD")));
    }
    return new ArrayList<>(out);
  }

  private static Map<?, ?> stateDict(Path file) throws IOException {
    Object root = TorchCheckpoint.read(file).root();
    if (root instanceof Map<?, ?> m) {
      Object sd = m.get("model_state_dict");
      if (sd instanceof Map<?, ?> state) {
        return state;
      }
      if (!m.isEmpty() && m.values().stream().allMatch(v -> v instanceof NamedTensor)) {
        return m; // a bare state dict
      }
      throw new IllegalArgumentException(file + " is not a Mimicry checkpoint: expected a dict with "
          + "'model_state_dict' (BaseModel.save_checkpoint), found keys " + m.keySet());
    }
    throw new IllegalArgumentException(file + " is not a Mimicry checkpoint: expected a dict with "
        + "'model_state_dict', found " + (root == null ? "None" : root.getClass().getSimpleName()));
  }

  private static void add(TensorSet out, Path file, Map<?, ?> state, String prefix) {
    for (Map.Entry<?, ?> e : state.entrySet()) {
      if (!(e.getValue() instanceof NamedTensor t)) {
        throw new IllegalArgumentException(file + ": model_state_dict entry " + e.getKey() + " is not a tensor");
      }
      out.add(t.withName(prefix + e.getKey()));
    }
  }

  @Override
  public JsonNode config(TensorSet upstream, JsonNode requested) {
    if (requested != null && !requested.isNull() && !requested.isMissingNode()) {
      return requested;
    }
    SnganConfig preset = SnganConfig.cifar10();
    SnganConfig.Model m = preset.model();
    int zDim = m.zDim();
    int ngf = m.ngf();
    int ndf = m.ndf();
    int bottom = m.bottomWidth();
    long[] shape = m.dataShape().clone();
    int blocks = 0;
    for (String n : upstream.names()) {
      Matcher b = G_BLOCK.matcher(n);
      if (b.matches()) {
        blocks = Math.max(blocks, Integer.parseInt(b.group(1)) - 1); // block2 .. block<k+1>
      }
    }
    long[] out = shapeOf(upstream, G + "c" + (blocks + 2) + ".weight", 4);
    long[] l1 = shapeOf(upstream, G + "l1.weight", 2);
    if (blocks > 0 && out != null && l1 != null) {
      ngf = Math.toIntExact(out[1]);
      zDim = Math.toIntExact(l1[1]);
      long area = l1[0] / ngf;
      long b = Math.round(Math.sqrt(area));
      if (b * b * ngf != l1[0]) {
        throw new IllegalArgumentException(upstream.source() + ": l1.weight " + java.util.Arrays.toString(l1)
            + " is not bottom_width^2 x ngf (ngf " + ngf + " from c" + (blocks + 2) + ".weight)");
      }
      bottom = Math.toIntExact(b);
      shape = new long[] {b << blocks, b << blocks, out[0]};
    }
    long[] d1 = shapeOf(upstream, D + "block1.c1.weight_orig", 4);
    if (d1 != null) {
      ndf = Math.toIntExact(d1[0]);
    }
    SnganConfig c = new SnganConfig(preset.preset(), new SnganConfig.Model(SnganConfig.Network.RESNET, shape, zDim,
        ngf, ndf, bottom, SnganConfig.Upsample.BILINEAR, 0), preset.gan(), preset.training(), preset.sampling());
    return Configs.toJson(c);
  }

  private static long[] shapeOf(TensorSet s, String name, int rank) {
    if (!s.contains(name)) {
      return null;
    }
    long[] shape = s.get(name).shape();
    return shape.length == rank ? shape : null;
  }

  @Override
  public NameMap nameMap(JsonNode config) {
    SnganConfig c = Configs.fromJson(config, SnganConfig.class);
    if (c.model().network() != SnganConfig.Network.RESNET) {
      throw new IllegalArgumentException("the " + name() + " converter fills the ResNet networks (model.network "
          + "RESNET), not " + c.model().network());
    }
    NameMap map = new NameMap();
    map.map(G + "l1.weight", "generator/l1/kernel", Transform.LINEAR_OI_TO_IO);
    map.map(G + "l1.bias", "generator/l1/bias");
    int k = c.model().upBlocks();
    for (int i = 2; i <= k + 1; i++) {
      String u = G + "block" + i + ".";
      String g = "generator/block" + i + "/";
      batchNorm(map, u + "b1", g + "b1");
      conv(map, u + "c1", g + "c1");
      batchNorm(map, u + "b2", g + "b2");
      conv(map, u + "c2", g + "c2");
      conv(map, u + "c_sc", g + "c_sc"); // every block up-samples, so every block has the learnable shortcut
    }
    batchNorm(map, G + "b" + (k + 2), "generator/b" + (k + 2));
    conv(map, G + "c" + (k + 2), "generator/c" + (k + 2));
    for (int i = 1; i <= 4; i++) {
      String u = D + "block" + i + ".";
      String g = "critic/block" + i + "/";
      snLayer(map, u + "c1", g + "c1", Transform.OIHW_TO_HWIO);
      snLayer(map, u + "c2", g + "c2", Transform.OIHW_TO_HWIO);
      if (i <= 2) { // DBlockOptimized and the down-sampling DBlock; block3 and block4 keep x as the shortcut
        snLayer(map, u + "c_sc", g + "c_sc", Transform.OIHW_TO_HWIO);
      }
    }
    snLayer(map, D + "l5", "critic/l5", Transform.LINEAR_OI_TO_IO);
    map.optionalGroup(D, "Mimicry publishes netG.pth only: a fresh critic, which sampling never reads",
        MimicrySnganConverter::freshCritic);
    map.ignore("netG\\..*\\.num_batches_tracked", "BatchNorm's update counter; genzoo's BatchNorm has a fixed momentum");
    return map;
  }

  /**
   * A fresh critic variable: Xavier-uniform kernels (fan-in and fan-out from the HWIO or [in, out] shape), zero biases,
   * and unit-length random power-iteration vectors, from a generator seeded by the variable's name.
   */
  static NamedTensor freshCritic(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[Math.toIntExact(n)];
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(name.hashCode());
    if (name.endsWith("_u")) {
      double norm = 0;
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) gaussian(rnd);
        norm += v[i] * v[i];
      }
      for (int i = 0; i < v.length; i++) {
        v[i] /= (float) Math.sqrt(norm);
      }
    } else if (name.endsWith("/kernel")) {
      long receptive = 1;
      for (int i = 0; i < shape.length - 2; i++) {
        receptive *= shape[i];
      }
      double fanIn = receptive * shape[shape.length - 2];
      double fanOut = receptive * shape[shape.length - 1];
      double a = Math.sqrt(6 / (fanIn + fanOut));
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (a * (2 * rnd.nextDouble() - 1));
      }
    }
    return NamedTensor.ofFloats(name, shape, v);
  }

  private static double gaussian(java.util.SplittableRandom rnd) {
    double u1 = rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static void batchNorm(NameMap map, String u, String g) {
    map.map(u + ".weight", g + "/gamma");
    map.map(u + ".bias", g + "/beta");
    map.map(u + ".running_mean", g + "/moving_mean");
    map.map(u + ".running_var", g + "/moving_variance");
  }

  private static void conv(NameMap map, String u, String g) {
    map.map(u + ".weight", g + "/kernel", Transform.OIHW_TO_HWIO);
    map.map(u + ".bias", g + "/bias");
  }

  private static void snLayer(NameMap map, String u, String g, Transform kernel) {
    map.map(u + ".weight_orig", g + "/kernel", kernel);
    map.map(u + ".bias", g + "/bias");
    map.compute(g + "/kernel_u", List.of(u + ".weight_orig", u + ".weight_u", u + ".weight_v"),
        ts -> scaledU(ts.get(0), ts.get(1), ts.get(2)).withName(g + "/kernel_u"),
        "weight_u scaled so that genzoo's |W^T u| equals PyTorch's eval-mode u^T W v");
  }

  /**
   * u (u^T W v) / |W^T u| for PyTorch's {@code weight_orig} W (viewed as [out, K]), {@code weight_u} u [out] and
   * {@code weight_v} v [K]; u itself when |W^T u| is zero.
   */
  static NamedTensor scaledU(NamedTensor weight, NamedTensor uT, NamedTensor vT) {
    long out = weight.shape()[0];
    long cols = weight.numElements() / Math.max(1, out);
    if (uT.numElements() != out || vT.numElements() != cols) {
      throw new IllegalArgumentException("spectral norm vectors " + uT + " and " + vT + " do not fit the weight "
          + weight + " (u needs " + out + " entries, v " + cols + ")");
    }
    double[] w = weight.toDoubles();
    double[] u = uT.toDoubles();
    double[] v = vT.toDoubles();
    double sigma = 0;
    double[] wtu = new double[(int) cols];
    for (int i = 0; i < out; i++) {
      double wv = 0;
      for (int j = 0; j < cols; j++) {
        double x = w[(int) (i * cols + j)];
        wv += x * v[j];
        wtu[j] += x * u[i];
      }
      sigma += u[i] * wv;
    }
    double norm = 0;
    for (double x : wtu) {
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    double scale = norm > 0 && Double.isFinite(sigma) ? sigma / norm : 1.0;
    double[] scaled = new double[u.length];
    for (int i = 0; i < u.length; i++) {
      scaled[i] = u[i] * scale;
    }
    return NamedTensor.ofDoubles(uT.name(), new long[] {out}, scaled);
  }
}
