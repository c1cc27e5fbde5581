package dev.genzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.checkpoints.Bundle;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads against a local HTTP server that misbehaves on purpose ({@link FaultServer}): resume after a dropped
 * connection, 404, 5xx, wrong bytes, a stalled server, two processes at once, a process killed mid-download,
 * offline mode, mirrors, unpinned files, a registry at a URL.
 */
class FetcherTest {
  private static final Duration READ_TIMEOUT = Duration.ofMillis(700);

  @TempDir
  Path home;

  private FaultServer server;
  private Fetcher.Options options;

  @BeforeEach
  void start() throws IOException {
    server = new FaultServer();
    options = Fetcher.Options.defaults().withTimeouts(Duration.ofSeconds(5), READ_TIMEOUT)
        .withRetries(3, Duration.ofMillis(20), Duration.ofMillis(200)).withProgress(false);
  }

  @AfterEach
  void stop() {
    server.close();
    for (String p : List.of("genzoo.home", "genzoo.registry", "genzoo.fetch.backoffMs", "genzoo.fetch.retries",
        "genzoo.offline")) {
      System.clearProperty(p);
    }
    Registry.forgetFetched();
  }

  private Fetcher fetcher(Fetcher.Options o) {
    return new Fetcher(Cache.at(home), o);
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** SHA-256 by the JDK's MessageDigest, independent of the code under test. */
  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private RegistryEntry.FileRef ref(String path, byte[] body) throws Exception {
    return new RegistryEntry.FileRef(server.url(path), sha256(body), body.length);
  }

  private void assertNothingCached(String sha) throws IOException {
    assertFalse(Files.exists(home.resolve("files").resolve(sha)), "files/" + sha + " exists");
    try (Stream<Path> s = Files.exists(home.resolve("partial")) ? Files.list(home.resolve("partial"))
        : Stream.empty()) {
      List<Path> left = s.toList();
      assertTrue(left.isEmpty(), "partial/ holds " + left);
    }
  }

  @Test
  void aDroppedConnectionIsResumedWithRange() throws Exception {
    byte[] body = randomBytes(300_000, 1);
    server.serve("/a.bin", body, FaultServer.dropAfter(120_000), FaultServer.ok());
    Path got = fetcher(options).fetch(ref("/a.bin", body), "test-a");

    assertEquals(home.resolve("files").resolve(sha256(body)).resolve("a.bin"), got);
    assertArrayEquals(body, Files.readAllBytes(got));
    List<FaultServer.Request> reqs = server.requests("/a.bin");
    assertEquals(2, reqs.size(), reqs.toString());
    assertNull(reqs.get(0).range(), "the first request asks for the whole file");
    assertEquals("bytes=120000-", reqs.get(1).range(), "the second request resumes where the first stopped");
    assertEquals(FaultServer.etag(body), reqs.get(1).ifRange(), "and makes the resume conditional on the ETag");
    assertEquals(206, reqs.get(1).status());
    long served = server.bytesSent("/a.bin");
    assertEquals(body.length, served, "120000 bytes, then the remaining 180000");
    assertTrue(served < 2L * body.length);
    assertNothingCached("no-such-sha"); // partial/ is empty again
  }

  @Test
  void aPartialFileThatChangedOnTheServerStartsOver() throws Exception {
    byte[] body = randomBytes(50_000, 16);
    server.serve("/changed.bin", body);
    RegistryEntry.FileRef ref = ref("/changed.bin", body);
    // A partial download of an older version: its ETag no longer matches, so the server sends the whole file.
    Path partial = Files.createDirectories(home.resolve("partial"));
    Files.write(partial.resolve(ref.sha256() + ".part"), randomBytes(20_000, 17));
    Files.writeString(partial.resolve(ref.sha256() + ".json"),
        "{\"url\": \"" + ref.uri() + "\", \"etag\": \"\\\"old\\\"\"}");
    Path got = fetcher(options).fetch(ref, "test-changed");
    assertArrayEquals(body, Files.readAllBytes(got));
    List<FaultServer.Request> reqs = server.requests("/changed.bin");
    assertEquals(1, reqs.size(), reqs.toString());
    assertEquals("bytes=20000-", reqs.get(0).range());
    assertEquals("\"old\"", reqs.get(0).ifRange());
    assertEquals(200, reqs.get(0).status(), "the server ignored the range");

    // The same bytes under another name are copied from the cache, not downloaded again.
    RegistryEntry.FileRef alias = new RegistryEntry.FileRef(server.url("/elsewhere/alias.bin"), ref.sha256(),
        body.length);
    Path copy = fetcher(options).fetch(alias, "test-alias");
    assertEquals(got.getParent().resolve("alias.bin"), copy);
    assertArrayEquals(body, Files.readAllBytes(copy));
    assertEquals(0, server.requests("/elsewhere/alias.bin").size());
  }

  @Test
  void notFoundFailsAtOnceNamingTheUrlAndStatus() throws Exception {
    byte[] body = randomBytes(1000, 2);
    long t0 = System.nanoTime();
    IOException e = assertThrows(IOException.class,
        () -> fetcher(options.withRetries(5, Duration.ofSeconds(2), Duration.ofSeconds(2)))
            .fetch(ref("/missing.bin", body), "test-missing"));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().contains("404") && e.getMessage().contains(server.url("/missing.bin")),
        e.getMessage());
    assertEquals(1, server.requests("/missing.bin").size(), "a 404 is not retried");
    assertTrue(millis < 2000, "no back-off wait: " + millis + " ms");
    assertNothingCached(sha256(body));
  }

