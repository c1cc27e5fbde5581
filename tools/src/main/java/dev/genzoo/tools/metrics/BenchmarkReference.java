package dev.genzoo.tools.metrics;

import dev.genzoo.data.DataSpec;
import java.nio.file.Path;

/**
 * What {@code genzoo benchmark --ref} compares samples with:
 * <ul>
 *   <li>{@code cifar10-train}: the CIFAR-10 training split (50,000 images), downloaded and embedded once, its
 *       statistics cached under {@code $GENZOO_HOME/stats/} ({@link ReferenceStats});</li>
 *   <li>{@code stats:FILE.npz}: precomputed statistics ({@code mu}, {@code sigma}), e.g. TTUR's
 *       {@code fid_stats_cifar10_train.npz}; FID only, since KID and precision/recall need per-image features;</li>
 *   <li>{@code features:FILE.npy}: precomputed pool_3 features, an {@code (N, D)} float array;</li>
 *   <li>{@code data:SPEC}: the images of a dataset ({@code data:cifar10} (downloaded), {@code data:cifar10:DIR},
 *       {@code data:mnist:DIR},
 *       {@code data:folder:DIR}, {@code data:npy:FILE}), embedded by the same network as the samples and cached.</li>
 * </ul>
 *
 * @param spec the argument as given
 * @param kind which form
 * @param location the file or the data SPEC after the prefix (null for {@code cifar10-train})
 */
public record BenchmarkReference(String spec, Kind kind, String location) {
  /** The forms of {@code --ref}. */
  public enum Kind { CIFAR10_TRAIN, STATS, FEATURES, DATA }

  /** The valid forms, for messages. */
  public static final String FORMS = "cifar10-train, stats:FILE.npz, features:FILE.npy, data:SPEC (data:cifar10:DIR, "
      + "data:mnist:DIR, data:folder:DIR, data:npy:FILE)";

  /** Parses {@code --ref}; fails naming the option and the valid forms. */
  public static BenchmarkReference parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("--ref is empty; valid: " + FORMS);
    }
    String s = spec.strip();
    if (s.equals("cifar10-train")) {
      return new BenchmarkReference(s, Kind.CIFAR10_TRAIN, null);
    }
    int colon = s.indexOf(':');
    String prefix = colon < 0 ? s : s.substring(0, colon);
    String rest = colon < 0 ? "" : s.substring(colon + 1);
    Kind kind = switch (prefix) {
      case "stats" -> Kind.STATS;
      case "features" -> Kind.FEATURES;
      case "data" -> Kind.DATA;
      default -> throw new IllegalArgumentException("--ref '" + spec + "' is not one of: " + FORMS);
    };
    if (rest.isBlank()) {
      throw new IllegalArgumentException("--ref '" + spec + "' needs a " + (kind == Kind.DATA ? "data SPEC" : "file")
          + " after '" + prefix + ":'; valid: " + FORMS);
    }
    if (kind == Kind.DATA) {
      try {
        DataSpec d = DataSpec.parse(rest);
        if (d.scheme().equals("toy")) {
          throw new IllegalArgumentException("toy data are points, not images");
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--ref '" + spec + "': " + e.getMessage(), e);
      }
    }
    return new BenchmarkReference(s, kind, rest);
  }

  /** The file of {@code stats:} and {@code features:}. */
  public Path file() {
    if (kind != Kind.STATS && kind != Kind.FEATURES) {
      throw new IllegalStateException("--ref " + spec + " names no file");
    }
    return Path.of(location);
  }

  /** Whether per-image features exist for this reference (KID and precision/recall need them). */
  public boolean hasFeatures() {
    return kind != Kind.STATS;
  }
}
