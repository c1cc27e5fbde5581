package dev.genzoo.checkpoints;

import static dev.genzoo.checkpoints.BundleTestSupport.craft;
import static dev.genzoo.checkpoints.BundleTestSupport.file;
import static dev.genzoo.checkpoints.BundleTestSupport.snapshot;
import static dev.genzoo.checkpoints.BundleTestSupport.special;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile archives: each must fail with a message naming the archive and the entry, before anything is written
 * outside the extraction's temporary folder, and leave no target and no temporary folder behind.
 */
class UnpackSafetyTest {
  private static final byte[] SMALL = "x".getBytes(StandardCharsets.UTF_8);
  /** A unique absolute path, so that the test can check that nothing was written there. */
  private static final String ABSOLUTE = "/tmp/genzoo-abs-" + UUID.randomUUID() + ".txt";
  private static final UnpackLimits SMALL_LIMITS = new UnpackLimits(1024, 4096, 5);

  static Stream<Arguments> hostileArchives() {
    return Stream.of(
        hostile("parent segment", tar -> file(tar, "../evil.txt", SMALL),
            "refusing entry '../evil.txt': it has a '..' segment", "evil.txt"),
        hostile("absolute path", tar -> file(tar, ABSOLUTE, SMALL),
            "refusing entry '" + ABSOLUTE + "': it is an absolute path", null),
        hostile("parent segment in the middle", tar -> file(tar, "a/../../evil", SMALL),
            "refusing entry 'a/../../evil': it has a '..' segment", "evil"),
        hostile("backslash", tar -> file(tar, "..\\evil.txt", SMALL),
            "refusing entry '..\\evil.txt': it contains a backslash", "..\\evil.txt"),
        hostile("drive letter", tar -> file(tar, "C:/evil.txt", SMALL),
            "refusing entry 'C:/evil.txt': it starts with a drive letter", null),
        hostile("symbolic link", tar -> special(tar, "variables.index", TarConstants.LF_SYMLINK, "/etc/passwd"),
            "refusing entry 'variables.index': it is a symbolic link (to '/etc/passwd')", null),
        hostile("symbolic link to a folder", tar -> {
          special(tar, "up", TarConstants.LF_SYMLINK, "..");
          file(tar, "up/evil.txt", SMALL);
        }, "refusing entry 'up': it is a symbolic link", "evil.txt"),
        hostile("hard link", tar -> special(tar, "variables.index", TarConstants.LF_LINK, "../../etc/passwd"),
            "refusing entry 'variables.index': it is a hard link", null),
        hostile("fifo", tar -> special(tar, "pipe", TarConstants.LF_FIFO, null), "refusing entry 'pipe': it is a fifo",
            null),
        hostile("character device", tar -> special(tar, "null", TarConstants.LF_CHR, null),
            "refusing entry 'null': it is a device file", null),
        hostile("duplicate", tar -> {
          file(tar, "model.json", SMALL);
          file(tar, "./model.json", SMALL);
        }, "refusing entry './model.json': it appears twice", null),
        hostile("file under a file", tar -> {
          file(tar, "a", SMALL);
          file(tar, "a/b", SMALL);
        }, "refusing entry 'a/b': it lies under 'a', which is a file", null),
        hostile("oversize entry", tar -> file(tar, "variables.data-00000-of-00001", new byte[2000]),
            "entry 'variables.data-00000-of-00001' is 2000 bytes, more than the per-entry limit of 1024 bytes",
            null),
        hostile("total too large", tar -> {
          for (int i = 0; i < 5; i++) {
            file(tar, "part" + i, new byte[1000]);
          }
          // 100 bytes of samples.png + 4 * 1000 = 4100 > 4096: the fourth part crosses the limit.
        }, "expands to more than 4096 bytes (the total limit), at entry 'part3'", null),
        hostile("huge PAX record", tar -> {
          // A PAX extended header (POSIX.1-2001 pax format) of 2 MiB, "<length> comment=<value>\n", before a file.
          String value = "a".repeat(2 << 20);
          String tail = " comment=" + value + "\n";
          int length = tail.length() + 7;
          byte[] record = (length + tail).getBytes(StandardCharsets.US_ASCII);
          org.apache.commons.compress.archivers.tar.TarArchiveEntry pax =
              new org.apache.commons.compress.archivers.tar.TarArchiveEntry("PaxHeader/x",
                  TarConstants.LF_PAX_EXTENDED_HEADER_LC);
          pax.setSize(record.length);
          tar.putArchiveEntry(pax);
          tar.write(record);
          tar.closeArchiveEntry();
          file(tar, "x", SMALL);
        }, "decompresses to more than " + TarGz.decompressedCap(SMALL_LIMITS) + " bytes", null),
        hostile("too many entries", tar -> {
          for (int i = 0; i < 6; i++) {
            file(tar, "f" + i, SMALL);
          }
        }, "has more than 5 entries (the limit)", null));
  }

