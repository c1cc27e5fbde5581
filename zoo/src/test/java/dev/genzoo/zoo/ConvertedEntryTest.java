package dev.genzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.checkpoints.convert.Converters;
import dev.genzoo.checkpoints.convert.DdpmTf1Converter;
import dev.genzoo.checkpoints.convert.NameMap;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorBundle;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Zoo.load(name)} of a registry entry whose files are an upstream release: the official DDPM layout (TF1
 * names under {@code model/}, raw variables beside different {@code /ExponentialMovingAverage} shadows, an Adam slot
 * and {@code global_step}), served by an HTTP server on 127.0.0.1, is downloaded, verified, converted with
 * {@code ddpm-tf1}, cached as a bundle holding the EMA values, and loads again with the network off.
 */
class ConvertedEntryTest {
  @TempDir
  Path home;

  @TempDir
  Path work;

  private FaultServer server;

  @BeforeEach
  void isolate() throws Exception {
    System.setProperty("genzoo.home", home.toString());
    server = new FaultServer();
  }

  @AfterEach
  void restore() {
    System.clearProperty("genzoo.home");
    System.clearProperty("genzoo.registry");
    System.clearProperty("genzoo.offline");
    server.close();
  }

  @Test
  void aConvertedEntryDownloadsConvertsCachesAndThenLoadsOffline() throws Exception {
    // An upstream checkpoint of the `tiny` preset in the authors' layout, every tensor random.
    var config = Families.get("ddpm").preset("tiny");
    DdpmTf1Converter converter = new DdpmTf1Converter();
    List<NameMap.Target> targets = Converters.targets("ddpm", config);
    TensorSet upstream = new TensorSet("upstream");
    TensorSet expected = new TensorSet("expected");
    Random rnd = new Random(7);
    for (NameMap.Rule r : converter.nameMap(config).rules()) {
      NameMap.Target t = targets.stream().filter(x -> x.name().equals(r.genzoo())).findFirst().orElseThrow();
      String up = r.upstream().get(0);
      NamedTensor raw = random(up, t.shape(), rnd);
      NamedTensor ema = random(up + "/ExponentialMovingAverage", t.shape(), rnd);
      upstream.add(raw).add(ema).add(random(up + "/Adam", t.shape(), rnd));
      expected.add(ema.withName(t.name()));
    }
    upstream.add(NamedTensor.ofLongs("global_step", new long[0], new long[] {790_000}));
    Path prefix = work.resolve("model.ckpt-790000");
    TensorBundle.write(upstream, prefix);
    byte[] index = Files.readAllBytes(Path.of(prefix + ".index"));
    byte[] data = Files.readAllBytes(Path.of(prefix + ".data-00000-of-00001"));
    server.serve("/ckpt/model.ckpt-790000.index", index).serve("/ckpt/data", data);

    ObjectMapper json = new ObjectMapper();
    ObjectNode entry = json.createObjectNode().put("name", "ddpm-upstream-test").put("family", "ddpm")
        .put("preset", "tiny").put("data", "toy").put("status", "converted").put("description", "test");
    ArrayNode files = entry.putArray("files");
    files.addObject().put("uri", server.url("/ckpt/model.ckpt-790000.index")).put("sha256", Sha256.hex(index))
        .put("size", index.length);
    files.addObject().put("uri", server.url("/ckpt/data")).put("sha256", Sha256.hex(data)).put("size", data.length)
        .put("name", "model.ckpt-790000.data-00000-of-00001");
    entry.putObject("source").put("upstream", "test").put("format", "tf1-checkpoint").put("licence", "test")
        .put("command", "test").put("converter", "ddpm-tf1");
    ObjectNode registry = json.createObjectNode().put("format", "genzoo-registry").put("version", 1);
    registry.putArray("models").add(entry);
    Path registryFile = work.resolve("registry.json");
    json.writeValue(registryFile.toFile(), registry);
    System.setProperty("genzoo.registry", registryFile.toString());

    Samples first;
    try (GenerativeModel m = Zoo.load("ddpm-upstream-test")) {
      first = m.sample(4, SampleOptions.seed(5).withSampler("ddim", 5));
    }
    assertEquals(1, server.requests("/ckpt/data").size());
    Path cached;
    try (Bundle b = Zoo.open("ddpm-upstream-test")) {
      cached = b.dir();
      assertTrue(cached.startsWith(home), cached.toString());
      assertEquals("ddpm-tf1", b.manifest().provenance().notes().get("converter").split(":")[0]);
      TensorSet weights = TensorBundle.read(b.checkpointPrefix());
      assertEquals(expected.names().stream().sorted().toList(), weights.names().stream().sorted().toList());
      for (NamedTensor e : expected) {
        assertArrayEquals(e.toFloats(), weights.get(e.name()).toFloats(), e.name() + " is not the EMA value");
      }
    }

    // Offline, from the cache: no request, same samples; the server could be gone.
    server.close();
    System.setProperty("genzoo.offline", "true");
    try (GenerativeModel m = Zoo.load("ddpm-upstream-test")) {
      assertArrayEquals(first.data(), m.sample(4, SampleOptions.seed(5).withSampler("ddim", 5)).data());
    }
    assertEquals(1, server.requests("/ckpt/data").size());
    try (var listing = Files.list(cached.getParent())) {
      assertFalse(listing.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "temporaries left");
    }
  }

  @Test
  void aNotYetAvailableEntrySaysWhatToDo() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Zoo.load("nvae-cifar10"));
    assertTrue(e.getMessage().contains("nvae-cifar10") && e.getMessage().contains("genzoo convert"), e.getMessage());
  }

  private static NamedTensor random(String name, long[] shape, Random rnd) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (0.1 * rnd.nextGaussian());
    }
    return NamedTensor.ofFloats(name, shape, v);
  }
}
