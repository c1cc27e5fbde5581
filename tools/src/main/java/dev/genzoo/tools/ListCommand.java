package dev.genzoo.tools;

import dev.genzoo.zoo.RegistryEntry;
import dev.genzoo.zoo.Zoo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "list", description = "Models in the registry: name, family, data, status, size, published metric.")
final class ListCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.printf("%-18s %-7s %-16s %-17s %9s  %s%n", "NAME", "FAMILY", "DATA", "STATUS", "SIZE",
        "PUBLISHED (genzoo info NAME: measured)");
    for (RegistryEntry e : Zoo.list()) {
      String published = e.published().isEmpty() ? "-" : e.published().get(0).metric() + " "
          + e.published().get(0).value() + " (" + e.published().get(0).model() + ")";
      long size = 0;
      boolean unpinned = false;
      for (RegistryEntry.FileRef f : e.files()) {
        size += f.size();
        unpinned |= f.sha256() == null;
      }
      String status = e.status() + (unpinned ? " (unpinned)" : "");
      System.out.printf("%-18s %-7s %-16s %-17s %9s  %s%n", e.name(), e.family(), e.data(), status,
          e.files().isEmpty() ? "-" : size == 0 ? "?" : Format.bytes(size), published);
    }
    return 0;
  }
}
