package dev.genzoo.checkpoints;

import static dev.genzoo.checkpoints.BundleTestSupport.DATA;
import static dev.genzoo.checkpoints.BundleTestSupport.INDEX;
import static dev.genzoo.checkpoints.BundleTestSupport.contents;
import static dev.genzoo.checkpoints.BundleTestSupport.manifest;
import static dev.genzoo.checkpoints.BundleTestSupport.snapshot;
import static dev.genzoo.checkpoints.BundleTestSupport.writeBundle;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundlesTest {
  @TempDir
  Path root;
  Path bundle;
  Path archive;
  BundleManifest written;

  @BeforeEach
  void writeTheTestBundle() throws IOException {
    bundle = root.resolve("src").resolve("flow-tiny");
    archive = root.resolve("flow-tiny.tar.gz");
    written = writeBundle(bundle, "flow-tiny");
  }

  @Test
  void writeRecordsSha256AndSizeOfEveryFile() throws IOException {
    Map<String, byte[]> contents = contents();
    assertEquals(new TreeSet<>(contents.keySet()), new TreeSet<>(written.files().keySet()));
    for (Map.Entry<String, byte[]> e : contents.entrySet()) {
      BundleManifest.FileEntry f = written.files().get(e.getKey());
      assertEquals(e.getValue().length, f.size(), e.getKey());
      assertEquals(Sha256.hex(e.getValue()), f.sha256(), e.getKey());
    }
    assertEquals(written, BundleManifest.read(bundle.resolve("model.json")));
    assertEquals(manifest("flow-tiny").withFiles(written.files()), written);
    // Only the bundle itself is left in the parent: no temporary folder.
    assertEquals(List.of("flow-tiny"), names(bundle.getParent()));
  }

  @Test
  void roundTripWritePackUnpackOpen() throws IOException {
    Bundles.pack(bundle, archive);
    Path target = root.resolve("out").resolve("unpacked");
    BundleManifest unpacked = Bundles.unpack(archive, target);
    assertEquals(written, unpacked);
    try (Bundle b = Bundle.open(target)) {
      assertEquals(written, b.manifest());
      assertEquals(target, b.dir());
      assertEquals(target.resolve("variables"), b.checkpointPrefix());
      assertEquals(Sha256.hex(Files.readAllBytes(bundle.resolve("model.json"))), b.manifestSha256());
      assertFalse(b.isTemporary());
      for (Map.Entry<String, byte[]> e : contents().entrySet()) {
        assertArrayEquals(e.getValue(), Files.readAllBytes(b.file(e.getKey())), e.getKey());
      }
      assertArrayEquals(Files.readAllBytes(bundle.resolve("model.json")), Files.readAllBytes(b.file("model.json")));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.file("missing.png"));
      assertTrue(e.getMessage().contains("no file 'missing.png'"), e.getMessage());
    }
    assertTrue(Files.isDirectory(target), "a folder opened in place is kept on close");
    assertEquals(List.of("unpacked"), names(target.getParent()));
  }

  @Test
  void packIsDeterministic() throws IOException {
    Bundles.pack(bundle, archive);
    byte[] first = Files.readAllBytes(archive);
    // Neither times nor permissions of the files reach the archive.
    for (String name : contents().keySet()) {
      Path p = bundle.resolve(name);
      Files.setLastModifiedTime(p, FileTime.fromMillis(1_000_000_000_000L));
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    }
    Path second = root.resolve("again.tar.gz");
    Bundles.pack(bundle, second);
    assertArrayEquals(first, Files.readAllBytes(second));
  }

  @Test
  void packWritesSortedPlainEntries() throws IOException {
    Bundles.pack(bundle, archive);
    byte[] bytes = Files.readAllBytes(archive);
    // RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS; no FNAME flag, MTIME 0, OS 255 (unknown).
    assertEquals(0x1f, bytes[0] & 0xff);
    assertEquals(0x8b, bytes[1] & 0xff);
    assertEquals(0, bytes[3] & 0x08, "no file name in the gzip header");
    assertArrayEquals(new byte[4], Arrays.copyOfRange(bytes, 4, 8));
    assertEquals(255, bytes[9] & 0xff);
    List<String> names = new ArrayList<>();
    try (InputStream in = Files.newInputStream(archive);
         TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        names.add(e.getName());
        assertTrue(e.isFile(), e.getName());
        assertEquals(0100644, e.getMode(), e.getName());
        assertEquals(0, e.getLastModifiedTime().toMillis(), e.getName());
        assertEquals(0, e.getLongUserId());
        assertEquals(0, e.getLongGroupId());
        assertEquals("", e.getUserName());
        assertEquals("", e.getGroupName());
      }
    }
    List<String> expected = new ArrayList<>(contents().keySet());
    expected.add("model.json");
    expected.sort(null);
    assertEquals(expected, names);
  }

  @Test
  void openArchiveUsesATemporaryFolderDeletedOnClose() throws IOException {
    Bundles.pack(bundle, archive);
    Bundle b = Bundle.open(archive);
    Path dir;
    try {
      assertTrue(b.isTemporary());
      dir = b.dir();
      assertTrue(Files.isRegularFile(dir.resolve("model.json")));
      assertEquals(written, b.manifest());
      assertArrayEquals(contents().get(DATA), Files.readAllBytes(b.file(DATA)));
    } finally {
      b.close();
    }
    assertThrows(IllegalStateException.class, b::dir);
    b.close();
    assertFalse(Files.exists(dir));
    assertFalse(Files.exists(dir.getParent()));
  }

  @Test
  void openArchiveIntoANamedFolderKeepsIt() throws IOException {
    Bundles.pack(bundle, archive);
    Path target = root.resolve("cache").resolve("flow-tiny");
    try (Bundle b = Bundle.openArchive(archive, target, false, UnpackLimits.DEFAULT)) {
      assertFalse(b.isTemporary());
      assertEquals(target.toAbsolutePath(), b.dir());
    }
    assertTrue(Files.isRegularFile(target.resolve(DATA)));
  }

  @Test
  void flippedByteInCheckpointDataIsAChecksumError() throws IOException {
    byte[] data = Files.readAllBytes(bundle.resolve(DATA));
    data[123_456] ^= 0x01;
    Files.write(bundle.resolve(DATA), data);
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(e.getMessage().contains("file '" + DATA + "' checksum mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains(written.files().get(DATA).sha256()), "expected digest named");
    assertTrue(e.getMessage().contains(Sha256.hex(data)), "found digest named");
    // A damaged bundle is never packed, and no archive (or temporary) is left.
    BundleException packed = assertThrows(BundleException.class, () -> Bundles.pack(bundle, archive));
    assertTrue(packed.getMessage().contains("checksum mismatch"), packed.getMessage());
    assertEquals(List.of("src"), names(root));
  }

  @Test
  void manifestWithAWrongSha256IsAChecksumError() throws IOException {
    String wrong = Sha256.hex("something else".getBytes(StandardCharsets.UTF_8));
    String text = Files.readString(bundle.resolve("model.json"));
    Files.writeString(bundle.resolve("model.json"), text.replace(written.files().get(INDEX).sha256(), wrong));
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(e.getMessage().contains("file '" + INDEX + "' checksum mismatch: model.json says sha256 " + wrong
        + ", found " + written.files().get(INDEX).sha256()), e.getMessage());
  }

  @Test
  void sizeMismatchNamesBothSizes() throws IOException {
    Files.write(bundle.resolve("samples.png"), new byte[] {7}, java.nio.file.StandardOpenOption.APPEND);
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(e.getMessage().contains("file 'samples.png' size mismatch: model.json says 2048 bytes, found 2049"),
        e.getMessage());
  }

  @Test
  void missingAndUnlistedFilesAreErrors() throws IOException {
    Files.move(bundle.resolve("samples.png"), root.resolve("aside.png"));
    BundleException missing = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(missing.getMessage().contains("file 'samples.png' is listed in model.json but missing"),
        missing.getMessage());
    Files.move(root.resolve("aside.png"), bundle.resolve("samples.png"));
    Files.writeString(bundle.resolve("extra.txt"), "not listed");
    BundleException unlisted = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(unlisted.getMessage().contains("file 'extra.txt' is not listed in model.json"),
        unlisted.getMessage());
  }

  @Test
  void symbolicLinkInAFolderIsAnError() throws IOException {
    Files.createSymbolicLink(bundle.resolve("link.png"), bundle.resolve("samples.png"));
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(e.getMessage().contains("'link.png' is a symbolic link"), e.getMessage());
  }

  @Test
  void aBundleFolderReachedThroughALinkOpens() throws IOException {
    Path link = Files.createSymbolicLink(root.resolve("link"), bundle);
    try (Bundle b = Bundle.open(link)) {
      assertEquals(written, b.manifest());
      assertEquals(bundle.toRealPath(), b.dir());
    }
  }

  @Test
  void unknownFormatVersionInAFolderNamesModelJson() throws IOException {
    Path manifestFile = bundle.resolve("model.json");
    Files.writeString(manifestFile, Files.readString(manifestFile)
        .replace("\"format_version\": 1", "\"format_version\": 7"));
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(bundle));
    assertTrue(e.getMessage().startsWith(manifestFile + ": format_version 7 is not supported"), e.getMessage());
  }

  @Test
  void writeRefusesAnExistingTargetBeforeRunningTheFiller() throws IOException {
    AtomicBoolean ran = new AtomicBoolean();
    assertThrows(FileAlreadyExistsException.class, () -> Bundles.write(bundle, manifest("flow-tiny"), false,
        tmp -> ran.set(true)));
    assertFalse(ran.get());
    assertEquals(written, BundleManifest.read(bundle.resolve("model.json")));
  }

  @Test
  void writeReplacesWhenAsked() throws IOException {
    Map<String, byte[]> files = Map.of(INDEX, new byte[] {1, 2, 3}, DATA, new byte[] {4, 5});
    BundleManifest second = Bundles.write(bundle, manifest("flow-tiny"), true,
        tmp -> BundleTestSupport.writeFiles(tmp, files));
    assertEquals(Set.of(INDEX, DATA), second.files().keySet());
    assertFalse(Files.exists(bundle.resolve("samples.png")));
    try (Bundle b = Bundle.open(bundle)) {
      assertEquals(second, b.manifest());
    }
    assertEquals(List.of("flow-tiny"), names(bundle.getParent()));
  }

  @Test
  void writeChecksWhatTheFillerWrote() throws IOException {
    Path target = root.resolve("new").resolve("b");
    BundleException noIndex = assertThrows(BundleException.class, () -> Bundles.write(target, manifest("b"), false,
        tmp -> Files.write(tmp.resolve(DATA), new byte[8])));
    assertTrue(noIndex.getMessage().contains("no variables.index"), noIndex.getMessage());
    BundleException noData = assertThrows(BundleException.class, () -> Bundles.write(target, manifest("b"), false,
        tmp -> Files.write(tmp.resolve(INDEX), new byte[8])));
    assertTrue(noData.getMessage().contains("variables.data-00000-of-0000N"), noData.getMessage());
    BundleException missingShard = assertThrows(BundleException.class, () -> Bundles.write(target, manifest("b"),
        false, tmp -> {
          Files.write(tmp.resolve(INDEX), new byte[8]);
          Files.write(tmp.resolve("variables.data-00001-of-00002"), new byte[8]);
        }));
    assertTrue(missingShard.getMessage().contains("variables.data-00000-of-00002 is missing"),
        missingShard.getMessage());
    BundleException ownManifest = assertThrows(BundleException.class, () -> Bundles.write(target, manifest("b"),
        false, tmp -> {
          BundleTestSupport.writeFiles(tmp, contents());
          Files.writeString(tmp.resolve("model.json"), "{}");
        }));
    assertTrue(ownManifest.getMessage().contains("the filler wrote model.json"), ownManifest.getMessage());
    assertThrows(IOException.class, () -> Bundles.write(target, manifest("b"), false, tmp -> {
      Files.write(tmp.resolve(INDEX), new byte[8]);
      throw new IOException("disk full");
    }));
    IllegalArgumentException withFiles = assertThrows(IllegalArgumentException.class,
        () -> Bundles.write(target, written, false, tmp -> { }));
    assertTrue(withFiles.getMessage().contains("pass a manifest with no files"), withFiles.getMessage());
    // Nothing of the failed writes is left: no target, no temporary sibling.
    assertEquals(List.of(), names(target.getParent()));
  }

  @Test
  void unpackIntoAnExistingTargetIsRefusedUnlessReplaceIsAsked() throws IOException {
    Bundles.pack(bundle, archive);
    Path target = root.resolve("out").resolve("t");
    Files.createDirectories(target);
    Files.writeString(target.resolve("keep.txt"), "mine");
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> Bundles.unpack(archive, target));
    assertTrue(e.getMessage().contains("pass replace=true"), e.getMessage());
    assertEquals("mine", Files.readString(target.resolve("keep.txt")));
    assertEquals(List.of("t"), names(target.getParent()));

    BundleManifest m = Bundles.unpack(archive, target, true, UnpackLimits.DEFAULT);
    assertEquals(written, m);
    assertFalse(Files.exists(target.resolve("keep.txt")));
    assertArrayEquals(contents().get(DATA), Files.readAllBytes(target.resolve(DATA)));
    assertEquals(List.of("t"), names(target.getParent()));
  }

  @Test
  void failedReplaceLeavesTheOldTargetIntact() throws IOException {
    Path target = root.resolve("out").resolve("t");
    Files.createDirectories(target);
    Files.writeString(target.resolve("keep.txt"), "mine");
    Path bad = root.resolve("bad.tar.gz");
    BundleTestSupport.craft(bad, tar -> BundleTestSupport.file(tar, "../evil.txt", new byte[3]));
    assertThrows(BundleException.class, () -> Bundles.unpack(bad, target, true, UnpackLimits.DEFAULT));
    assertEquals("mine", Files.readString(target.resolve("keep.txt")));
    assertEquals(List.of("t"), names(target.getParent()));
  }

  @Test
  void truncatedArchiveIsAClearErrorAndLeavesNothing() throws IOException {
    Bundles.pack(bundle, archive);
    byte[] full = Files.readAllBytes(archive);
    for (int length : new int[] {full.length / 2, full.length - 4, 10, 0}) {
      Path cut = root.resolve("cut-" + length + ".tar.gz");
      Files.write(cut, Arrays.copyOf(full, length));
      Path target = root.resolve("out").resolve("t");
      Set<String> before = snapshot(root);
      BundleException e = assertThrows(BundleException.class, () -> Bundles.unpack(cut, target),
          "truncated to " + length);
      assertTrue(e.getMessage().startsWith("archive " + cut + " is truncated or corrupt"), e.getMessage());
      assertFalse(Files.exists(target));
      assertEquals(before, snapshot(root), "truncated to " + length);
    }
  }

  @Test
  void corruptArchiveIsAClearError() throws IOException {
    Bundles.pack(bundle, archive);
    byte[] bytes = Files.readAllBytes(archive);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(archive, bytes);
    Path target = root.resolve("out").resolve("t");
    BundleException e = assertThrows(BundleException.class, () -> Bundles.unpack(archive, target));
    assertTrue(e.getMessage().startsWith("archive " + archive + " is truncated or corrupt"), e.getMessage());
    assertFalse(Files.exists(target));
    assertFalse(Files.exists(target.getParent()), "the parent folder the unpack created is removed again");

    Files.writeString(archive, "model.json is not an archive");
    BundleException notGzip = assertThrows(BundleException.class, () -> Bundle.open(archive));
    assertTrue(notGzip.getMessage().contains("not a gzip file"), notGzip.getMessage());
  }

  /** The tar end sits long before the gzip end: the gzip trailer (CRC-32, RFC 1952) must still be checked. */
  @Test
  void damagedGzipTrailerAfterTarPaddingIsDetected() throws IOException {
    Bundles.pack(bundle, archive);
    byte[] tar;
    try (InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(archive))) {
      tar = in.readAllBytes();
    }
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write(tar);
      out.write(new byte[200_000]);
    }
    byte[] bytes = gz.toByteArray();
    Path padded = root.resolve("padded.tar.gz");
    Files.write(padded, bytes);
    assertEquals(written, Bundles.unpack(padded, root.resolve("ok")), "intact padding is accepted");
    bytes[bytes.length - 8] ^= 0x01;
    Files.write(padded, bytes);
    Path target = root.resolve("out").resolve("t");
    BundleException e = assertThrows(BundleException.class, () -> Bundles.unpack(padded, target));
    assertTrue(e.getMessage().startsWith("archive " + padded + " is truncated or corrupt"), e.getMessage());
    assertFalse(Files.exists(target.getParent()));
  }

  @Test
  void archiveWithADamagedFileFailsVerificationBeforeItIsMovedIntoPlace() throws IOException {
    byte[] data = Files.readAllBytes(bundle.resolve(DATA));
    data[0] ^= 0x01;
    byte[] flipped = data;
    BundleTestSupport.craft(archive, tar -> {
      for (Map.Entry<String, Path> e : BundleFolder.regularFiles(bundle).entrySet()) {
        BundleTestSupport.file(tar, e.getKey(), e.getKey().equals(DATA) ? flipped : Files.readAllBytes(e.getValue()));
      }
    });
    Path target = root.resolve("out").resolve("t");
    BundleException e = assertThrows(BundleException.class, () -> Bundles.unpack(archive, target));
    assertTrue(e.getMessage().contains("file '" + DATA + "' checksum mismatch"), e.getMessage());
    assertFalse(Files.exists(target));
    assertEquals(List.of(), names(target.getParent()));
  }

  @Test
  void archiveUnderOneTopLevelFolderIsHoisted() throws IOException {
    // An inner folder with the top folder's own name exercises the rename-before-hoist path.
    Path nested = root.resolve("src").resolve("nested");
    Map<String, byte[]> files = new java.util.HashMap<>(contents());
    files.put("flow/flow.txt", "inner".getBytes(StandardCharsets.UTF_8));
    BundleManifest m = Bundles.write(nested, manifest("flow"), false, tmp -> BundleTestSupport.writeFiles(tmp, files));
    BundleTestSupport.craft(archive, tar -> {
      BundleTestSupport.special(tar, "flow/", org.apache.commons.compress.archivers.tar.TarConstants.LF_DIR, null);
      BundleTestSupport.addFolder(tar, nested, "flow/");
    });
    Path target = root.resolve("out").resolve("t");
    assertEquals(m, Bundles.unpack(archive, target));
    assertEquals("inner", Files.readString(target.resolve("flow/flow.txt")));
    assertTrue(Files.isRegularFile(target.resolve("model.json")));
  }

  @Test
  void archiveWithoutAManifestOrWithTwoTopFoldersIsRejected() throws IOException {
    BundleTestSupport.craft(archive, tar -> {
      BundleTestSupport.addFolder(tar, bundle, "a/");
      BundleTestSupport.file(tar, "b/other.txt", new byte[4]);
    });
    Path target = root.resolve("out").resolve("t");
    BundleException e = assertThrows(BundleException.class, () -> Bundles.unpack(archive, target));
    assertTrue(e.getMessage().contains("has no model.json at its top level or inside a single top-level folder"),
        e.getMessage());
    assertFalse(Files.exists(target));
  }

  @Test
  void missingPathsAreNamed() {
    Path nowhere = root.resolve("nowhere");
    BundleException e = assertThrows(BundleException.class, () -> Bundle.open(nowhere));
    assertTrue(e.getMessage().contains(nowhere + ": no such folder or file"), e.getMessage());
    BundleException u = assertThrows(BundleException.class, () -> Bundles.unpack(nowhere, root.resolve("t")));
    assertTrue(u.getMessage().contains(nowhere + ": no such file"), u.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Bundles.pack(bundle, bundle.resolve("self.tar.gz")));
  }

  private static List<String> names(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
