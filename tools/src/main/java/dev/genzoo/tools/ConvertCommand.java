package dev.genzoo.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.Bundles;
import dev.genzoo.checkpoints.convert.ConversionException;
import dev.genzoo.checkpoints.convert.Converters;
import dev.genzoo.checkpoints.convert.ModelConverter;
import dev.genzoo.checkpoints.formats.CheckpointFormat;
import dev.genzoo.checkpoints.formats.Checkpoints;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.graphs.Configs;
import dev.genzoo.graphs.Families;
import dev.genzoo.io.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", description = {
    "Converts an upstream release into a genzoo bundle, or a checkpoint between formats.",
    "  genzoo convert --converter ddpm-tf1 model.ckpt-790000 --out ddpm-cifar10.tar.gz",
    "  genzoo convert checkpoint.pth --to safetensors --out weights.safetensors",
    "  genzoo convert flow-mnist --to npz --out flow-mnist.npz   (a bundle's weights)",
    "Converters: see --list."})
final class ConvertCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "INPUT",
      description = "the upstream checkpoint (TF prefix or .index, .pt/.pth, ...), or a bundle / registry name with --to")
  String input;

  @Option(names = "--converter", paramLabel = "NAME", description = "the upstream release's converter (see --list)")
  String converter;

  @Option(names = "--to", paramLabel = "FORMAT", description = "tf, safetensors, npz or npy: convert the tensors as "
      + "they are, names unchanged")
  String to;

  @Option(names = "--out", paramLabel = "PATH", description = "a bundle (.tar.gz or folder) with --converter; a file "
      + "(a TF prefix for tf) with --to")
  Path out;

  @Option(names = "--name", description = "the bundle's name (default: from --out)")
  String name;

  @Option(names = "--preset", description = "the genzoo preset of the weights (default: the converter's choice, the "
      + "CIFAR-10 preset of the release)")
  String preset;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "config overrides on top of the preset")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--report", description = "print every mapped, ignored and left-over tensor")
  boolean report;

  @Option(names = "--force", description = "replace an existing output")
  boolean force;

  @Option(names = "--list", description = "list the converters")
  boolean list;

  @Override
  public Integer call() throws Exception {
    if (list) {
      for (ModelConverter c : Converters.all()) {
        System.out.printf("%-16s %-6s %s%n", c.name(), c.family(), c.description());
      }
      return 0;
    }
    if (input == null || out == null) {
      throw new IllegalArgumentException("convert needs INPUT and --out (or --list)");
    }
    if ((converter == null) == (to == null)) {
      throw new IllegalArgumentException("give exactly one of --converter NAME (to a genzoo bundle) and --to FORMAT");
    }
    if (to != null) {
      return convertFormat();
    }
    ModelConverter c = Converters.get(converter);
    JsonNode requested = null;
    if (preset != null || !overrides.isEmpty()) {
      var family = Families.get(c.family());
      requested = Configs.override(family.preset(preset != null ? preset : family.presets().get(0)), overrides);
    }
    Path source = Path.of(input);
    boolean archive = out.getFileName().toString().endsWith(".tar.gz");
    String bundleName = name != null ? name
        : out.getFileName().toString().replaceFirst("\\.tar\\.gz$", "").replaceAll("[^A-Za-z0-9._-]", "-");
    String command = "genzoo convert --converter " + converter + " " + source.getFileName()
        + (preset != null ? " --preset " + preset : "") + (overrides.isEmpty() ? "" : " --set "
        + String.join(" --set ", overrides));
    if (!force && Files.exists(out)) {
      throw new IllegalArgumentException(out + " exists (use --force to replace it)");
    }
    BundleManifest m;
    try {
      if (archive) {
        Path dir = Files.createTempDirectory(out.toAbsolutePath().getParent(), ".convert-");
        try {
          m = Converters.toBundle(c, source, requested, bundleName, dir.resolve("bundle"), false, command);
          Bundles.pack(dir.resolve("bundle"), out);
        } finally {
          AtomicFiles.deleteRecursively(dir);
        }
      } else {
        m = Converters.toBundle(c, source, requested, bundleName, out, force, command);
      }
    } catch (ConversionException e) {
      if (report && e.report() != null) {
        System.out.print(e.report().text());
      }
      throw e;
    }
    System.out.println("converted " + source + " with " + c.name() + " -> " + out);
    System.out.println(m.provenance().notes().get("conversion"));
    if (report) {
      System.out.print(Converters.convert(c, source, requested).report().text());
    }
    return 0;
  }

  private int convertFormat() throws Exception {
    CheckpointFormat format = switch (to.toLowerCase(Locale.ROOT)) {
      case "tf", "tf-bundle", "tensorflow" -> CheckpointFormat.TF_BUNDLE;
      case "safetensors" -> CheckpointFormat.SAFETENSORS;
      case "npz" -> CheckpointFormat.NPZ;
      case "npy" -> CheckpointFormat.NPY;
      default -> throw new IllegalArgumentException("--to " + to + ": expected tf, safetensors, npz or npy "
          + "(genzoo reads PyTorch files but does not write them)");
    };
    TensorSet set;
    Path in = Path.of(input);
    if (Files.isDirectory(in) || input.endsWith(".tar.gz") || !Files.exists(in) && !Files.exists(Path.of(input
        + ".index"))) {
      try (Bundle b = dev.genzoo.zoo.Zoo.open(input)) {
        set = Checkpoints.read(b.checkpointPrefix());
      }
    } else {
      set = Checkpoints.read(in);
    }
    if (!force && (Files.exists(out) || Files.exists(Path.of(out + ".index")))) {
      throw new IllegalArgumentException(out + " exists (use --force to replace it)");
    }
    Checkpoints.write(set, out, format);
    System.out.println("wrote " + set.size() + " tensors (" + Format.bytes(set.totalBytes()) + ") to " + out + " as "
        + format);
    return 0;
  }
}
