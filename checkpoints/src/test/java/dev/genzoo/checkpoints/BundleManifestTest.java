package dev.genzoo.checkpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BundleManifestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** model-v1.json is written by make_fixtures.py with Python's json module. */
  static byte[] fixture() throws IOException {
    try (InputStream in = BundleManifestTest.class.getResourceAsStream("bundle/model-v1.json")) {
      return in.readAllBytes();
    }
  }

  @Test
  void readsThePythonWrittenManifest() throws IOException {
    BundleManifest m = BundleManifest.parse(fixture(), "model-v1.json");
    assertEquals("genzoo-bundle", m.format());
    assertEquals(1, m.formatVersion());
    assertEquals("flow-toy", m.name());
    assertEquals("flow", m.family());
    assertEquals(1500, m.step());
    assertEquals("realnvp", m.config().get("kind").textValue());
    assertEquals(0.01, m.config().get("learning_rate").doubleValue());
    assertEquals(64, m.config().get("hidden").get(1).intValue());
    BundleManifest.Provenance p = m.provenance();
    assertEquals("toy:moons", p.data());
    assertEquals(1234L, p.seed());
    assertEquals("flow-base", p.parent().name());
    assertEquals(Sha256.hex("parent model.json".getBytes(StandardCharsets.UTF_8)), p.parent().sha256());
    assertEquals(Instant.parse("2024-05-01T12:00:00Z"), p.created());
    assertEquals("0.1.0", p.genzooVersion());
    assertEquals(Map.of("host", "fixture", "purpose", "cross-implementation test"), p.notes());
    assertEquals(new BundleManifest.Metric(1.5, "nats", "exact log-likelihood, 10000 test points"),
        m.metrics().get("nll_test"));
    assertEquals(List.of("samples/README.txt", BundleTestSupport.DATA, BundleTestSupport.INDEX),
        List.copyOf(m.files().keySet()));
    assertEquals(4000, m.files().get(BundleTestSupport.DATA).size());
  }

  /** Field names, order and layout are the format: genzoo must write exactly what the fixture holds. */
  @Test
  void writesTheFixtureByteForByte() throws IOException {
    byte[] fixture = fixture();
    BundleManifest m = BundleManifest.parse(fixture, "model-v1.json");
    assertEquals(new String(fixture, StandardCharsets.UTF_8), m.toJson());
    assertArrayEquals(fixture, m.toJsonBytes());
  }

  @Test
  void roundTripWithOptionalFieldsAbsent() throws IOException {
    BundleManifest.Provenance p = new BundleManifest.Provenance("genzoo convert upstream.pt", null, null, null,
        Instant.parse("2023-01-02T03:04:05Z"), "0.1.0", null);
    BundleManifest m = BundleManifest.of("ddpm-cifar10", "ddpm", BundleTestSupport.config(), 800_000, p, null)
        .withFiles(Map.of(BundleTestSupport.INDEX, new BundleManifest.FileEntry(Sha256.hex(new byte[0]), 0)));
    BundleManifest back = BundleManifest.parse(m.toJsonBytes(), "test");
    assertEquals(m, back);
    assertNull(back.provenance().data());
    assertNull(back.provenance().seed());
    assertNull(back.provenance().parent());
    assertTrue(back.provenance().notes().isEmpty());
    assertTrue(back.metrics().isEmpty());
  }

  @Test
  void timestampsWithAnOffsetAreReadAsInstants() throws IOException {
    ObjectNode tree = (ObjectNode) JSON.readTree(fixture());
    ((ObjectNode) tree.get("provenance")).put("created", "2024-05-01T14:00:00+02:00");
    BundleManifest m = BundleManifest.parse(JSON.writeValueAsBytes(tree), "t");
    assertEquals(Instant.parse("2024-05-01T12:00:00Z"), m.provenance().created());
  }

  @Test
  void theRecordIsImmutable() throws IOException {
    BundleManifest m = BundleManifest.parse(fixture(), "model-v1.json");
    ((ObjectNode) m.config()).put("kind", "changed");
    assertEquals("realnvp", m.config().get("kind").textValue());
    assertThrows(UnsupportedOperationException.class, () -> m.files().clear());
  }

  static Stream<Arguments> brokenManifests() {
    return Stream.of(
        broken("unknown format_version", t -> t.put("format_version", 2), "format_version 2 is not supported"),
        broken("other format", t -> t.put("format", "safetensors"), "field 'format' must be \"genzoo-bundle\""),
        broken("missing family", t -> t.remove("family"), "missing required field 'family'"),
        broken("missing files", t -> t.remove("files"), "missing required field 'files'"),
        broken("missing created", t -> prov(t).remove("created"), "missing required field 'provenance.created'"),
        broken("missing command", t -> prov(t).remove("command"), "missing required field 'provenance.command'"),
        broken("missing version", t -> t.remove("format_version"), "missing required field 'format_version'"),
        broken("step not a number", t -> t.put("step", "many"), "field 'step' must be an integer"),
        broken("negative step", t -> t.put("step", -1), "field 'step' must be >= 0"),
        broken("fractional seed", t -> prov(t).put("seed", 1.5), "field 'provenance.seed' must be an integer"),
        broken("config not an object", t -> t.put("config", "glow"), "field 'config' must be a JSON object"),
        broken("unknown field", t -> t.put("formatVersion", 1), "unknown field 'formatVersion'"),
        broken("unknown nested field", t -> prov(t).put("user", "x"), "unknown field 'provenance.user'"),
        broken("bad created", t -> prov(t).put("created", "yesterday"), "field 'provenance.created' must be an ISO-8601"),
        broken("bad name", t -> t.put("name", "../flow"), "field 'name' must match"),
        broken("bad file sha", t -> file(t, BundleTestSupport.INDEX).put("sha256", "1234"),
            "sha256 must be 64 lower-case hex digits"),
        broken("negative size", t -> file(t, BundleTestSupport.INDEX).put("size", -5), "size must be >= 0"),
        broken("parent path", t -> ((ObjectNode) t.get("files")).set("../evil", t.get("files").get("variables.index")),
            "path \"../evil\" has a '..' segment"),
        broken("absolute path", t -> ((ObjectNode) t.get("files")).set("/etc/x", t.get("files").get("variables.index")),
            "path \"/etc/x\" is an absolute path"),
        broken("lists itself", t -> ((ObjectNode) t.get("files")).set("model.json", t.get("files").get("variables.index")),
            "must not list model.json itself"),
        broken("metric without value", t -> ((ObjectNode) t.get("metrics").get("nll_test")).remove("value"),
            "missing required field 'metrics.nll_test.value'"));
  }

  private static Arguments broken(String what, Consumer<ObjectNode> edit, String expected) {
    return Arguments.of(what, edit, expected);
  }

  private static ObjectNode prov(ObjectNode t) {
    return (ObjectNode) t.get("provenance");
  }

  private static ObjectNode file(ObjectNode t, String name) {
    return (ObjectNode) t.get("files").get(name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenManifests")
  void brokenManifestIsRejectedNamingTheFileAndTheField(String what, Consumer<ObjectNode> edit, String expected,
      @TempDir Path tmp) throws IOException {
    ObjectNode tree = (ObjectNode) JSON.readTree(fixture());
    edit.accept(tree);
    Path file = tmp.resolve("model.json");
    Files.write(file, JSON.writeValueAsBytes(tree));
    BundleException e = assertThrows(BundleException.class, () -> BundleManifest.read(file));
    assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void duplicateKeysAndTrailingGarbageAndNonJsonAreRejected(@TempDir Path tmp) throws IOException {
    String text = new String(fixture(), StandardCharsets.UTF_8);
    Path file = tmp.resolve("model.json");
    Files.writeString(file, text.replace("\"step\": 1500,", "\"step\": 1500,\n  \"step\": 1501,"));
    BundleException dup = assertThrows(BundleException.class, () -> BundleManifest.read(file));
    assertTrue(dup.getMessage().contains("Duplicate field 'step'"), dup.getMessage());
    Files.writeString(file, text + "{}");
    BundleException trailing = assertThrows(BundleException.class, () -> BundleManifest.read(file));
    assertTrue(trailing.getMessage().contains(file + ": not valid JSON"), trailing.getMessage());
    Files.writeString(file, "[1, 2]");
    BundleException array = assertThrows(BundleException.class, () -> BundleManifest.read(file));
    assertTrue(array.getMessage().contains("must hold a JSON object"), array.getMessage());
  }

  @Test
  void missingFileIsNamed(@TempDir Path tmp) {
    Path file = tmp.resolve("model.json");
    BundleException e = assertThrows(BundleException.class, () -> BundleManifest.read(file));
    assertTrue(e.getMessage().contains(file + ": missing"), e.getMessage());
  }

  @Test
  void constructorRejectsNonFiniteMetrics() {
    assertThrows(IllegalArgumentException.class, () -> new BundleManifest.Metric(Double.NaN, "nats", "x"));
  }
}
