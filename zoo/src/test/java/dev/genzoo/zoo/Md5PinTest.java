package dev.genzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.genzoo.data.CifarReader;
import dev.genzoo.data.ImageDataset;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files pinned by an MD5 only (CIFAR-10 publishes no SHA-256): fetched without unpinned downloads being allowed,
 * verified before caching, cached under their SHA-256; the CIFAR-10 download path on a small stand-in archive.
 */
class Md5PinTest {
  /** A classic test vector: MD5("The quick brown fox jumps over the lazy dog"), from RFC 1321's Wikipedia examples. */
  private static final byte[] FOX = "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII);
  private static final String FOX_MD5 = "9e107d9d372bb6826bd81d3542a419d6";
  /** SHA-256 of the same sentence (FIPS 180 test usage, widely published). */
  private static final String FOX_SHA256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";

  @TempDir
  Path home;

  private FaultServer server;
  private Fetcher.Options options;

  @BeforeEach
  void start() throws IOException {
    server = new FaultServer();
    options = Fetcher.Options.defaults().withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5))
        .withRetries(2, Duration.ofMillis(10), Duration.ofMillis(50)).withProgress(false);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Fetcher fetcher(Fetcher.Options o) {
    return new Fetcher(Cache.at(home), o);
  }

  private static String md5(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
  }

  private List<Path> cachedFiles() throws IOException {
    Path files = home.resolve("files");
    if (!Files.isDirectory(files)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(files)) {
      return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).toList();
    }
  }

  @Test
  void md5PinnedFileIsFetchedWithoutAllowingUnpinnedAndCachedUnderItsSha256() throws Exception {
    server.serve("/fox.txt", FOX);
    RegistryEntry.FileRef ref = RegistryEntry.FileRef.md5Pinned(server.url("/fox.txt"), FOX_MD5, FOX.length, null);
    assertFalse(options.allowUnpinned());
    Path got = fetcher(options).fetch(ref, "test-md5");
    assertEquals(home.resolve("files").resolve(FOX_SHA256).resolve("fox.txt"), got);
    assertArrayEquals(FOX, Files.readAllBytes(got));
    assertTrue(Files.readString(got.resolveSibling(Cache.ORIGIN)).contains(ref.uri()));
    // found again by URI and MD5, with no second request
    assertEquals(got, fetcher(options).fetch(ref, "test-md5"));
    assertEquals(1, server.requests("/fox.txt").size());
  }

  @Test
  void md5MismatchCachesNothing() throws Exception {
    server.serve("/fox.txt", FOX, FaultServer.wrongBytes());
    RegistryEntry.FileRef ref = RegistryEntry.FileRef.md5Pinned(server.url("/fox.txt"), FOX_MD5, FOX.length, null);
    IOException e = assertThrows(IOException.class, () -> fetcher(options).fetch(ref, "test-md5"));
    assertTrue(e.getMessage().contains("md5") && e.getMessage().contains(FOX_MD5), e.getMessage());
    assertEquals(List.of(), cachedFiles());
    try (Stream<Path> partial = Files.list(home.resolve("partial"))) {
      assertEquals(0, partial.filter(p -> p.getFileName().toString().endsWith(".part")).count());
    }
  }

  @Test
  void sizeMismatchIsRefusedBeforeTheMd5() throws Exception {
    server.serve("/fox.txt", FOX);
    RegistryEntry.FileRef ref = RegistryEntry.FileRef.md5Pinned(server.url("/fox.txt"), FOX_MD5, FOX.length + 1,
        null);
    IOException e = assertThrows(IOException.class, () -> fetcher(options).fetch(ref, "test-md5"));
    assertTrue(e.getMessage().contains("size mismatch"), e.getMessage());
    assertEquals(List.of(), cachedFiles());
  }

  @Test
  void aCachedFileWithAnotherMd5IsNotTaken() throws Exception {
    byte[] other = "another body".getBytes(StandardCharsets.US_ASCII);
    server.serve("/fox.txt", other);
    String url = server.url("/fox.txt");
    // cached once as an unpinned file (other bytes)...
    Path unpinned = fetcher(options.withAllowUnpinned(true)).fetch(new RegistryEntry.FileRef(url, null, 0), "x");
    assertArrayEquals(other, Files.readAllBytes(unpinned));
    // ...so the MD5-pinned ref of the same URI must not accept it; the server now sends the right bytes
    server.serve("/fox.txt", FOX);
    Path got = fetcher(options).fetch(RegistryEntry.FileRef.md5Pinned(url, FOX_MD5, 0, null), "x");
    assertArrayEquals(FOX, Files.readAllBytes(got));
    assertEquals(FOX_SHA256, got.getParent().getFileName().toString());
  }

  @Test
  void fileRefValidatesTheMd5AndJsonWithoutMd5StillReads() throws Exception {
    assertThrows(IllegalArgumentException.class,
        () -> RegistryEntry.FileRef.md5Pinned("https://x/a.bin", "C32A1D4AB5D03F1284B67883E8D87530", 0, null));
    assertThrows(IllegalArgumentException.class,
        () -> RegistryEntry.FileRef.md5Pinned("https://x/a.bin", "abc", 0, null));
    ObjectMapper json = new ObjectMapper();
    String entry = "{\"format\": \"genzoo-registry\", \"version\": 1, \"models\": [{\"name\": \"m\", \"family\": "
        + "\"flow\", \"status\": \"converted\", \"files\": [{\"uri\": \"https://x/a.bin\", \"size\": 3}, "
        + "{\"uri\": \"https://x/b.bin\", \"md5\": \"" + FOX_MD5 + "\"}]}]}";
    List<RegistryEntry> parsed = Registry.parse(json.readTree(entry), "test");
    assertNull(parsed.get(0).files().get(0).md5());
    assertEquals(3, parsed.get(0).files().get(0).size());
    assertFalse(parsed.get(0).files().get(0).pinned());
    assertEquals(FOX_MD5, parsed.get(0).files().get(1).md5());
    assertTrue(parsed.get(0).files().get(1).pinned());
    assertFalse(Registry.load().entries().isEmpty()); // the built-in registry (no md5 fields) still loads
  }

  @Test
  void cifar10IsDownloadedVerifiedAndExtractedOnce() throws Exception {
    byte[] archive = fakeCifarArchive(2);
    server.serve("/cifar-10-binary.tar.gz", archive);
    RegistryEntry.FileRef ref = RegistryEntry.FileRef.md5Pinned(server.url("/cifar-10-binary.tar.gz"), md5(archive),
        archive.length, "cifar-10-binary.tar.gz");
    Path dir = Datasets.cifar10Dir(fetcher(options), ref);
    assertEquals(home.resolve("data").resolve("cifar10").toAbsolutePath().normalize(), dir);
    ImageDataset train = CifarReader.readDir(dir, "train");
    assertEquals(10, train.size());
    // record r of batch b has label (b + r) % 10 and every red byte equal to 10 * b + r
    assertEquals(3, train.label(2 * 2 + 1)); // data_batch_3, record 1
    assertEquals(21, train.pixel(2 * 2 + 1, 5, 7, 0));
    assertEquals(200, train.pixel(2 * 2 + 1, 5, 7, 1));
    assertEquals(5 * 32 + 7, train.pixel(2 * 2 + 1, 5, 7, 2));
    assertEquals(2, CifarReader.readDir(dir, "test").size());
    assertEquals(dir, Datasets.cifar10Dir(fetcher(options), ref));
    assertEquals(1, server.requests("/cifar-10-binary.tar.gz").size());
  }

  @Test
  void cifar10WithTheWrongMd5LeavesNothingBehind() throws Exception {
    // the official reference, offline, with a file mirror holding a stand-in archive: its size and MD5 cannot match
    Path mirror = Files.createDirectories(home.resolve("mirror"));
    Files.write(mirror.resolve("cifar-10-binary.tar.gz"), fakeCifarArchive(1));
    Fetcher.Options offline = options.withOffline(true).withMirrors(List.of(mirror.toUri().toString()));
    Path cacheHome = home.resolve("cache");
    IOException e = assertThrows(IOException.class,
        () -> Datasets.cifar10Dir(new Fetcher(Cache.at(cacheHome), offline)));
    assertTrue(e.getMessage().contains(Datasets.CIFAR10_MD5) && e.getMessage().contains("cifar10:DIR"),
        e.getMessage());
    assertFalse(Files.exists(cacheHome.resolve("data").resolve("cifar10")));
    assertFalse(Files.exists(cacheHome.resolve("files")) && Files.list(cacheHome.resolve("files")).findAny()
        .isPresent());
  }

  /** A tar.gz laid out like the official one, with {@code records} records per batch file. */
  private static byte[] fakeCifarArchive(int records) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GzipCompressorOutputStream gz = new GzipCompressorOutputStream(bytes);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      TarArchiveEntry folder = new TarArchiveEntry("cifar-10-batches-bin/");
      tar.putArchiveEntry(folder);
      tar.closeArchiveEntry();
      List<String> names = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
          "data_batch_5.bin", "test_batch.bin");
      for (int b = 0; b < names.size(); b++) {
        byte[] body = new byte[records * CifarReader.RECORD_SIZE];
        for (int r = 0; r < records; r++) {
          int at = r * CifarReader.RECORD_SIZE;
          body[at] = (byte) ((b + r) % 10);
          for (int p = 0; p < 1024; p++) {
            body[at + 1 + p] = (byte) (10 * b + r); // red plane
            body[at + 1 + 1024 + p] = (byte) 200; // green
            body[at + 1 + 2048 + p] = (byte) p; // blue
          }
        }
        TarArchiveEntry e = new TarArchiveEntry("cifar-10-batches-bin/" + names.get(b));
        e.setSize(body.length);
        tar.putArchiveEntry(e);
        tar.write(body);
        tar.closeArchiveEntry();
      }
      byte[] meta = "airplane\nautomobile\n".getBytes(StandardCharsets.US_ASCII);
      TarArchiveEntry m = new TarArchiveEntry("cifar-10-batches-bin/batches.meta.txt");
      m.setSize(meta.length);
      tar.putArchiveEntry(m);
      tar.write(meta);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }
}