  @Test
  void serverErrorsAreRetriedUntilSuccess() throws Exception {
    byte[] body = randomBytes(50_000, 3);
    server.serve("/flaky.bin", body, FaultServer.status(500), FaultServer.status(503), FaultServer.ok());
    Path got = fetcher(options).fetch(ref("/flaky.bin", body), "test-flaky");
    assertArrayEquals(body, Files.readAllBytes(got));
    List<FaultServer.Request> reqs = server.requests("/flaky.bin");
    assertEquals(List.of(500, 503, 200), reqs.stream().map(FaultServer.Request::status).toList());
  }

  @Test
  void persistentServerErrorsGiveUpAfterTheRetries() throws Exception {
    byte[] body = randomBytes(1000, 4);
    server.serve("/down.bin", body, FaultServer.status(502));
    IOException e = assertThrows(IOException.class,
        () -> fetcher(options.withRetries(2, Duration.ofMillis(10), Duration.ofMillis(20)))
            .fetch(ref("/down.bin", body), "test-down"));
    assertEquals(3, server.requests("/down.bin").size(), "the first attempt and 2 retries");
    assertTrue(e.getMessage().contains("502") && e.getMessage().contains("3 attempts"), e.getMessage());
  }

  @Test
  void wrongBytesAreRefusedAndNothingIsCached() throws Exception {
    byte[] body = randomBytes(40_000, 5);
    byte[] flipped = body.clone();
    for (int i = 0; i < flipped.length; i++) {
      flipped[i] = (byte) ~flipped[i];
    }
    server.serve("/wrong.bin", body, FaultServer.wrongBytes());
    IOException e = assertThrows(IOException.class,
        () -> fetcher(options).fetch(ref("/wrong.bin", body), "test-wrong"));
    String m = e.getMessage();
    assertTrue(m.contains("checksum mismatch") && m.contains(server.url("/wrong.bin")) && m.contains(sha256(body))
        && m.contains(sha256(flipped)), m);
    assertEquals(1, server.requests("/wrong.bin").size(), "a checksum mismatch is not retried");
    assertNothingCached(sha256(body));
    assertFalse(Files.exists(home.resolve("files").resolve(sha256(flipped))));
  }

  @Test
  void aWrongLengthIsRefusedBeforeTheBodyIsRead() throws Exception {
    byte[] body = randomBytes(40_000, 6);
    server.serve("/short.bin", java.util.Arrays.copyOf(body, 30_000));
    IOException e = assertThrows(IOException.class,
        () -> fetcher(options).fetch(ref("/short.bin", body), "test-short"));
    assertTrue(e.getMessage().contains("30000") && e.getMessage().contains("40000"), e.getMessage());
    assertEquals(1, server.requests("/short.bin").size());
    assertNothingCached(sha256(body));
  }

