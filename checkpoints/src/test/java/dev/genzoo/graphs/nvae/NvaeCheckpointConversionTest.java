package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.convert.Converters;
import dev.genzoo.checkpoints.convert.NameMap;
import dev.genzoo.checkpoints.convert.NvaeConverter;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nvae.Layers.Ctx;
import dev.genzoo.graphs.nvae.Layers.Mode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The NVAE converter on checkpoints in the layout of the authors' checkpoint.pt (written by
 * make_nvae_converter_fixtures.py from PyTorch modules with upstream's structure and state_dict keys): each is
 * converted with {@link Converters#toBundle}, the bundle is opened and its weights restored into a genzoo NVAE, and the
 * genzoo network, in evaluation mode (BatchNorm with the moving statistics) and with the standard-normal draws of the
 * latent groups fed with the fixture's draws, gives the PyTorch reference's outputs:
 *
 * <ul>
 *   <li>the posterior pass q(z | x) then p(x | z) on an 8-bit image: the decoder's output parameters (the logits of
 *       the 2-component logistic mixture, or the Bernoulli logits) within 1e-4, each group's KL term and the sums
 *       log q(z | x) and log p(z) within 1e-4 relative (they sum hundreds of terms);</li>
 *   <li>ancestral sampling from the prior at a temperature: the decoder's output parameters within 1e-4.</li>
 * </ul>
 *
 * <p>cifar10: a discretised-logistic-mixture model with two latent scales, SE, residual posteriors and a paired flow
 * cell per group; mnist: a Bernoulli model on 28 x 28 images padded to 32 x 32, without SE, with posteriors predicted
 * directly (no res_dist) and no flows. The reference was computed in float64 from the checkpoint's float32 weights.
 */
class NvaeCheckpointConversionTest {
  private static final String DIR = "/dev/genzoo/checkpoints/convert/";

