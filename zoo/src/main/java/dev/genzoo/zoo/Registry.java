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
 * A file or an http(s) URL named by {@code $GENZOO_REGISTRY} (or the system property {@code genzoo.registry})
 * replaces or adds entries by name; a URL is fetched with time-outs and a copy is kept in
 * {@code $GENZOO_HOME/registry/} for offline use.
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
      String o = override.trim();
      String lower = o.toLowerCase(java.util.Locale.ROOT);
      if (lower.startsWith("http://") || lower.startsWith("https://")) {
        try {
          for (RegistryEntry e : parse(JSON.readTree(remote(o)), o)) {
            all.put(e.name(), e);
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the registry override " + o + " (GENZOO_REGISTRY): "
              + e.getMessage(), e);
        }
        return new Registry(all);
      }
      Path file = lower.startsWith("file:") ? Path.of(java.net.URI.create(o)) : Path.of(o);
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

  /** Registry overrides fetched from URLs by this JVM, so that each is fetched once per run. */
  private static final Map<String, byte[]> FETCHED = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The bytes of a registry override at an http(s) URL: fetched (with time-outs and retries, once per JVM), checked
   * to be a registry, and saved as {@code $GENZOO_HOME/registry/<digest of the URL>.json}; that copy is used when
   * offline ({@code GENZOO_OFFLINE=1}) or when the URL cannot be fetched (with a warning on standard error).
   */
  static byte[] remote(String url) throws IOException {
    byte[] known = FETCHED.get(url);
    if (known != null) {
      return known;
    }
    Cache cache = Cache.open();
    Path copy = cache.registryDir().resolve(
        dev.genzoo.checkpoints.Sha256.hex(url.getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 16)
            + ".json");
    Fetcher.Options env = Fetcher.Options.fromEnvironment();
    Fetcher.Options options = env
        .withTimeouts(min(env.connectTimeout(), java.time.Duration.ofSeconds(10)),
            min(env.readTimeout(), java.time.Duration.ofSeconds(20)))
        .withRetries(Math.min(env.retries(), 2), env.backoff(), env.maxBackoff());
    byte[] bytes;
    if (options.offline()) {
      if (!Files.isRegularFile(copy)) {
        throw new IOException("offline (GENZOO_OFFLINE), and no copy of " + url + " was saved at " + copy
            + " by an earlier run");
      }
      bytes = Files.readAllBytes(copy);
    } else {
      try {
        bytes = new Fetcher(cache, options).read(url, 64 << 20);
        parse(JSON.readTree(bytes), url);
        dev.genzoo.io.AtomicFiles.writeBytes(copy, bytes);
      } catch (IOException | RuntimeException e) {
        if (!Files.isRegularFile(copy)) {
          throw new IOException("cannot fetch it (" + e.getMessage() + "), and no copy was saved at " + copy
              + " by an earlier run", e);
        }
        System.err.println("genzoo: cannot fetch the registry " + url + " (GENZOO_REGISTRY): " + e.getMessage()
            + "; using the copy saved at " + copy + " on " + Files.getLastModifiedTime(copy));
        bytes = Files.readAllBytes(copy);
      }
    }
    FETCHED.put(url, bytes);
    return bytes;
  }

  /** Forgets the registry overrides fetched by this JVM (tests). */
  static void forgetFetched() {
    FETCHED.clear();
  }

  private static java.time.Duration min(java.time.Duration a, java.time.Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
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