  @Test
  void aStalledServerTimesOut() throws Exception {
    byte[] body = randomBytes(10_000, 7);
    server.serve("/stall.bin", body, FaultServer.stall());
    long t0 = System.nanoTime();
    IOException e = assertThrows(IOException.class,
        () -> fetcher(options.withRetries(1, Duration.ofMillis(10), Duration.ofMillis(10)))
            .fetch(ref("/stall.bin", body), "test-stall"));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().contains("read time-out") && e.getMessage().contains(server.url("/stall.bin")),
        e.getMessage());
    assertEquals(2, server.requests("/stall.bin").size(), "the first attempt and one retry");
    // Two read time-outs of 700 ms and a 10 ms back-off; well under the server's 120 s stall.
    assertTrue(millis >= 2 * READ_TIMEOUT.toMillis() && millis < 10_000, millis + " ms");
  }

  @Test
  void fileUrisAreCopiedWithTheSameChecks() throws Exception {
    byte[] body = randomBytes(5000, 8);
    Path src = home.resolve("src.bin");
    Files.write(src, body);
    RegistryEntry.FileRef good = new RegistryEntry.FileRef(src.toUri().toString(), sha256(body), body.length);
    Path got = fetcher(options.withOffline(true)).fetch(good, "test-file");
    assertArrayEquals(body, Files.readAllBytes(got));
    assertEquals("src.bin", got.getFileName().toString());

    RegistryEntry.FileRef bad = new RegistryEntry.FileRef(src.toUri().toString(), "ab".repeat(32), body.length,
        "other.bin");
    IOException e = assertThrows(IOException.class, () -> fetcher(options).fetch(bad, "test-file"));
    assertTrue(e.getMessage().contains("checksum mismatch") && e.getMessage().contains(sha256(body)), e.getMessage());
    assertNothingCached("ab".repeat(32));
  }

  @Test
  void offlineModeNamesWhatIsMissingAndWhereToPutIt() throws Exception {
    byte[] body = randomBytes(1000, 9);
    server.serve("/off.bin", body);
    RegistryEntry.FileRef ref = ref("/off.bin", body);
    IOException e = assertThrows(IOException.class,
        () -> fetcher(options.withOffline(true)).fetch(ref, "test-offline"));
    String m = e.getMessage();
    Path where = home.resolve("files").resolve(sha256(body)).resolve("off.bin");
    assertTrue(m.contains("offline") && m.contains("test-offline") && m.contains("off.bin")
        && m.contains(server.url("/off.bin")) && m.contains(where.toString()), m);
    assertEquals(0, server.requests("/off.bin").size(), "offline means no request");

    // Placed there by hand, it is used offline.
    Files.createDirectories(where.getParent());
    Files.write(where, body);
    assertEquals(where, fetcher(options.withOffline(true)).fetch(ref, "test-offline"));
  }

  @Test
  void mirrorsAreTriedFirstAndTheOriginalIsTheFallback() throws Exception {
    byte[] body = randomBytes(20_000, 10);
    server.serve("/mirror/m.bin", body);
    server.serve("/orig/m.bin", body);
    Fetcher.Options withMirror = options.withMirrors(List.of(server.url("/empty-mirror") + "/",
        server.url("/mirror")));
    Path got = fetcher(withMirror).fetch(ref("/orig/m.bin", body), "test-mirror");
    assertArrayEquals(body, Files.readAllBytes(got));
    assertEquals(1, server.requests("/empty-mirror/m.bin").size(), "the first mirror was tried");
    assertEquals(1, server.requests("/mirror/m.bin").size(), "the second mirror served it");
    assertEquals(0, server.requests("/orig/m.bin").size(), "the original was not needed");

    byte[] other = randomBytes(20_000, 11);
    server.serve("/orig/n.bin", other);
    server.serve("/mirror/n.bin", randomBytes(20_000, 12)); // a mirror with the wrong bytes
    Path fallback = fetcher(withMirror).fetch(ref("/orig/n.bin", other), "test-mirror");
    assertArrayEquals(other, Files.readAllBytes(fallback));
    assertEquals(1, server.requests("/orig/n.bin").size(), "the original after the mirrors failed");
  }

  @Test
  void unpinnedFilesAreRefusedUnlessAllowed() throws Exception {
    byte[] body = randomBytes(3000, 13);
    server.serve("/unpinned.bin", body);
    RegistryEntry.FileRef ref = new RegistryEntry.FileRef(server.url("/unpinned.bin"), null, 0);
    IOException e = assertThrows(IOException.class, () -> fetcher(options).fetch(ref, "test-unpinned"));
    assertTrue(e.getMessage().contains("no sha256") && e.getMessage().contains("GENZOO_ALLOW_UNPINNED"),
        e.getMessage());
    assertEquals(0, server.requests("/unpinned.bin").size());

    Path got = fetcher(options.withAllowUnpinned(true)).fetch(ref, "test-unpinned");
    assertEquals(home.resolve("files").resolve(sha256(body)).resolve("unpinned.bin"), got);
    assertArrayEquals(body, Files.readAllBytes(got));
    // Found again by its URL, with no new request.
    assertEquals(got, fetcher(options.withAllowUnpinned(true)).fetch(ref, "test-unpinned"));
    assertEquals(1, server.requests("/unpinned.bin").size());
  }

  @Test
  void twoProcessesFetchingOneFileDownloadItOnce() throws Exception {
    byte[] body = randomBytes(160_000, 14);
    // The server answers once both processes run, and then takes about 1.2 s (16 KB every 120 ms), so that the
    // second process arrives while the first downloads.
    CountDownLatch gate = new CountDownLatch(1);
    server.serve("/shared.bin", body, FaultServer.trickle(16_000, 120).after(gate));
    RegistryEntry.FileRef ref = ref("/shared.bin", body);
    Path startedA = home.resolve("started-a");
    Path startedB = home.resolve("started-b");
    Process a = fetchProcess(ref, "test-shared", startedA);
    Process b = fetchProcess(ref, "test-shared", startedB);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!(Files.exists(startedA) && Files.exists(startedB)) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    gate.countDown();
    assertTrue(a.waitFor(30, TimeUnit.SECONDS) && b.waitFor(30, TimeUnit.SECONDS), "fetch processes hang");
    String outA = new String(a.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    String outB = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    String errA = new String(a.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    String errB = new String(b.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, a.exitValue(), errA);
    assertEquals(0, b.exitValue(), errB);
    Path expected = home.resolve("files").resolve(sha256(body)).resolve("shared.bin");
    assertEquals(expected.toString(), outA);
    assertEquals(expected.toString(), outB);
    assertArrayEquals(body, Files.readAllBytes(expected));
    assertEquals(1, server.requests("/shared.bin").size(), "one download: " + server.requests("/shared.bin"));
    assertEquals(body.length, server.bytesSent("/shared.bin"));
    assertTrue(errA.contains("waiting for another process") || errB.contains("waiting for another process"),
        "one process waited for the other's lock:\n" + errA + "\n" + errB);
  }

  @Test
  void aProcessKilledMidDownloadLeavesNoEntryAndALaterFetchCompletes() throws Exception {
    byte[] body = randomBytes(200_000, 15);
    server.serve("/killed.bin", body, FaultServer.trickle(8_000, 100), FaultServer.ok());
    RegistryEntry.FileRef ref = ref("/killed.bin", body);
    Process p = fetchProcess(ref, "test-killed", null);
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (server.bytesSent("/killed.bin") < 40_000 && System.nanoTime() < deadline && p.isAlive()) {
      Thread.sleep(20);
    }
    assertTrue(p.isAlive(), "the fetch process ended early");
    assertTrue(server.bytesSent("/killed.bin") >= 40_000, "the download did not start");
    p.destroyForcibly();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    String sha = sha256(body);
    assertFalse(Files.exists(home.resolve("files").resolve(sha)), "a killed download left an entry in files/");
    assertFalse(Files.exists(home.resolve("models")), "a killed download left something in models/");
    assertTrue(Files.isRegularFile(home.resolve("partial").resolve(sha + ".part")), "the partial file stays");

    Path got = fetcher(options).fetch(ref, "test-killed");
    assertArrayEquals(body, Files.readAllBytes(got));
    List<FaultServer.Request> reqs = server.requests("/killed.bin");
    FaultServer.Request last = reqs.get(reqs.size() - 1);
    assertTrue(last.range() != null && last.range().startsWith("bytes="), "the later fetch resumed: " + reqs);
    assertTrue(server.bytesSent("/killed.bin") < 2L * body.length, reqs.toString());
    assertNothingCached("no-such-sha");
  }

  @Test
  void aRegistryAtAUrlIsFetchedKeptAndUsedWhenTheUrlFails() throws Exception {
    byte[] bundle = embeddedBundle("flow-rings.tar.gz");
    server.serve("/models/remote-rings.tar.gz", bundle);
    String registry = """
        {"format": "genzoo-registry", "version": 1, "models": [
          {"name": "remote-rings", "family": "flow", "preset": "realnvp-toy2d", "data": "toy:rings",
           "status": "toy", "description": "served over HTTP by the test",
           "files": [{"uri": "%s", "sha256": "%s", "size": %d}],
           "source": null, "published": []}]}
        """.formatted(server.url("/models/remote-rings.tar.gz"), sha256(bundle), bundle.length);
    server.serve("/registry.json", registry.getBytes(StandardCharsets.UTF_8), FaultServer.ok(),
        FaultServer.status(500));
    System.setProperty("genzoo.home", home.toString());
    System.setProperty("genzoo.fetch.backoffMs", "10");
    System.setProperty("genzoo.registry", server.url("/registry.json"));

    RegistryEntry e = Registry.load().get("remote-rings");
    assertTrue(Registry.load().contains("flow-8gaussians"), "the override adds to the built-in registry");
    assertEquals(1, server.requests("/registry.json").size(), "fetched once per JVM");
    try (Stream<Path> s = Files.list(home.resolve("registry"))) {
      assertEquals(1, s.count(), "a copy is kept");
    }

    // The URL now fails (HTTP 500): the saved copy is used.
    Registry.forgetFetched();
    assertEquals(e, Registry.load().get("remote-rings"));
    assertTrue(server.requests("/registry.json").size() >= 2);
    // Offline: the saved copy, without a request.
    Registry.forgetFetched();
    int before = server.requests("/registry.json").size();
    System.setProperty("genzoo.offline", "true");
    assertEquals(e, Registry.load().get("remote-rings"));
    assertEquals(before, server.requests("/registry.json").size());
    System.clearProperty("genzoo.offline");

    // A URL that was never fetched and fails: a clear error.
    System.setProperty("genzoo.registry", server.url("/no-registry.json"));
    UncheckedIOException u = assertThrows(UncheckedIOException.class, Registry::load);
    assertTrue(u.getMessage().contains(server.url("/no-registry.json")) && u.getMessage().contains("GENZOO_REGISTRY")
        && u.getMessage().contains("404"), u.getMessage());

    // The entry resolves over HTTP into a verified bundle, once, even with two threads at it.
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Path>> dirs = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        dirs.add(pool.submit(() -> Zoo.resolve(e)));
      }
      Path dir = dirs.get(0).get(60, TimeUnit.SECONDS);
      assertEquals(dir, dirs.get(1).get(60, TimeUnit.SECONDS));
      assertEquals(home.resolve("models").resolve("remote-rings-" + sha256(bundle).substring(0, 12)), dir);
      try (Bundle b = Bundle.open(dir)) {
        assertEquals("flow", b.manifest().family());
      }
      assertEquals(1, server.requests("/models/remote-rings.tar.gz").size());
      try (Stream<Path> s = Files.list(home.resolve("models"))) {
        assertEquals(List.of(dir), s.toList(), "no temporaries left in models/");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  static byte[] embeddedBundle(String name) throws IOException {
    try (InputStream in = Zoo.class.getResourceAsStream("/dev/genzoo/zoo/embedded/" + name)) {
      assertNotNull(in, name);
      return in.readAllBytes();
    }
  }

  /** A JVM running {@link FetchMain} on this test's cache, with short time-outs. */
  private Process fetchProcess(RegistryEntry.FileRef ref, String entry, Path started) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classPath(), "-XX:TieredStopAtLevel=1", "-Dgenzoo.fetch.readTimeoutMs=5000",
        "-Dgenzoo.fetch.retries=2", "-Dgenzoo.fetch.backoffMs=20"));
    if (started != null) {
      cmd.add("-Dfetchmain.started=" + started);
    }
    cmd.addAll(List.of(FetchMain.class.getName(), home.toString(), ref.uri(), ref.sha256(),
        Long.toString(ref.size()), ref.name(), entry));
    return new ProcessBuilder(cmd).start();
  }

  /**
   * {@code java.class.path}, plus the folders and jars the classes FetchMain needs were loaded from: a test
   * launcher may load the test classes through its own class loader (the JUnit console launcher does).
   */
  private static String classPath() {
    Set<String> entries = new LinkedHashSet<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
    for (String c : List.of("dev.genzoo.zoo.FetchMain", "dev.genzoo.zoo.Fetcher", "dev.genzoo.checkpoints.Sha256",
        "dev.genzoo.io.AtomicFiles", "com.fasterxml.jackson.databind.ObjectMapper",
        "com.fasterxml.jackson.core.JsonFactory", "com.fasterxml.jackson.annotation.JsonIgnoreProperties",
        "me.tongfei.progressbar.ProgressBar", "org.jline.terminal.Terminal")) {
      try {
        Class<?> k = Class.forName(c, false, FetcherTest.class.getClassLoader());
        entries.add(Path.of(k.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
      } catch (ReflectiveOperationException | java.net.URISyntaxException | NullPointerException e) {
        // not on the class path: not needed
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
