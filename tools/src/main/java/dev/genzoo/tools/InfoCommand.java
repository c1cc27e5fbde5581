package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelFamily;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.zoo.Registry;
import dev.genzoo.zoo.RegistryEntry;
import dev.genzoo.zoo.Zoo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "info", description = {"Config, provenance, licence, files, published vs measured numbers.",
    "NAME is a registry name, a bundle (folder or .tar.gz), or a family with --preset (e.g. flow --preset "
        + "glow-cifar10) to see an untrained preset and its parameter count."})
final class InfoCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Option(names = "--preset", description = "with a family name: the preset to describe")
  String preset;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "config overrides (with a family)")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--json", description = "print the config as JSON")
  boolean json;

  @Mixin
  RuntimeMixin runtime;

  @Override
  public Integer call() throws Exception {
    if (isFamily(name)) {
      ModelFamily family = Families.get(name);
      String p = preset != null ? preset : family.presets().get(0);
      JsonNode config = family.validate(Configs.override(family.preset(p), overrides));
      System.out.println(name + " preset " + p);
      describe(family, config);
      return 0;
    }
    RegistryEntry entry = Registry.load().contains(name) ? Registry.load().get(name) : null;
    if (entry != null) {
      System.out.println(entry.name() + ": " + entry.description());
      System.out.println("family " + entry.family() + ", preset " + entry.preset() + ", data " + entry.data()
          + ", status " + entry.status());
      if (entry.source() != null) {
        System.out.println("source: " + (entry.source().upstream() == null ? "trained by genzoo"
            : entry.source().upstream()) + ", format " + entry.source().format() + ", licence "
            + entry.source().licence());
      }
      if (entry.needsConversion()) {
        System.out.println("converter: " + entry.source().converter() + " (" + entry.source().command() + ")");
      }
      for (RegistryEntry.FileRef f : entry.files()) {
        System.out.println("file: " + f.uri() + " (" + (f.size() == 0 ? "size unknown" : Format.bytes(f.size()))
            + ", sha256 " + (f.sha256() == null ? "not pinned" : f.sha256()) + ")");
      }
      if (Zoo.cached(entry).isEmpty()) {
        if (!entry.published().isEmpty()) {
          System.out.println("published:");
          for (RegistryEntry.Published pub : entry.published()) {
            System.out.printf("  %-16s %10.4f %-9s %s, %s; %s%n", pub.metric(), pub.value(), pub.unit(), pub.model(),
                pub.reference(), pub.protocol());
          }
        }
        System.out.println(entry.files().isEmpty() ? "not yet available: " + entry.description()
            : "not in the cache: the first Zoo.load(\"" + entry.name() + "\") or `genzoo sample " + entry.name()
            + "` downloads" + (entry.needsConversion() ? " and converts" : "") + " it");
        ModelFamily family = Families.get(entry.family());
        System.out.println("preset " + entry.preset() + ":");
        describe(family, entry.config() != null ? family.validate(entry.config()) : family.preset(entry.preset()));
        return 0;
      }
    }
    try (Bundle bundle = Zoo.open(name)) {
      BundleManifest m = bundle.manifest();
      ModelFamily family = Families.get(m.family());
      System.out.println("bundle " + bundle.dir() + ": " + m.name() + ", step " + m.step());
      describe(family, m.config());
      BundleManifest.Provenance p = m.provenance();
      if (p != null) {
        System.out.println("made by: " + p.command());
        System.out.println("data: " + p.data() + ", seed " + p.seed() + ", created " + p.created() + " with genzoo "
            + p.genzooVersion());
        if (p.parent() != null) {
          System.out.println("fine-tuned from: " + p.parent().name() + " (model.json sha256 " + p.parent().sha256()
              + ")");
        }
      }
      if (!m.metrics().isEmpty() || entry != null && !entry.published().isEmpty()) {
        System.out.println("measured:");
        for (Map.Entry<String, BundleManifest.Metric> e : m.metrics().entrySet()) {
          System.out.printf("  %-14s %10.4f %-9s %s%n", e.getKey(), e.getValue().value(), e.getValue().unit(),
              e.getValue().protocol());
        }
        if (entry != null && !entry.published().isEmpty()) {
          System.out.println("published (for comparison):");
          for (RegistryEntry.Published pub : entry.published()) {
            System.out.printf("  %-14s %10.4f %-9s %s, %s; %s%n", pub.metric(), pub.value(), pub.unit(), pub.model(),
                pub.reference(), pub.protocol());
          }
        }
      }
    }
    return 0;
  }

  private void describe(ModelFamily family, JsonNode config) {
    System.out.println(family.describe(config));
    try (GenerativeModel model = family.create(config, ModelOptions.inference().withRuntime(runtime.options()))) {
      System.out.println("parameters: " + Format.count(model.parameterCount()));
    }
    if (json) {
      System.out.println(config.toPrettyString());
    }
  }

  private static boolean isFamily(String name) {
    return Families.all().stream().anyMatch(f -> f.name().equals(name));
  }
}
