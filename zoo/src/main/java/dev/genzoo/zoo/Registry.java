package dev.genzoo.zoo;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry of models: data, not code (a JSON resource in the zoo jar, {@code dev/genzoo/zoo/registry.json}).
 * A file named by {@code $GENZOO_REGISTRY} (or the system property {@code genzoo.registry}) replaces or adds entries
 * by name.
 */
public final class Registry {
  static final String RESOURCE = "/dev/genzoo/zoo/registry.json";
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Map<String, RegistryEntry> entries;

  private Registry(Map<String, RegistryEntry> entries) {
    this.entries = entries;
  }

  /** The built-in registry, with the override file applied when one is configured. */
  public static Registry load() {
    Map<String, RegistryEntry> all = new LinkedHashMap<>();
    try (InputStream in = Registry.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the zoo jar has no " + RESOURCE);
      }
      for (RegistryEntry e : parse(JSON.readTree(in), "the built-in registry")) {
        all.put(e.name(), e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the built-in registry", e);
    }
    String override = System.getProperty("genzoo.registry", System.getenv("GENZOO_REGISTRY"));
    if (override != null && !override.isBlank()) {
      Path file = Path.of(override);
      try {
        for (RegistryEntry e : parse(JSON.readTree(Files.readAllBytes(file)), file.toString())) {
          all.put(e.name(), e);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the registry override " + file + " (GENZOO_REGISTRY)", e);
      }
    }
    return new Registry(all);
  }

  static List<RegistryEntry> parse(JsonNode root, String source) throws IOException {
    if (!"genzoo-registry".equals(root.path("format").asText()) || root.path("version").asInt() != 1) {
      throw new IOException(source + " is not a genzoo registry (format genzoo-registry, version 1)");
    }
    List<RegistryEntry> out = new ArrayList<>();
    for (JsonNode n : root.path("models")) {
      try {
        out.add(JSON.treeToValue(n, RegistryEntry.class));
      } catch (IOException | IllegalArgumentException e) {
        throw new IOException(source + ": bad entry " + n.path("name").asText("?") + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  public List<RegistryEntry> entries() {
    return List.copyOf(entries.values());
  }

  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  public RegistryEntry get(String name) {
    RegistryEntry e = entries.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no model named '" + name + "' in the registry and no bundle at that path; "
          + "known models: " + String.join(", ", entries.keySet()));
    }
    return e;
  }
}
