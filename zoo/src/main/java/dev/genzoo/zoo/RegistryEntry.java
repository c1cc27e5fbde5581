package dev.genzoo.zoo;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One model of the registry.
 *
 * @param name the name users type ({@code flow-mnist})
 * @param family the family ({@code flow})
 * @param preset the family preset the config started from
 * @param data the data it was trained on, as a SPEC
 * @param status {@code official} (the authors' weights), {@code converted}, {@code reproduced}, {@code toy} (small,
 *     trained here for demos and tests) or {@code not-yet-available}
 * @param description one line for {@code genzoo list}
 * @param files what to fetch: a genzoo bundle ({@code embedded:NAME.tar.gz} inside the zoo jar, or a URL), or, when
 *     {@code source.converter} is set, the upstream checkpoint's files that the converter turns into a bundle
 * @param source how it was made: upstream, format, licence, the command that produced it, and the converter (if any)
 * @param published figures from the literature this model is measured against, with their protocol
 * @param config the family config of a converted entry when it is not the preset itself (null: the preset)
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record RegistryEntry(String name, String family, String preset, String data, String status,
    String description, List<FileRef> files, Source source, List<Published> published, JsonNode config) {

  /**
   * A file of the entry.
   *
   * @param uri {@code embedded:FILE}, {@code http(s)://...} or {@code file:...}
   * @param sha256 the file's SHA-256 (hex); null when not yet pinned (the file is then refused unless unpinned
   *     downloads are allowed explicitly)
   * @param size the size in bytes; 0 when unknown
   * @param name the file's name in the cache and for the converter (default: the last segment of the uri)
   * @param md5 the file's MD5 (hex), for files whose publisher gives only an MD5 (CIFAR-10); null otherwise. A file
   *     with an MD5 and no SHA-256 is fetched without unpinned downloads being allowed, verified by its MD5 before it
   *     is cached, and cached under the SHA-256 computed from its bytes
   */
  public record FileRef(String uri, String sha256, long size, String name, String md5) {
    public FileRef {
      if (uri == null || uri.isBlank()) {
        throw new IllegalArgumentException("a registry file needs a uri");
      }
      if (sha256 != null && !sha256.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("sha256 of " + uri + " is not 64 lower-case hex digits: " + sha256);
      }
      if (md5 != null && !md5.matches("[0-9a-f]{32}")) {
        throw new IllegalArgumentException("md5 of " + uri + " is not 32 lower-case hex digits: " + md5);
      }
      if (name == null || name.isBlank()) {
        String path = uri.replaceFirst("[?#].*$", "");
        name = path.substring(Math.max(path.lastIndexOf('/'), path.indexOf(':')) + 1);
      }
      if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..") || name.equals(".")) {
        throw new IllegalArgumentException("bad file name '" + name + "' for " + uri);
      }
    }

    public FileRef(String uri, String sha256, long size, String name) {
      this(uri, sha256, size, name, null);
    }

    public FileRef(String uri, String sha256, long size) {
      this(uri, sha256, size, null, null);
    }

    /** A file pinned by its MD5 only (see {@link #md5()}). */
    public static FileRef md5Pinned(String uri, String md5, long size, String name) {
      if (md5 == null) {
        throw new IllegalArgumentException("an MD5-pinned file needs an md5: " + uri);
      }
      return new FileRef(uri, null, size, name, md5);
    }

    /** True when the file can be verified: it has a SHA-256 or an MD5. */
    public boolean pinned() {
      return sha256 != null || md5 != null;
    }
  }

  /**
   * Provenance of the entry.
   *
   * @param converter the converter that turns the upstream files into a genzoo bundle ({@code ddpm-tf1}, ...); null
   *     when the files are a genzoo bundle
   */
  public record Source(String upstream, String format, String licence, String command, String converter) {}

  /** A published figure and its protocol, e.g. bits/dim on the test split with 8-bit dequantisation. */
  public record Published(String metric, double value, String unit, String model, String reference,
      String protocol) {}

  public RegistryEntry {
    if (name == null || family == null || files == null) {
      throw new IllegalArgumentException("registry entry needs name, family and files: " + name);
    }
    files = List.copyOf(files);
    if (files.isEmpty() && !"not-yet-available".equals(status)) {
      throw new IllegalArgumentException("registry entry " + name + " has no files but status " + status);
    }
    published = published == null ? List.of() : List.copyOf(published);
  }

  /** The bundle archive of the entry (its first file). */
  public FileRef bundle() {
    if (files.isEmpty()) {
      throw new IllegalStateException("model " + name + " is not yet available: " + description);
    }
    return files.get(0);
  }

  public boolean isEmbedded() {
    return !files.isEmpty() && bundle().uri().startsWith("embedded:");
  }

  /** True when the files are an upstream checkpoint that a converter turns into a bundle. */
  public boolean needsConversion() {
    return source != null && source.converter() != null;
  }
}
