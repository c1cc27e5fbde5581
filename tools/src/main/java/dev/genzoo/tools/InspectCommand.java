package dev.genzoo.tools;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.BundleManifest;
import dev.genzoo.checkpoints.formats.CheckpointFormat;
import dev.genzoo.checkpoints.formats.Checkpoints;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", description = {"Names, shapes, dtypes and sizes of the tensors in a checkpoint of any "
    + "supported format: a TF checkpoint (prefix or .index), safetensors, PyTorch .pt/.pth (read through an "
    + "allow-list unpickler), .npy/.npz, or a genzoo bundle (folder or .tar.gz)."})
final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE")
  Path file;

  @Option(names = "--filter", paramLabel = "REGEX", description = "only tensors whose name matches (find)")
  String filter;

  @Option(names = "--values", description = "also print min, max and mean of each tensor")
  boolean values;

  @Override
  public Integer call() throws Exception {
    TensorSet set;
    if (Files.isDirectory(file) || file.toString().endsWith(".tar.gz")) {
      try (Bundle b = Bundle.open(file)) {
        BundleManifest m = b.manifest();
        System.out.println("genzoo bundle " + m.name() + ": family " + m.family() + ", step " + m.step()
            + (m.provenance() == null ? "" : ", made by: " + m.provenance().command()));
        set = Checkpoints.read(b.checkpointPrefix());
      }
    } else {
      System.out.println(file + ": " + CheckpointFormat.detect(file));
      set = Checkpoints.read(file);
    }
    java.util.regex.Pattern p = filter == null ? null : java.util.regex.Pattern.compile(filter);
    long count = 0;
    long elements = 0;
    long bytes = 0;
    for (NamedTensor t : set) {
      if (p != null && !p.matcher(t.name()).find()) {
        continue;
      }
      count++;
      elements += t.numElements();
      bytes += t.data().length;
      String line = String.format("%-60s %-5s %-22s %10s", t.name(), t.dtype(), t.shapeString(),
          Format.bytes(t.data().length));
      if (values && t.numElements() > 0) {
        double[] v = t.toDoubles();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        for (double x : v) {
          min = Math.min(min, x);
          max = Math.max(max, x);
          sum += x;
        }
        line += String.format("  min %.4g max %.4g mean %.4g", min, max, sum / v.length);
      }
      System.out.println(line);
    }
    int shown = 0;
    for (Map.Entry<String, String> e : set.metadata().entrySet()) {
      if (++shown > 20) {
        System.out.println("... " + (set.metadata().size() - 20) + " more metadata entries");
        break;
      }
      String v = e.getValue();
      System.out.println("metadata " + e.getKey() + ": " + (v.length() > 200 ? v.substring(0, 200) + "..." : v));
    }
    System.out.println(count + " tensors, " + Format.count(elements) + " elements, " + Format.bytes(bytes));
    return 0;
  }
}
