package dev.genzoo.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.checkpoints.convert.Converters;
import dev.genzoo.checkpoints.convert.DdpmTf1Converter;
import dev.genzoo.checkpoints.convert.NameMap;
import dev.genzoo.checkpoints.formats.CheckpointFormat;
import dev.genzoo.checkpoints.formats.Checkpoints;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorBundle;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Families;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code genzoo inspect}, {@code convert} and {@code cache}, run in-process as a user would run them. */
class CheckpointCliTest {
  @TempDir
  Path tmp;

  private CliRun.Result last;

  @BeforeEach
  void home() {
    System.setProperty("genzoo.home", tmp.resolve("home").toString());
  }

  @AfterEach
  void release() {
    System.clearProperty("genzoo.home");
  }

  private int genzoo(String... args) {
    last = CliRun.run(args);
    return last.status();
  }

  private String stdout() {
    return last.out();
  }

  private String stderr() {
    return last.err();
  }

  @Test
  void inspectAndConvertBetweenFormats() throws Exception {
    TensorSet set = new TensorSet("test");
    set.add(NamedTensor.ofFloats("model/conv_in/W", new long[] {3, 3, 3, 4}, ramp(108)));
    set.add(NamedTensor.ofLongs("global_step", new long[0], new long[] {42}));
    Path st = tmp.resolve("w.safetensors");
    Checkpoints.write(set, st, CheckpointFormat.SAFETENSORS);

    assertEquals(0, genzoo("inspect", st.toString()), stderr());
    assertTrue(stdout().contains("model/conv_in/W") && stdout().contains("[3, 3, 3, 4]") && stdout().contains("F32")
        && stdout().contains("2 tensors"), stdout());

    Path npz = tmp.resolve("w.npz");
    Path tf = tmp.resolve("tf/w");
    assertEquals(0, genzoo("convert", st.toString(), "--to", "npz", "--out", npz.toString()), stderr());
    assertEquals(0, genzoo("convert", npz.toString(), "--to", "tf", "--out", tf.toString()), stderr());
    TensorSet back = TensorBundle.read(tf);
    assertArrayEquals(ramp(108), back.get("model/conv_in/W").toFloats());
    assertEquals(42, back.get("global_step").toDoubles()[0]);
    // an existing output is refused without --force
    assertEquals(1, genzoo("convert", st.toString(), "--to", "npz", "--out", npz.toString()));
    assertTrue(stderr().contains("exists"), stderr());

    // a bundle's weights by registry name
    assertEquals(0, genzoo("convert", "flow-8gaussians", "--to", "safetensors", "--out",
        tmp.resolve("flow.safetensors").toString()), stderr());
    assertEquals(0, genzoo("inspect", "--filter", "coupling_0", tmp.resolve("flow.safetensors").toString()));
    assertTrue(stdout().contains("coupling_0"), stdout());
  }

  /** A pickle that would run {@code os.system} is refused by name; the command it carries never runs. */
  @Test
  void inspectRefusesAMaliciousPickle() throws Exception {
    Path marker = tmp.resolve("pwned");
    String cmd = "touch " + marker;
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(new byte[] {(byte) 0x80, 2});
    p.write("cos\nsystem\n".getBytes(StandardCharsets.US_ASCII));
    p.write('X');
    byte[] c = cmd.getBytes(StandardCharsets.UTF_8);
    p.write(new byte[] {(byte) c.length, 0, 0, 0});
    p.write(c);
    p.write(new byte[] {(byte) 0x85, 'R', '.'});
    Path evil = tmp.resolve("evil.pt");
    Files.write(evil, p.toByteArray());
    assertEquals(1, genzoo("inspect", evil.toString()));
    assertTrue(stderr().contains("os.system"), stderr());
    assertFalse(Files.exists(marker));
  }

  /** An upstream DDPM checkpoint (TF1 names, EMA shadows) becomes a bundle that samples and lists its conversion. */
  @Test
  void convertAnUpstreamCheckpointToABundle() throws Exception {
    var config = Families.get("ddpm").preset("tiny");
    DdpmTf1Converter converter = new DdpmTf1Converter();
    List<NameMap.Target> targets = Converters.targets("ddpm", config);
    TensorSet upstream = new TensorSet("upstream");
    java.util.Random rnd = new java.util.Random(3);
    for (NameMap.Rule r : converter.nameMap(config).rules()) {
      NameMap.Target t = targets.stream().filter(x -> x.name().equals(r.genzoo())).findFirst().orElseThrow();
      int n = 1;
      for (long d : t.shape()) {
        n *= (int) d;
      }
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) (0.05 * rnd.nextGaussian());
      }
      upstream.add(NamedTensor.ofFloats(r.upstream().get(0), t.shape(), v));
      upstream.add(NamedTensor.ofFloats(r.upstream().get(0) + "/ExponentialMovingAverage", t.shape(), v));
    }
    upstream.add(NamedTensor.ofLongs("global_step", new long[0], new long[] {7}));
    Path ckpt = tmp.resolve("up/model.ckpt-7");
    TensorBundle.write(upstream, ckpt);

    assertEquals(0, genzoo("convert", "--list"));
    assertTrue(stdout().contains("ddpm-tf1") && stdout().contains("nvae-pt") && stdout().contains("mimicry-sngan32"),
        stdout());
    Path bundle = tmp.resolve("ddpm-up.tar.gz");
    assertEquals(0, genzoo("convert", "--converter", "ddpm-tf1", ckpt + ".index", "--preset", "tiny", "--out",
        bundle.toString()), stderr());
    assertTrue(stdout().contains("variables mapped") && stdout().contains("ignored"), stdout());
    assertEquals(0, genzoo("info", bundle.toString()), stderr());
    assertTrue(stdout().contains("genzoo convert --converter ddpm-tf1"), stdout());
    Path grid = tmp.resolve("grid.png");
    assertEquals(0, genzoo("sample", bundle.toString(), "--n", "4", "--sampler", "ddim", "--steps", "3", "--out",
        grid.toString()), stderr());
    assertTrue(Files.size(grid) > 0);

    // a wrong preset: every mismatch named, nothing written
    Path bad = tmp.resolve("bad.tar.gz");
    assertEquals(1, genzoo("convert", "--converter", "ddpm-tf1", ckpt.toString(), "--preset", "cifar10", "--out",
        bad.toString()));
    assertTrue(stderr().contains("needs shape"), stderr());
    assertFalse(Files.exists(bad));
  }

  @Test
  void cacheListsVerifiesAndRemoves() {
    assertEquals(0, genzoo("sample", "flow-8gaussians", "--n", "16", "--out", tmp.resolve("s.png").toString()),
        stderr());
    assertEquals(0, genzoo("cache", "list"), stderr());
    assertTrue(stdout().contains("flow-8gaussians"), stdout());
    assertEquals(0, genzoo("cache", "verify"), stderr());
    assertEquals(0, genzoo("cache", "remove", "flow-8gaussians"), stderr());
    assertEquals(0, genzoo("cache", "list"), stderr());
    assertFalse(stdout().contains("flow-8gaussians"), stdout());
  }

  private static float[] ramp(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = i * 0.5f - 3;
    }
    return v;
  }
}
