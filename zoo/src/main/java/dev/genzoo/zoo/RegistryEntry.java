package dev.genzoo.zoo;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
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
 * @param files where the bundle comes from: {@code embedded:NAME} (inside the zoo jar) or a URL, with its sha256
 * @param source how it was made: upstream, format, licence and the command that produced it
 * @param published figures from the literature this model is measured against, with their protocol
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record RegistryEntry(String name, String family, String preset, String data, String status,
    String description, List<FileRef> files, Source source, List<Published> published) {

  /** A file of the entry. */
  public record FileRef(String uri, String sha256, long size) {}

  /** Provenance of the entry. */
  public record Source(String upstream, String format, String licence, String command) {}

  /** A published figure and its protocol, e.g. bits/dim on the test split with 8-bit dequantisation. */
  public record Published(String metric, double value, String unit, String model, String reference,
      String protocol) {}

  public RegistryEntry {
    if (name == null || family == null || files == null || files.isEmpty()) {
      throw new IllegalArgumentException("registry entry needs name, family and files: " + name);
    }
    published = published == null ? List.of() : List.copyOf(published);
  }

  /** The bundle archive of the entry. */
  public FileRef bundle() {
    return files.get(0);
  }

  public boolean isEmbedded() {
    return bundle().uri().startsWith("embedded:");
  }
}
