package dev.genzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.checkpoints.UnpackLimits;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Defensive extraction of zip and tar.gz archives: the good ones extract, the unsafe ones write nothing. */
class ArchivesTest {
  private static final UnpackLimits SMALL = new UnpackLimits(10_000, 25_000, 20);

  @TempDir
  Path root;

  private Path work;
  private Path target;

  @BeforeEach
  void dirs() throws IOException {
    work = Files.createDirectories(root.resolve("work"));
    target = work.resolve("out");
  }

  /** One archive entry to write. */
  private record E(String name, byte[] data, byte tarType, int unixMode, String link) {
    static E file(String name, String text) {
      return new E(name, text.getBytes(StandardCharsets.UTF_8), TarConstants.LF_NORMAL, 0100644, null);
    }

    static E file(String name, byte[] data) {
      return new E(name, data, TarConstants.LF_NORMAL, 0100644, null);
    }

    static E dir(String name) {
      return new E(name, new byte[0], TarConstants.LF_DIR, 040755, null);
    }

    static E symlink(String name, String to) {
      return new E(name, to.getBytes(StandardCharsets.UTF_8), TarConstants.LF_SYMLINK, 0120777, to);
    }
  }

  private Path zip(String fileName, E... entries) throws IOException {
    Path p = root.resolve(fileName);
    try (ZipArchiveOutputStream z = new ZipArchiveOutputStream(p)) {
      for (E e : entries) {
        ZipArchiveEntry ze = new ZipArchiveEntry(e.name());
        ze.setUnixMode(e.unixMode());
        z.putArchiveEntry(ze);
        z.write(e.data());
        z.closeArchiveEntry();
      }
    }
    return p;
  }

  private Path tarGz(String fileName, E... entries) throws IOException {
    Path p = root.resolve(fileName);
    try (OutputStream out = Files.newOutputStream(p);
         GzipCompressorOutputStream gz = new GzipCompressorOutputStream(out);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (E e : entries) {
        TarArchiveEntry te = e.tarType() == TarConstants.LF_NORMAL || e.tarType() == TarConstants.LF_DIR
            ? new TarArchiveEntry(e.name(), true) : new TarArchiveEntry(e.name(), e.tarType(), true);
        if (e.link() != null) {
          te.setLinkName(e.link());
        }
        if (e.tarType() == TarConstants.LF_NORMAL) {
          te.setSize(e.data().length);
        }
        tar.putArchiveEntry(te);
        if (e.tarType() == TarConstants.LF_NORMAL) {
          tar.write(e.data());
        }
        tar.closeArchiveEntry();
      }
    }
    return p;
  }

