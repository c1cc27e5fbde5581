package dev.genzoo.checkpoints;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The manifest of a genzoo bundle, stored as {@code model.json} at the bundle's top level. Format version 1, with
 * these JSON fields (snake_case, written in this order, maps sorted by key):
 *
 * <pre>
 * {
 *   "format": "genzoo-bundle",
 *   "format_version": 1,
 *   "name": "flow-mnist",                       bundle name: [A-Za-z0-9][A-Za-z0-9._-]*, at most 128 characters
 *   "family": "flow",                           model family: [a-z0-9][a-z0-9_-]*
 *   "step": 20000,                              optimiser steps taken, &gt;= 0
 *   "config": { ... },                          the family's config (a JSON object, opaque here)
 *   "provenance": {
 *     "command": "genzoo train flow ...",       the command line that produced the bundle
 *     "data": "mnist:/data/mnist",              data spec, or null (a converted model)
 *     "seed": 1234,                             seed, or null
 *     "parent": {"name": ..., "sha256": ...},   the bundle this one was fine-tuned from, or null
 *     "created": "2024-05-01T12:00:00Z",        ISO-8601 with an offset
 *     "genzoo_version": "0.1.0",
 *     "notes": {"key": "value"}                 free-form (may be absent: empty)
 *   },
 *   "metrics": {"bpd_test": {"value": 1.05, "unit": "bits/dim", "protocol": "..."}},   may be absent: empty
 *   "files": {"variables.index": {"sha256": "&lt;64 hex&gt;", "size": 1234}, ...}
 * }
 * </pre>
 *
 * <p>{@code files} lists every file of the bundle except {@code model.json} itself, by '/'-separated relative path.
 * Reading is strict: an unknown {@code format_version}, a missing required field, a field of the wrong type and an
 * unknown field are errors whose message names the {@code model.json} file and the field (a new field means a new
 * format version).
 *
 * <p>The record is immutable: maps are sorted copies and {@link #config()} returns a copy.
 */
public record BundleManifest(
    String format,
    int formatVersion,
    String name,
    String family,
    JsonNode config,
    long step,
    Provenance provenance,
    Map<String, Metric> metrics,
    Map<String, FileEntry> files) {

  /** The value of the {@code format} field. */
  public static final String FORMAT = "genzoo-bundle";
  /** The only format version this code reads and writes. */
  public static final int FORMAT_VERSION = 1;
  /** The manifest's file name at the top of a bundle. */
  public static final String FILE_NAME = "model.json";
  /** A {@code model.json} larger than this is refused before it is parsed. */
  public static final int MAX_BYTES = 16 << 20;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final Pattern FAMILY = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
  private static final Set<String> TOP_FIELDS = Set.of("format", "format_version", "name", "family", "step", "config",
      "provenance", "metrics", "files");
  private static final Set<String> PROVENANCE_FIELDS = Set.of("command", "data", "seed", "parent", "created",
      "genzoo_version", "notes");
  private static final Set<String> PARENT_FIELDS = Set.of("name", "sha256");
  private static final Set<String> METRIC_FIELDS = Set.of("value", "unit", "protocol");
  private static final Set<String> FILE_FIELDS = Set.of("sha256", "size");

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  /** Two-space indent, "\n" line ends on every platform, {@code "key": value}: the bytes do not depend on the OS. */
  private static final ObjectWriter WRITER = MAPPER.writer(new DefaultPrettyPrinter()
      .withObjectIndenter(new DefaultIndenter("  ", "\n"))
      .withArrayIndenter(new DefaultIndenter("  ", "\n"))
      .withSeparators(Separators.createDefaultInstance()
          .withObjectFieldValueSpacing(Separators.Spacing.AFTER)));

  /**
   * Where a bundle came from.
   *
   * @param command the command line that produced the bundle (required)
   * @param data the data spec it was trained on ({@code toy:moons}, {@code cifar10}), or null
   * @param seed the random seed, or null
   * @param parent the bundle it was fine-tuned from, or null
   * @param created when it was written (required; written as ISO-8601 in UTC)
   * @param genzooVersion the genzoo version that wrote it (required)
   * @param notes free-form notes (never null; empty when there are none)
   */
  public record Provenance(String command, String data, Long seed, Parent parent, Instant created,
      String genzooVersion, Map<String, String> notes) {
    public Provenance {
      requireText(command, "provenance.command");
      if (data != null && data.isEmpty()) {
        throw new IllegalArgumentException("field 'provenance.data' is empty (use null for no data spec)");
      }
      Objects.requireNonNull(created, "field 'provenance.created' is required");
      requireText(genzooVersion, "provenance.genzoo_version");
      notes = sortedCopy(notes == null ? Map.of() : notes, "provenance.notes");
    }
  }

  /**
   * The bundle a fine-tuned model started from.
   *
   * @param name the parent bundle's name
   * @param sha256 the SHA-256 of the parent's {@code model.json} bytes ({@link Bundle#manifestSha256()}); since
   *     that file lists the SHA-256 of every other file, this pins the parent's weights whether it was a folder or
   *     an archive
   */
  public record Parent(String name, String sha256) {
    public Parent {
      requireText(name, "provenance.parent.name");
      if (!Sha256.isHex(sha256)) {
        throw new IllegalArgumentException("field 'provenance.parent.sha256' must be 64 lower-case hex digits, found "
            + quote(sha256));
      }
    }
  }

  /**
   * One measured number.
   *
   * @param value the value (finite)
   * @param unit its unit ({@code "bits/dim"}, {@code ""} when dimensionless)
   * @param protocol how it was measured (samples, reference statistics, weights: EMA or raw)
   */
  public record Metric(double value, String unit, String protocol) {
    public Metric {
      if (!Double.isFinite(value)) {
        throw new IllegalArgumentException("metric value must be finite, got " + value);
      }
      Objects.requireNonNull(unit, "metric unit must not be null (use \"\" when dimensionless)");
      Objects.requireNonNull(protocol, "metric protocol must not be null");
    }
  }

  /**
   * One file of the bundle.
   *
   * @param sha256 its SHA-256, 64 lower-case hex digits
   * @param size its size in bytes
   */
  public record FileEntry(String sha256, long size) {
    public FileEntry {
      if (!Sha256.isHex(sha256)) {
        throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, found " + quote(sha256));
      }
      if (size < 0) {
        throw new IllegalArgumentException("size must be >= 0, got " + size);
      }
    }
  }

  public BundleManifest {
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException("field 'format' must be \"" + FORMAT + "\", found " + quote(format));
    }
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(unsupportedVersion(formatVersion));
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("field 'name' must match " + NAME.pattern() + ", found " + quote(name));
    }
    if (family == null || !FAMILY.matcher(family).matches()) {
      throw new IllegalArgumentException("field 'family' must match " + FAMILY.pattern() + ", found "
          + quote(family));
    }
    if (config == null || !config.isObject()) {
      throw new IllegalArgumentException("field 'config' must be a JSON object");
    }
    config = config.deepCopy();
    if (step < 0) {
      throw new IllegalArgumentException("field 'step' must be >= 0, got " + step);
    }
    Objects.requireNonNull(provenance, "field 'provenance' is required");
    metrics = sortedCopy(metrics == null ? Map.of() : metrics, "metrics");
    files = sortedCopy(files == null ? Map.of() : files, "files");
    for (String path : files.keySet()) {
      String problem = BundlePaths.problem(path);
      if (problem != null) {
        throw new IllegalArgumentException("field 'files': path " + quote(path) + " " + problem);
      }
      if (path.equals(FILE_NAME)) {
        throw new IllegalArgumentException("field 'files' must not list " + FILE_NAME + " itself");
      }
    }
  }

  /** A version-1 manifest with no files yet (they are filled in by {@link Bundles#write}). */
  public static BundleManifest of(String name, String family, JsonNode config, long step, Provenance provenance,
      Map<String, Metric> metrics) {
    return new BundleManifest(FORMAT, FORMAT_VERSION, name, family, config, step, provenance, metrics, Map.of());
  }

  /** A copy of the family config (the record keeps its own copy so that it stays immutable). */
  @Override
  public JsonNode config() {
    return config.deepCopy();
  }

  /** This manifest with {@code files} replaced. */
  public BundleManifest withFiles(Map<String, FileEntry> newFiles) {
    return new BundleManifest(format, formatVersion, name, family, config, step, provenance, metrics, newFiles);
  }

  /** This manifest with {@code metrics} replaced. */
  public BundleManifest withMetrics(Map<String, Metric> newMetrics) {
    return new BundleManifest(format, formatVersion, name, family, config, step, provenance, newMetrics, files);
  }

  /** Reads and validates a {@code model.json} file; errors name the file. */
  public static BundleManifest read(Path file) throws IOException {
    return parse(readBytes(file), file.toString());
  }

  /**
   * Parses and validates {@code model.json} content.
   *
   * @param source names the content in error messages (the file's path)
   * @throws BundleException for malformed JSON, an unknown format version, a missing, mistyped or unknown field
   */
  public static BundleManifest parse(byte[] json, String source) throws BundleException {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new BundleException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new BundleException(source + ": cannot parse: " + e.getMessage(), e);
    }
    Fields in = new Fields(source);
    if (root == null || !root.isObject()) {
      throw new BundleException(source + ": must hold a JSON object");
    }
    ObjectNode top = (ObjectNode) root;
    // format and version first: a newer version may have other fields, and that is the error to report.
    String format = in.text(top, "format", "format", true);
    if (!FORMAT.equals(format)) {
      throw new BundleException(source + ": field 'format' must be \"" + FORMAT + "\", found " + quote(format)
          + " (not a genzoo bundle manifest?)");
    }
    long version = in.integer(top, "format_version", "format_version");
    if (version != FORMAT_VERSION) {
      throw new BundleException(source + ": " + unsupportedVersion(version));
    }
    in.known(top, "", TOP_FIELDS);
    String name = in.text(top, "name", "name", true);
    String family = in.text(top, "family", "family", true);
    long step = in.integer(top, "step", "step");
    JsonNode config = in.object(top, "config", "config", true);
    ObjectNode prov = in.object(top, "provenance", "provenance", true);
    Provenance provenance = in.provenance(prov);
    Map<String, Metric> metrics = new LinkedHashMap<>();
    ObjectNode metricsNode = in.object(top, "metrics", "metrics", false);
    if (metricsNode != null) {
      for (Iterator<Map.Entry<String, JsonNode>> it = metricsNode.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String path = "metrics." + e.getKey();
        ObjectNode m = in.object(metricsNode, e.getKey(), path, true);
        in.known(m, path, METRIC_FIELDS);
        double value = in.number(m, "value", path + ".value");
        String unit = in.text(m, "unit", path + ".unit", true, true);
        String protocol = in.text(m, "protocol", path + ".protocol", true, true);
        metrics.put(e.getKey(), in.build(path, () -> new Metric(value, unit, protocol)));
      }
    }
    Map<String, FileEntry> files = new LinkedHashMap<>();
    ObjectNode filesNode = in.object(top, "files", "files", true);
    for (Iterator<Map.Entry<String, JsonNode>> it = filesNode.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String path = "files." + e.getKey();
      ObjectNode f = in.object(filesNode, e.getKey(), path, true);
      in.known(f, path, FILE_FIELDS);
      String sha = in.text(f, "sha256", path + ".sha256", true);
      long size = in.integer(f, "size", path + ".size");
      files.put(e.getKey(), in.build(path, () -> new FileEntry(sha, size)));
    }
    return in.build("", () -> new BundleManifest(format, (int) version, name, family, config, step, provenance,
        metrics, files));
  }

  /** The {@code model.json} text: UTF-8, two-space indent, "\n" line ends, a final newline. */
  public String toJson() {
    ObjectNode top = JsonNodeFactory.instance.objectNode();
    top.put("format", format);
    top.put("format_version", formatVersion);
    top.put("name", name);
    top.put("family", family);
    top.put("step", step);
    top.set("config", config.deepCopy());
    ObjectNode prov = top.putObject("provenance");
    prov.put("command", provenance.command());
    prov.put("data", provenance.data());
    prov.put("seed", provenance.seed());
    if (provenance.parent() == null) {
      prov.putNull("parent");
    } else {
      ObjectNode parent = prov.putObject("parent");
      parent.put("name", provenance.parent().name());
      parent.put("sha256", provenance.parent().sha256());
    }
    prov.put("created", provenance.created().toString());
    prov.put("genzoo_version", provenance.genzooVersion());
    ObjectNode notes = prov.putObject("notes");
    provenance.notes().forEach(notes::put);
    ObjectNode metricsNode = top.putObject("metrics");
    metrics.forEach((key, m) -> {
      ObjectNode node = metricsNode.putObject(key);
      node.put("value", m.value());
      node.put("unit", m.unit());
      node.put("protocol", m.protocol());
    });
    ObjectNode filesNode = top.putObject("files");
    files.forEach((key, f) -> {
      ObjectNode node = filesNode.putObject(key);
      node.put("sha256", f.sha256());
      node.put("size", f.size());
    });
    try {
      return WRITER.writeValueAsString(top) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the manifest of " + name, e);
    }
  }

  /** {@link #toJson()} as UTF-8 bytes: exactly the bytes of {@code model.json}. */
  public byte[] toJsonBytes() {
    return toJson().getBytes(StandardCharsets.UTF_8);
  }

  /** Reads a {@code model.json}, refusing a link, a non-file or one larger than {@link #MAX_BYTES}. */
  static byte[] readBytes(Path file) throws IOException {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new BundleException(file + ": missing (a bundle has " + FILE_NAME + " at its top level)");
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new BundleException(file + ": not a regular file");
    }
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      byte[] bytes = in.readNBytes(MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw new BundleException(file + ": larger than " + MAX_BYTES + " bytes; not a bundle manifest");
      }
      return bytes;
    }
  }

  private static String unsupportedVersion(long version) {
    return "format_version " + version + " is not supported (this genzoo reads format_version " + FORMAT_VERSION
        + "; a newer genzoo may read it)";
  }

  private static void requireText(String value, String field) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("field '" + field + "' is required and must not be empty");
    }
  }

  private static <V> SortedMap<String, V> sortedCopy(Map<String, V> map, String field) {
    TreeMap<String, V> copy = new TreeMap<>();
    for (Map.Entry<String, V> e : map.entrySet()) {
      if (e.getKey() == null || e.getKey().isEmpty()) {
        throw new IllegalArgumentException("field '" + field + "' has an empty key");
      }
      if (e.getValue() == null) {
        throw new IllegalArgumentException("field '" + field + "." + e.getKey() + "' is null");
      }
      copy.put(e.getKey(), e.getValue());
    }
    return Collections.unmodifiableSortedMap(copy);
  }

  private static String quote(String s) {
    return s == null ? "nothing" : "\"" + s + "\"";
  }

  /** Typed access to JSON fields with errors that name the file and the field's dotted path. */
  private static final class Fields {
    private final String source;

    Fields(String source) {
      this.source = source;
    }

    interface Builder<T> {
      T build();
    }

    /** Runs a record constructor, turning its IllegalArgumentException into an error naming the file. */
    <T> T build(String path, Builder<T> builder) throws BundleException {
      try {
        return builder.build();
      } catch (IllegalArgumentException | NullPointerException e) {
        String where = path.isEmpty() ? "" : " (in '" + path + "')";
        throw new BundleException(source + ": " + e.getMessage() + where, e);
      }
    }

    BundleException error(String path, String what) {
      return new BundleException(source + ": field '" + path + "' " + what);
    }

    JsonNode field(ObjectNode node, String key, String path, boolean required) throws BundleException {
      JsonNode value = node.get(key);
      if (value == null || value.isNull()) {
        if (required) {
          throw new BundleException(source + ": missing required field '" + path + "'");
        }
        return null;
      }
      return value;
    }

    String text(ObjectNode node, String key, String path, boolean required) throws BundleException {
      return text(node, key, path, required, false);
    }

    String text(ObjectNode node, String key, String path, boolean required, boolean emptyAllowed)
        throws BundleException {
      JsonNode value = field(node, key, path, required);
      if (value == null) {
        return null;
      }
      if (!value.isTextual()) {
        throw error(path, "must be a string, found " + value);
      }
      if (!emptyAllowed && value.textValue().isEmpty()) {
        throw error(path, "must not be empty");
      }
      return value.textValue();
    }

    long integer(ObjectNode node, String key, String path) throws BundleException {
      JsonNode value = field(node, key, path, true);
      if (!value.isIntegralNumber() || !value.canConvertToLong()) {
        throw error(path, "must be an integer, found " + value);
      }
      return value.longValue();
    }

    Long optionalInteger(ObjectNode node, String key, String path) throws BundleException {
      JsonNode value = field(node, key, path, false);
      if (value == null) {
        return null;
      }
      if (!value.isIntegralNumber() || !value.canConvertToLong()) {
        throw error(path, "must be an integer or null, found " + value);
      }
      return value.longValue();
    }

    double number(ObjectNode node, String key, String path) throws BundleException {
      JsonNode value = field(node, key, path, true);
      if (!value.isNumber()) {
        throw error(path, "must be a number, found " + value);
      }
      return value.doubleValue();
    }

    ObjectNode object(ObjectNode node, String key, String path, boolean required) throws BundleException {
      JsonNode value = field(node, key, path, required);
      if (value == null) {
        return null;
      }
      if (!value.isObject()) {
        throw error(path, "must be a JSON object, found " + value.getNodeType().toString().toLowerCase());
      }
      return (ObjectNode) value;
    }

    void known(ObjectNode node, String path, Set<String> allowed) throws BundleException {
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String key = it.next();
        if (!allowed.contains(key)) {
          String full = path.isEmpty() ? key : path + "." + key;
          throw new BundleException(source + ": unknown field '" + full + "' (format_version " + FORMAT_VERSION
              + " has " + new TreeSet<>(allowed) + ")");
        }
      }
    }

    Provenance provenance(ObjectNode prov) throws BundleException {
      known(prov, "provenance", PROVENANCE_FIELDS);
      String command = text(prov, "command", "provenance.command", true);
      String data = text(prov, "data", "provenance.data", false);
      Long seed = optionalInteger(prov, "seed", "provenance.seed");
      Parent parent = null;
      ObjectNode parentNode = object(prov, "parent", "provenance.parent", false);
      if (parentNode != null) {
        known(parentNode, "provenance.parent", PARENT_FIELDS);
        String parentName = text(parentNode, "name", "provenance.parent.name", true);
        String parentSha = text(parentNode, "sha256", "provenance.parent.sha256", true);
        parent = build("provenance.parent", () -> new Parent(parentName, parentSha));
      }
      String createdText = text(prov, "created", "provenance.created", true);
      Instant created;
      try {
        created = OffsetDateTime.parse(createdText).toInstant();
      } catch (DateTimeParseException e) {
        throw error("provenance.created", "must be an ISO-8601 date-time with an offset such as "
            + "\"2024-05-01T12:00:00Z\", found " + quote(createdText));
      }
      String version = text(prov, "genzoo_version", "provenance.genzoo_version", true);
      Map<String, String> notes = new LinkedHashMap<>();
      ObjectNode notesNode = object(prov, "notes", "provenance.notes", false);
      if (notesNode != null) {
        for (Iterator<String> it = notesNode.fieldNames(); it.hasNext(); ) {
          String key = it.next();
          notes.put(key, text(notesNode, key, "provenance.notes." + key, true, true));
        }
      }
      Parent p = parent;
      return build("provenance", () -> new Provenance(command, data, seed, p, created, version, notes));
    }
  }
}