  @TempDir
  Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"nvae_cifar10_tiny", "nvae_mnist_tiny"})
  void convertedModelReproducesTheReference(String name) throws Exception {
    Path checkpoint = resource(name + ".pt");
    Map<String, NpyArray> ref = Npz.readAll(resource(name + "_reference.npz"));
    Path dir = tmp.resolve(name);
    Converters.toBundle(new NvaeConverter(), checkpoint, null, name, dir, false, "test");
    try (Bundle bundle = Bundle.open(dir)) {
      BundleManifest manifest = bundle.manifest();
      assertEquals("nvae", manifest.family());
      NvaeConfig config = new NvaeFamily().parse(manifest.config());
      try (GenerativeModel model = Families.get("nvae").create(manifest.config(), ModelOptions.inference())) {
        model.restoreWeights(bundle.checkpointPrefix());
        check(model, config, ref);
      }
    }
  }

  /**
   * The name map of genzoo's cifar10 preset against the state_dict keys and shapes of upstream's CIFAR-10 model (the
   * README's command, num_nf 1; recorded by the fixture script from the PyTorch modules): every genzoo variable
   * comes from exactly one upstream tensor of the recorded shape, transformed to the variable's shape; every upstream
   * tensor is used but the BatchNorm counters and the weight_normalized aliases; 130,852,480 parameters on both
   * sides. The genzoo variables are those of the network built in a bare graph (the model would also initialise
   * 130 M parameters); that these are the variables {@link Converters#targets} lists is checked on the tiny config.
   */
  @Test
  void theCifar10PresetTakesEveryTensorOfUpstreamsCifar10Model() throws Exception {
    JsonNode tiny = new NvaeConverter().config(new NvaeConverter().read(resource("nvae_cifar10_tiny.pt")), null);
    List<String> model = new ArrayList<>();
    for (NameMap.Target t : Converters.targets("nvae", tiny)) {
      model.add(t.name() + " " + Arrays.toString(t.shape()));
    }
    List<String> bare = new ArrayList<>();
    for (NameMap.Target t : networkVariables(new NvaeFamily().parse(tiny).model())) {
      bare.add(t.name() + " " + Arrays.toString(t.shape()));
    }
    assertEquals(model, bare);

    Map<String, long[]> upstream = new LinkedHashMap<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(
        resource("nvae_cifar10_state_keys.txt.gz"))), StandardCharsets.US_ASCII))) {
      for (String line; (line = in.readLine()) != null; ) {
        int sp = line.indexOf(' ');
        String dims = line.substring(sp + 1).replaceAll("[\\[\\] ]", "");
        upstream.put(line.substring(0, sp), dims.isEmpty() ? new long[0]
            : Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray());
      }
    }
    assertEquals(3838, upstream.size());
    NvaeConfig cifar10 = NvaeConfig.cifar10();
    Map<String, long[]> shapes = new HashMap<>();
    long genzooParams = 0;
    for (NameMap.Target t : networkVariables(cifar10.model())) {
      shapes.put(t.name(), t.shape());
      if (!t.name().endsWith("/moving_mean") && !t.name().endsWith("/moving_variance")) {
        genzooParams += Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b);
      }
    }
    Set<String> filled = new HashSet<>();
    Set<String> used = new HashSet<>();
    for (NameMap.Rule rule : new NvaeConverter().nameMap(Configs.toJson(cifar10)).rules()) {
      assertTrue(filled.add(rule.genzoo()), rule.genzoo() + " is filled twice");
      long[] want = shapes.get(rule.genzoo());
      assertNotNull(want, rule.genzoo() + " is not a variable of the cifar10 preset");
      assertEquals(1, rule.upstream().size(), rule.genzoo());
      String u = rule.upstream().get(0);
      long[] s = upstream.get(u);
      assertNotNull(s, "upstream's CIFAR-10 model has no " + u + " (for " + rule.genzoo() + ")");
      used.add(u);
      int n = Math.toIntExact(Arrays.stream(s).reduce(1, (a, b) -> a * b));
      NamedTensor out = rule.compute().apply(List.of(NamedTensor.ofFloats(u, s, new float[n])));
      assertArrayEquals(want, out.shape(), u + " -> " + rule.genzoo());
    }
    assertEquals(shapes.keySet(), filled);
    long upstreamParams = 0;
    for (Map.Entry<String, long[]> e : upstream.entrySet()) {
      String k = e.getKey();
      boolean skipped = k.endsWith(".num_batches_tracked") || k.endsWith(".weight_normalized");
      assertEquals(!skipped, used.contains(k), k);
      if (!skipped && !k.endsWith(".running_mean") && !k.endsWith(".running_var")) {
        upstreamParams += Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
      }
    }
    assertEquals(130_852_480L, upstreamParams);
    assertEquals(130_852_480L, genzooParams);
  }

  /** The trainable and state variables of the network alone, built in a graph that is never run. */
  private static List<NameMap.Target> networkVariables(NvaeConfig.Model m) {
    List<NameMap.Target> out = new ArrayList<>();
    try (Graph g = new Graph()) {
      VarStore store = new VarStore(g, TFloat32.class, 0);
      new NvaeNetwork(store.root().child("nvae"), m);
      for (VarStore.Var v : store.ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE)) {
        out.add(new NameMap.Target(v.name(), v.shape().asArray()));
      }
    }
    return out;
  }

  private void check(GenerativeModel model, NvaeConfig config, Map<String, NpyArray> ref) {
    NvaeConfig.Model m = config.model();
    Graph graph = model.variables().graph();
    Ops tf = model.variables().tf();
    Class<TFloating> dt = model.variables().dtype();
    // a second copy of the network on the restored variables (reuse), with handles on its intermediate outputs
    VarScope root = model.variables().root().reuseAfter(List.of()).child("nvae");
    NvaeNetwork net = new NvaeNetwork(root, m);
    Ctx ctx = new Ctx(tf, dt, Mode.EVAL, Pass.inference(), null);
    long[] xShape = ref.get("x").shape();
    Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(xShape)));
    Operand<TInt64> seed = tf.constant(new long[] {0, 0});

    List<GraphOperation> noise = new ArrayList<>();
    NvaeNetwork.Posterior post = withNewNoise(graph, noise, () -> net.posterior(ctx, Tensors.cast(tf, x, dt), seed));
    int groups = net.groupCount();
    assertEquals(groups, noise.size(), "one standard-normal draw per latent group");
    List<GraphOperation> priorNoise = new ArrayList<>();
    double t = ref.get("prior_t").asDoubles()[0];
    Operand<TFloating> prior = withNewNoise(graph, priorNoise, () -> net.prior(ctx, tf.constant(1),
        Tensors.constant(tf, dt, t), seed));
    assertEquals(groups, priorNoise.size());

    // the encoder's input as genzoo's model space holds it: 2 k / 255 - 1
    double[] x8 = ref.get("x").asDoubles();
    float[] xs = new float[x8.length];
    for (int i = 0; i < x8.length; i++) {
      xs[i] = (float) (2 * x8[i] / 255.0 - 1);
    }
    List<Tensor> feeds = new ArrayList<>();
    try {
      Session.Runner r = model.session().runner();
      TFloat32 xt = HostTensors.float32(xs, xShape);
      feeds.add(xt);
      r.feed(x, xt);
      for (int g = 0; g < groups; g++) {
        TFloat32 e = eps(ref.get("eps_" + g), net, g);
        feeds.add(e);
        r.feed(noise.get(g).output(0), e);
        TFloat32 pe = eps(ref.get("prior_eps_" + g), net, g);
        feeds.add(pe);
        r.feed(priorNoise.get(g).output(0), pe);
      }
      r.fetch(post.params()).fetch(post.logQ()).fetch(post.logP()).fetch(prior);
      for (Operand<TFloating> kl : post.klPerGroup()) {
        r.fetch(kl);
      }
      try (Result res = r.run()) {
        assertClose(ref.get("logits"), HostTensors.toDoubles(res.get(0)), 1e-4, false, "posterior pass logits");
        assertClose(ref.get("log_q"), HostTensors.toDoubles(res.get(1)), 1e-4, true, "log q(z | x)");
        assertClose(ref.get("log_p"), HostTensors.toDoubles(res.get(2)), 1e-4, true, "log p(z)");
        assertClose(ref.get("prior_logits"), HostTensors.toDoubles(res.get(3)), 1e-4, false, "prior pass logits");
        double[] kl = ref.get("kl").asDoubles();
        int n = (int) xShape[0];
        for (int g = 0; g < groups; g++) {
          double[] got = HostTensors.toDoubles(res.get(4 + g));
          for (int i = 0; i < n; i++) {
            double want = kl[i * groups + g];
            assertEquals(want, got[i], 1e-4 * Math.max(1, Math.abs(want)), "KL of group " + g + ", example " + i);
          }
        }
      }
    } finally {
      for (Tensor f : feeds) {
        f.close();
      }
    }
  }

  /** The fixture's draws of group g, checked against the group's latent shape. */
  private static TFloat32 eps(NpyArray a, NvaeNetwork net, int g) {
    long[] s = net.latentShape(g);
    assertArrayEquals(new long[] {a.shape()[0], s[0], s[1], s[2]}, a.shape(), "draws of group " + g);
    return HostTensors.float32(a.asFloats(), a.shape());
  }

  /** Builds with {@code build} and collects the standard-normal ops it added, in creation order. */
  private static <T> T withNewNoise(Graph graph, List<GraphOperation> out, Supplier<T> build) {
    Set<String> before = new HashSet<>();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
      before.add(it.next().name());
    }
    T result = build.get();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
      GraphOperation op = it.next();
      if (op.type().startsWith("StatelessRandomNormal") && !before.contains(op.name())) {
        out.add(op);
      }
    }
    return result;
  }

  private static void assertClose(NpyArray want, double[] got, double tol, boolean relative, String what) {
    double[] w = want.asDoubles();
    assertEquals(w.length, got.length, what + ": element count");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < w.length; i++) {
      double err = Math.abs(w[i] - got[i]) / (relative ? Math.max(1, Math.abs(w[i])) : 1);
      assertTrue(Double.isFinite(got[i]), what + " at " + i + " is " + got[i]);
      if (err > worst) {
        worst = err;
        at = i;
      }
    }
    assertTrue(worst <= tol, what + ": largest " + (relative ? "relative " : "") + "difference " + worst + " at " + at
        + " (reference " + (at < 0 ? "" : w[at] + ", genzoo " + got[at]) + ")");
  }

  static Path resource(String file) throws Exception {
    var url = NvaeCheckpointConversionTest.class.getResource(DIR + file);
    if (url == null) {
      throw new IllegalStateException("missing test fixture " + DIR + file);
    }
    Path p = Path.of(url.toURI());
    assertTrue(Files.isRegularFile(p));
    return p;
  }
}