  /** Nothing was written: the work folder is as empty as before, and no stray file appeared next to it. */
  private void assertNothingWritten(IOException e, String... words) throws IOException {
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' in: " + e.getMessage());
    }
    try (Stream<Path> s = Files.list(work)) {
      assertEquals(List.of(), s.toList(), "the extraction left something behind");
    }
    try (Stream<Path> s = Files.walk(root)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("evil")), "an evil file was written");
    }
  }

  @Test
  void goodZipAndTarGzExtractWithTheirFolders() throws IOException {
    E[] entries = {E.dir("ckpt/"), E.file("ckpt/model.ckpt.index", "index"),
        E.file("ckpt/sub/model.ckpt.data-00000-of-00001", "data"), E.file("./README", "readme")};
    for (Path archive : List.of(zip("a.zip", entries), tarGz("a.tgz", entries))) {
      Path out = work.resolve("x-" + archive.getFileName());
      List<String> files = Archives.extract(archive, out, UnpackLimits.DEFAULT);
      assertEquals(List.of("README", "ckpt/model.ckpt.index", "ckpt/sub/model.ckpt.data-00000-of-00001"), files);
      assertEquals("index", Files.readString(out.resolve("ckpt/model.ckpt.index")));
      assertEquals("data", Files.readString(out.resolve("ckpt/sub/model.ckpt.data-00000-of-00001")));
      assertEquals("readme", Files.readString(out.resolve("README")));
    }
    try (Stream<Path> s = Files.list(work)) {
      assertEquals(2, s.count(), "no temporaries left");
    }
    assertEquals(Archives.Format.ZIP, Archives.detect(root.resolve("a.zip")));
    assertEquals(Archives.Format.TAR_GZ, Archives.detect(root.resolve("a.tgz")));
  }

  @Test
  void dotDotIsRefused() throws IOException {
    for (Path a : List.of(zip("dd.zip", E.file("ok.txt", "fine"), E.file("../evil.txt", "pwned")),
        tarGz("dd.tar.gz", E.file("ok.txt", "fine"), E.file("sub/../../evil.txt", "pwned")))) {
      IOException e = assertThrows(IOException.class, () -> Archives.extract(a, target, UnpackLimits.DEFAULT));
      assertNothingWritten(e, a.toString(), "evil.txt", "'..'");
    }
  }

  @Test
  void absolutePathsAreRefused() throws IOException {
    Path outside = root.resolve("evil-absolute.txt");
    for (Path a : List.of(zip("abs.zip", E.file(outside.toString(), "pwned")),
        tarGz("abs.tar.gz", E.file(outside.toString(), "pwned")), zip("drive.zip", E.file("C:/evil.txt", "x")))) {
      IOException e = assertThrows(IOException.class, () -> Archives.extract(a, target, UnpackLimits.DEFAULT));
      assertNothingWritten(e, a.toString(), "refusing");
      assertFalse(Files.exists(outside));
    }
  }

  @Test
  void linksAndDevicesAreRefused() throws IOException {
    Path zipLink = zip("link.zip", E.symlink("evil-link", root.toString()), E.file("evil-link/evil.txt", "x"));
    assertNothingWritten(assertThrows(IOException.class,
        () -> Archives.extract(zipLink, target, UnpackLimits.DEFAULT)), "evil-link", "symbolic link");

    Path tarLink = tarGz("link.tar.gz", E.symlink("evil-link", root.toString()), E.file("evil-link/evil.txt", "x"));
    assertNothingWritten(assertThrows(IOException.class,
        () -> Archives.extract(tarLink, target, UnpackLimits.DEFAULT)), "evil-link", "symbolic link");

    Path hard = tarGz("hard.tar.gz", new E("evil-hard", new byte[0], TarConstants.LF_LINK, 0, "/etc/passwd"));
    assertNothingWritten(assertThrows(IOException.class,
        () -> Archives.extract(hard, target, UnpackLimits.DEFAULT)), "evil-hard", "hard link");

    Path dev = tarGz("dev.tar.gz", new E("evil-dev", new byte[0], TarConstants.LF_CHR, 0, null));
    assertNothingWritten(assertThrows(IOException.class,
        () -> Archives.extract(dev, target, UnpackLimits.DEFAULT)), "evil-dev", "device");

    Path zipDev = zip("dev.zip", new E("evil-dev", new byte[0], TarConstants.LF_CHR, 0020644, null));
    assertNothingWritten(assertThrows(IOException.class,
        () -> Archives.extract(zipDev, target, UnpackLimits.DEFAULT)), "evil-dev", "device");
  }

  @Test
  void entriesOverTheLimitsAreRefused() throws IOException {
    byte[] big = new byte[10_001];
    for (Path a : List.of(zip("big.zip", E.file("evil-big", big)), tarGz("big.tgz", E.file("evil-big", big)))) {
      assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(a, target, SMALL)),
          "evil-big", "per-entry limit");
    }
    // A zip bomb: 50 MB of zeros in about 50 KB; refused after reading just over the 10,000-byte limit.
    Path bomb = zip("bomb.zip", E.file("evil-bomb", new byte[50 << 20]));
    assertTrue(Files.size(bomb) < 100_000);
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(bomb, target, SMALL)),
        "per-entry limit");

    byte[] nine = new byte[9_000];
    Path total = tarGz("total.tgz", E.file("a", nine), E.file("b", nine), E.file("evil-c", nine));
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(total, target, SMALL)),
        "total limit", "evil-c");

    E[] many = new E[21];
    for (int i = 0; i < many.length; i++) {
      many[i] = E.file("f" + i, "x");
    }
    Path count = zip("many.zip", many);
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(count, target, SMALL)),
        "more than 20 entries");
  }

  /** A zip whose headers understate an entry's size: the bytes actually inflated count, not the declared size. */
  @Test
  void theActualBytesCountNotTheDeclaredSize() throws IOException {
    Path a = zip("lies.zip", E.file("evil-lies", new byte[20_000]));
    byte[] b = Files.readAllBytes(a);
    int patched = 0;
    for (int i = 0; i + 4 <= b.length; i++) {
      // local file header: uncompressed size at offset 22; central directory header: at offset 24
      if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 3 && b[i + 3] == 4) {
        putInt(b, i + 22, 100);
        patched++;
      } else if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 1 && b[i + 3] == 2) {
        putInt(b, i + 24, 100);
        patched++;
      }
    }
    assertEquals(2, patched);
    Files.write(a, b);
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(a, target, SMALL)),
        "evil-lies", "per-entry limit");
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(a, target, UnpackLimits.DEFAULT)),
        "evil-lies", "20000", "100");
  }

  private static void putInt(byte[] b, int at, int v) {
    for (int k = 0; k < 4; k++) {
      b[at + k] = (byte) (v >>> (8 * k));
    }
  }

  @Test
  void duplicatesTruncationAndNonArchivesAreRefused() throws IOException {
    Path dup = tarGz("dup.tgz", E.file("same", "1"), E.file("same", "2"));
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(dup, target, UnpackLimits.DEFAULT)),
        "appears twice");

    Path good = tarGz("good.tgz", E.file("a", new byte[5000]), E.file("b", "x"));
    byte[] all = Files.readAllBytes(good);
    Path cut = root.resolve("cut.tgz");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    assertNothingWritten(assertThrows(IOException.class, () -> Archives.extract(cut, target, UnpackLimits.DEFAULT)),
        "cut.tgz", "truncated or corrupt");

    Path text = root.resolve("notes.zip");
    Files.writeString(text, "not an archive");
    assertNothingWritten(assertThrows(IOException.class,
        () -> Archives.extract(text, target, UnpackLimits.DEFAULT)), "notes.zip", "neither a zip");
  }

  @Test
  void anExistingTargetIsLeftAlone() throws IOException {
    Files.createDirectories(target);
    Files.writeString(target.resolve("keep"), "mine");
    Path a = zip("a.zip", E.file("keep", "theirs"));
    assertThrows(FileAlreadyExistsException.class, () -> Archives.extract(a, target, UnpackLimits.DEFAULT));
    assertArrayEquals("mine".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target.resolve("keep")));
  }
}
