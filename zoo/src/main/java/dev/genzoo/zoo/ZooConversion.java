package dev.genzoo.zoo;

import dev.genzoo.checkpoints.convert.Converters;
import dev.genzoo.checkpoints.convert.ModelConverter;
import dev.genzoo.graphs.Families;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Turns a registry entry's upstream files (already fetched and verified) into a cached genzoo bundle with the
 * entry's converter. The files are gathered under their registry names in a temporary folder beside the target
 * (hard links where the file system allows, copies otherwise), because a TF checkpoint's {@code .index} and
 * {@code .data-*} files must sit side by side; the first file of the entry is the checkpoint the converter opens.
 */
final class ZooConversion {
  private ZooConversion() {}

  /**
   * Converts into {@code targetDir}, which appears atomically (nothing is left behind on failure).
   *
   * @param filesByName the verified files of the entry, by {@link RegistryEntry.FileRef#name()}
   */
  static void convert(RegistryEntry entry, Map<String, Path> filesByName, Path targetDir) throws IOException {
    ModelConverter converter = Converters.get(entry.source().converter());
    if (!converter.family().equals(entry.family())) {
      throw new IllegalArgumentException("registry entry " + entry.name() + " is of family " + entry.family()
          + " but its converter " + converter.name() + " produces " + converter.family());
    }
    Files.createDirectories(targetDir.getParent());
    Path work = Files.createTempDirectory(targetDir.getParent(), ".tmp-" + targetDir.getFileName());
    try {
      for (RegistryEntry.FileRef f : entry.files()) {
        Path src = filesByName.get(f.name());
        if (src == null) {
          throw new IllegalStateException("file " + f.name() + " of " + entry.name() + " was not fetched");
        }
        Path link = work.resolve(f.name());
        try {
          Files.createLink(link, src);
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(src, link);
        }
      }
      Path checkpoint = work.resolve(entry.files().get(0).name());
      var requested = entry.config() != null ? entry.config()
          : entry.preset() == null ? null : Families.get(entry.family()).preset(entry.preset());
      Converters.toBundle(converter, checkpoint, requested, entry.name(), targetDir, false,
          "genzoo convert " + converter.name() + " " + entry.files().get(0).uri());
    } finally {
      AtomicFiles.deleteRecursively(work);
    }
  }
}
