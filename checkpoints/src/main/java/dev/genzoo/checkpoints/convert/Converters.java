package dev.genzoo.checkpoints.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.Bundles;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.checkpoints.formats.TensorBundle;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.Version;
import dev.genzoo.graphs.nn.VarStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The converters from upstream releases, and the one path from an upstream checkpoint to a genzoo bundle. */
public final class Converters {
  private Converters() {}

  private static final List<ModelConverter> ALL = List.of(new DdpmTf1Converter(), DdpmTf1Converter.rawWeights(),
      new IgebmTf1Converter(), new Ncsnv2Converter(), new MimicrySnganConverter(), new NvaeConverter());

  /** Every converter. */
  public static List<ModelConverter> all() {
    return ALL;
  }

  /** The converter named {@code name}; an error listing the known ones otherwise. */
  public static ModelConverter get(String name) {
    List<String> names = new ArrayList<>();
    for (ModelConverter c : ALL) {
      if (c.name().equals(name)) {
        return c;
      }
      names.add(c.name());
    }
    throw new IllegalArgumentException("no converter named '" + name + "'; known converters: "
        + String.join(", ", names));
  }

  /** The genzoo variables a bundle of {@code config} holds (the trainable weights and the model state). */
  public static List<NameMap.Target> targets(String family, JsonNode config) {
    ModelFamily f = Families.get(family);
    List<NameMap.Target> out = new ArrayList<>();
    try (GenerativeModel m = f.create(config, ModelOptions.inference())) {
      for (VarStore.Var v : m.variables().ofKind(VarStore.Kind.TRAINABLE, VarStore.Kind.STATE)) {
        out.add(new NameMap.Target(v.name(), v.shape().asArray()));
      }
    } catch (Exception e) {
      throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
    return out;
  }

  /** The weights converted, the config they belong to, and the report. */
  public record Converted(String family, JsonNode config, TensorSet weights, ConversionReport report) {}

  /** Reads and converts without writing anything. */
  public static Converted convert(ModelConverter c, Path checkpoint, JsonNode requestedConfig) throws IOException {
    TensorSet upstream = c.read(checkpoint);
    ModelFamily f = Families.get(c.family());
    JsonNode config = f.validate(c.config(upstream, requestedConfig));
    NameMap.Result r = c.nameMap(config).apply(upstream, targets(c.family(), config));
    return new Converted(c.family(), config, r.weights(), r.report());
  }

  /**
   * Converts an upstream checkpoint into a genzoo bundle folder, all or nothing: the weights are written as the
   * bundle's TensorFlow checkpoint, loaded back into a fresh model (so TensorFlow itself accepts every name, shape
   * and dtype) and only then does the folder appear at {@code targetDir}. The manifest's provenance records the
   * converter, the source file and its SHA-256, and the report's summary.
   */
  public static BundleManifest toBundle(ModelConverter c, Path checkpoint, JsonNode requestedConfig, String bundleName,
      Path targetDir, boolean replace, String command) throws IOException {
    Converted conv = convert(c, checkpoint, requestedConfig);
    Map<String, String> notes = new LinkedHashMap<>();
    notes.put("converter", c.name() + ": " + c.description());
    notes.put("source", checkpoint.getFileName().toString());
    Path hashed = Files.isRegularFile(checkpoint) ? checkpoint : Path.of(checkpoint + ".index");
    if (Files.isRegularFile(hashed)) {
      notes.put("source_sha256", Sha256.hex(hashed));
    }
    notes.put("conversion", conv.report().summary());
    BundleManifest.Provenance p = new BundleManifest.Provenance(command, null, null, null, Instant.now(),
        Version.current(), notes);
    BundleManifest m = BundleManifest.of(bundleName, c.family(), conv.config(), 0, p, Map.of());
    return Bundles.write(targetDir, m, replace, tmp -> {
      Path prefix = tmp.resolve("variables");
      TensorBundle.write(conv.weights(), prefix);
      try (GenerativeModel model = Families.get(c.family()).create(conv.config(), ModelOptions.inference())) {
        model.restoreWeights(prefix);
      } catch (Exception e) {
        throw new IOException("the converted weights of " + checkpoint + " do not load: " + e.getMessage(), e);
      }
    });
  }
}