  private static Arguments hostile(String what, BundleTestSupport.TarBody body, String message, String escapee) {
    return Arguments.of(what, body, message, escapee);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileArchives")
  void hostileArchiveIsRefusedAndNothingIsLeft(String what, BundleTestSupport.TarBody body, String message,
      String escapee, @TempDir Path root) throws IOException {
    Path archive = root.resolve("in").resolve("hostile.tar.gz");
    Files.createDirectories(archive.getParent());
    // A harmless first entry, so that the extraction has written something when it meets the hostile one.
    craft(archive, tar -> {
      file(tar, "samples.png", new byte[100]);
      body.write(tar);
    });
    Path parent = root.resolve("cache");
    Files.createDirectories(parent);
    Path target = parent.resolve("bundle");
    Set<String> before = snapshot(root);
    assertFalse(Files.exists(Path.of(ABSOLUTE)));

    BundleException e = assertThrows(BundleException.class,
        () -> Bundles.unpack(archive, target, false, SMALL_LIMITS));
    assertTrue(e.getMessage().startsWith("archive " + archive), e.getMessage());
    assertTrue(e.getMessage().contains(message), e.getMessage());

    assertFalse(Files.exists(target));
    assertEquals(before, snapshot(root), "nothing created or left anywhere under the test folder");
    assertEquals(List.of(), list(parent), "no temporary folder left in the target's parent");
    assertFalse(Files.exists(Path.of(ABSOLUTE)));
    if (escapee != null) {
      // The would-be paths relative to the temporary folder (a sibling of the target), to its parent and above.
      assertFalse(Files.exists(parent.resolve(escapee)));
      assertFalse(Files.exists(root.resolve(escapee)));
      assertFalse(Files.exists(root.getParent().resolve(escapee)));
    }
  }

  /** Commons Compress will not write a folder entry with data, so the tar header is edited by hand (POSIX ustar). */
  @Test
  void folderEntryDeclaringDataIsRefused(@TempDir Path root) throws IOException {
    java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
    try (org.apache.commons.compress.archivers.tar.TarArchiveOutputStream tar =
        new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(raw)) {
      file(tar, "d", new byte[10]);
    }
    byte[] bytes = raw.toByteArray();
    bytes[1] = '/';                               // name "d" -> "d/"
    bytes[156] = TarConstants.LF_DIR;             // typeflag
    java.util.Arrays.fill(bytes, 148, 156, (byte) ' ');
    int sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += bytes[i] & 0xff;
    }
    byte[] checksum = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(checksum, 0, bytes, 148, 6);
    bytes[154] = 0;
    Path archive = root.resolve("folder.tar.gz");
    try (java.io.OutputStream out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(archive))) {
      out.write(bytes);
    }
    Path target = root.resolve("cache").resolve("bundle");
    BundleException e = assertThrows(BundleException.class, () -> Bundles.unpack(archive, target));
    assertTrue(e.getMessage().contains("refusing entry 'd/': it is a folder that declares 10 bytes of data"),
        e.getMessage());
    assertFalse(Files.exists(target.getParent()));
  }

  @Test
  void absolutePathIsRefusedByOpenToo(@TempDir Path root) throws IOException {
    Path archive = root.resolve("abs.tar.gz");
    craft(archive, tar -> file(tar, ABSOLUTE, SMALL));
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(archive));
    assertTrue(e.getMessage().contains("it is an absolute path"), e.getMessage());
    assertFalse(Files.exists(Path.of(ABSOLUTE)));
  }

  @Test
  void defaultLimitsAreTheDocumentedOnes() {
    assertEquals(2L * 1024 * 1024 * 1024, UnpackLimits.DEFAULT.maxEntryBytes());
    assertEquals(8L * 1024 * 1024 * 1024, UnpackLimits.DEFAULT.maxTotalBytes());
    assertEquals(1000, UnpackLimits.DEFAULT.maxEntries());
    assertThrows(IllegalArgumentException.class, () -> new UnpackLimits(0, 1, 1));
  }

  private static List<String> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
