package dev.genzoo.checkpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** Manifests, bundles and hand-made archives for the bundle tests. */
final class BundleTestSupport {
  static final String INDEX = "variables.index";
  static final String DATA = "variables.data-00000-of-00001";

  private BundleTestSupport() {}

  static JsonNode config() {
    try {
      return new ObjectMapper().readTree("{\"kind\": \"glow\", \"levels\": 3, \"steps_per_level\": 8,"
          + " \"hidden\": [32, 32], \"temperature\": 0.7, \"actnorm\": true}");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static BundleManifest.Provenance provenance() {
    return new BundleManifest.Provenance("genzoo train flow --preset tiny --data toy:moons --steps 200",
        "toy:moons", 42L, null, Instant.parse("2024-06-01T08:30:15.123Z"), "0.1.0",
        Map.of("machine", "test", "commit", "abc123"));
  }

  static BundleManifest manifest(String name) {
    return BundleManifest.of(name, "flow", config(), 200, provenance(),
        Map.of("bpd_test", new BundleManifest.Metric(3.35, "bits/dim", "exact, 10000 test images, EMA weights")));
  }

  static byte[] randomBytes(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Contents of the standard test bundle: random (incompressible) checkpoint bytes and two other files. */
  static Map<String, byte[]> contents() {
    return Map.of(
        INDEX, randomBytes(1, 1500),
        DATA, randomBytes(2, 300_000),
        "samples.png", randomBytes(3, 2048),
        "logs/train.txt", "step 200 loss 1.234\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Writes the standard test bundle to {@code dir} and returns the manifest written. */
  static BundleManifest writeBundle(Path dir, String name) throws IOException {
    return Bundles.write(dir, manifest(name), false, tmp -> writeFiles(tmp, contents()));
  }

  static void writeFiles(Path dir, Map<String, byte[]> files) throws IOException {
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      Path p = dir.resolve(e.getKey());
      Files.createDirectories(p.getParent());
      Files.write(p, e.getValue());
    }
  }

  /** Every path under {@code root} (relative, sorted), to compare a folder tree before and after an operation. */
  static TreeSet<String> snapshot(Path root) throws IOException {
    TreeSet<String> all = new TreeSet<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.forEach(p -> all.add(root.relativize(p).toString()));
    }
    return all;
  }

  @FunctionalInterface
  interface TarBody {
    void write(TarArchiveOutputStream tar) throws IOException;
  }

  /** Writes a hand-made .tar.gz; the entries are whatever {@code body} puts, with no checks. */
  static void craft(Path out, TarBody body) throws IOException {
    try (OutputStream file = Files.newOutputStream(out);
         GzipCompressorOutputStream gz = new GzipCompressorOutputStream(file);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(gz, "UTF-8")) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      body.write(tar);
    }
  }

  /** A regular file entry; a name starting with '/' is kept absolute in the header. */
  static void file(TarArchiveOutputStream tar, String name, byte[] body) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setSize(body.length);
    tar.putArchiveEntry(e);
    tar.write(body);
    tar.closeArchiveEntry();
  }

  /** An entry of type {@code linkFlag} (link, device, fifo, folder) with no data. */
  static void special(TarArchiveOutputStream tar, String name, byte linkFlag, String linkName) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, linkFlag, true);
    if (linkName != null) {
      e.setLinkName(linkName);
    }
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
  }

  /** Puts every file of a bundle folder into {@code tar} under {@code prefix} ("" for flat). */
  static void addFolder(TarArchiveOutputStream tar, Path dir, String prefix) throws IOException {
    for (Map.Entry<String, Path> e : BundleFolder.regularFiles(dir).entrySet()) {
      file(tar, prefix + e.getKey(), Files.readAllBytes(e.getValue()));
    }
  }
}
