package dev.genzoo.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache: locks between threads, list, verify, remove and sweep. */
class CacheTest {
  @TempDir
  Path home;

  private Cache cache;

  @BeforeEach
  void isolate() {
    System.setProperty("genzoo.home", home.toString());
    cache = Cache.at(home);
  }

  @AfterEach
  void restore() {
    System.clearProperty("genzoo.home");
    System.clearProperty("genzoo.registry");
  }

  @Test
  void aLockExcludesOtherThreadsUntilItIsClosed() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CountDownLatch waiting = new CountDownLatch(1);
      AtomicLong acquiredAt = new AtomicLong();
      long releasedAt;
      Future<?> other;
      try (Cache.Lock held = cache.lock("k")) {
        assertTrue(Files.isRegularFile(home.resolve("locks").resolve("k.lock")));
        try (Cache.Lock again = cache.lock("k")) {
          // reentrant for the holder
        }
        other = pool.submit(() -> {
          assertTrue(cache.tryLock("k").isEmpty(), "another thread gets no lock while it is held");
          waiting.countDown();
          try (Cache.Lock l = cache.lock("k")) {
            acquiredAt.set(System.nanoTime());
          }
          return null;
        });
        assertTrue(waiting.await(10, TimeUnit.SECONDS));
        Thread.sleep(200);
        assertEquals(0, acquiredAt.get(), "the other thread waits");
        releasedAt = System.nanoTime();
      }
      other.get(10, TimeUnit.SECONDS);
      assertTrue(acquiredAt.get() >= releasedAt, "acquired only after the release");
      try (Cache.Lock l = cache.tryLock("k").orElseThrow()) {
        // free again
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** A registry override with one entry whose bundle is a file: URI, resolved through the cache. */
  private RegistryEntry fileEntry(String name) throws Exception {
    byte[] bundle = FetcherTest.embeddedBundle("flow-rings.tar.gz");
    Path src = home.resolve("upstream").resolve(name + ".tar.gz");
    Files.createDirectories(src.getParent());
    Files.write(src, bundle);
    Path registry = home.resolve("override-" + name + ".json");
    Files.writeString(registry, """
        {"format": "genzoo-registry", "version": 1, "models": [
          {"name": "%s", "family": "flow", "preset": "realnvp-toy2d", "data": "toy:rings",
           "status": "toy", "description": "a file: bundle", "files": [{"uri": "%s", "sha256": "%s", "size": %d}],
           "source": null, "published": []}]}
        """.formatted(name, src.toUri(), FetcherTest.sha256(bundle), bundle.length));
    System.setProperty("genzoo.registry", registry.toString());
    return Registry.load().get(name);
  }

  private Fetcher fetcher() {
    return new Fetcher(cache, Fetcher.Options.defaults().withProgress(false));
  }

  @Test
  void listVerifyAndRemove() throws Exception {
    RegistryEntry e = fileEntry("local-rings");
    Path dir = Zoo.resolve(e, fetcher());
    String sha = e.bundle().sha256();
    Path file = home.resolve("files").resolve(sha).resolve("local-rings.tar.gz");
    assertTrue(Files.isRegularFile(file));

    Map<Cache.Kind, List<Cache.Entry>> byKind = cache.list().stream()
        .collect(Collectors.groupingBy(Cache.Entry::kind));
    assertEquals(1, byKind.get(Cache.Kind.FILE).size());
    Cache.Entry f = byKind.get(Cache.Kind.FILE).get(0);
    // Named by the registry (the built-in flow-rings has the same bytes) and by the entry that fetched it.
    assertEquals(List.of("flow-rings", "local-rings"), f.names());
    assertEquals(sha, f.id());
    assertEquals(file, f.path());
    assertEquals(e.bundle().size(), f.size());
    Cache.Entry m = byKind.get(Cache.Kind.MODEL).get(0);
    assertEquals(dir, m.path());
    assertEquals(List.of("local-rings"), m.names());
    assertEquals(Cache.State.UNCHECKED, m.state());

    for (Cache.Entry v : cache.verify()) {
      assertEquals(Cache.State.OK, v.state(), v.toString());
    }

    // Damage both: verify reports each, naming what is wrong.
    byte[] bytes = Files.readAllBytes(file);
    bytes[100] ^= 1;
    Files.write(file, bytes);
    Path index = dir.resolve("variables.index");
    byte[] idx = Files.readAllBytes(index);
    idx[idx.length / 2] ^= 1;
    Files.write(index, idx);
    List<Cache.Entry> checked = cache.verify();
    assertEquals(2, checked.size());
    for (Cache.Entry v : checked) {
      assertEquals(Cache.State.BAD, v.state(), v.toString());
    }
    Cache.Entry badFile = checked.stream().filter(v -> v.kind() == Cache.Kind.FILE).findFirst().orElseThrow();
    assertTrue(badFile.detail().contains(FetcherTest.sha256(bytes)), badFile.detail());
    Cache.Entry badModel = checked.stream().filter(v -> v.kind() == Cache.Kind.MODEL).findFirst().orElseThrow();
    assertTrue(badModel.detail().contains("variables.index"), badModel.detail());

    List<Path> removed = cache.remove("local-rings");
    assertTrue(removed.contains(dir) && removed.contains(file.getParent()), removed.toString());
    assertTrue(cache.list().isEmpty());
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> cache.remove("local-rings"));
    assertTrue(none.getMessage().contains("local-rings"), none.getMessage());

    // Fetched and unpacked again, then removed by a sha256 prefix, and everything at once.
    Zoo.resolve(e, fetcher());
    assertEquals(2, cache.remove(sha.substring(0, 8)).size(), "the file and the model with that sha256");
    Zoo.resolve(e, fetcher());
    Files.createDirectories(home.resolve("partial"));
    Files.write(home.resolve("partial").resolve("cd".repeat(32) + ".part"), new byte[10]);
    assertEquals(3, cache.list().size());
    cache.removeAll();
    assertTrue(cache.list().isEmpty());
  }

  @Test
  void sweepRemovesStaleLeftoversThatNoLockHolds() throws Exception {
    Path partial = home.resolve("partial");
    Files.createDirectories(partial);
    String old = "aa".repeat(32);
    String fresh = "bb".repeat(32);
    String busy = "cc".repeat(32);
    for (String k : List.of(old, fresh, busy)) {
      Files.write(partial.resolve(k + ".part"), new byte[100]);
      Files.writeString(partial.resolve(k + ".json"), "{\"url\": \"http://example.invalid/" + k + "\"}");
    }
    FileTime twoDaysAgo = FileTime.from(Instant.now().minus(Duration.ofDays(2)));
    for (String k : List.of(old, busy)) {
      Files.setLastModifiedTime(partial.resolve(k + ".part"), twoDaysAgo);
      Files.setLastModifiedTime(partial.resolve(k + ".json"), twoDaysAgo);
    }
    Path models = home.resolve("models");
    Path stale = models.resolve(".tmp-flow-x-0123456789ab8812345");
    Path live = models.resolve(".tmp-flow-y-0123456789ab4412345");
    Files.createDirectories(stale.resolve("sub"));
    Files.createDirectories(live);

    ExecutorService pool = Executors.newSingleThreadExecutor();
    CountDownLatch locked = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    try {
      Future<?> holder = pool.submit(() -> {
        try (Cache.Lock a = cache.lock(Cache.fileLockKey(busy));
             Cache.Lock b = cache.lock("model-flow-y-0123456789ab")) {
          Files.createDirectories(models.resolve("flow-x-0123456789ab"));
          locked.countDown();
          done.await();
        }
        return null;
      });
      assertTrue(locked.await(10, TimeUnit.SECONDS));
      List<Path> removed = cache.sweep(Duration.ofDays(1));
      assertTrue(removed.contains(partial.resolve(old + ".part")) && removed.contains(partial.resolve(old + ".json")),
          removed.toString());
      assertTrue(removed.contains(stale), removed.toString());
      assertFalse(Files.exists(stale));
      assertTrue(Files.exists(partial.resolve(fresh + ".part")), "a young partial download is kept to resume");
      assertTrue(Files.exists(partial.resolve(busy + ".part")), "a locked partial download is kept");
      assertTrue(Files.exists(live), "the temporary of a model being unpacked is kept");
      done.countDown();
      holder.get(10, TimeUnit.SECONDS);
    } finally {
      done.countDown();
      pool.shutdownNow();
    }
    cache.sweep(Duration.ofDays(1));
    assertFalse(Files.exists(live), "swept once its lock is free");
    assertFalse(Files.exists(partial.resolve(busy + ".part")), "swept once its lock is free");
    assertTrue(Files.exists(partial.resolve(fresh + ".part")));
  }

  @Test
  void resolveUnpacksOnceUnderTheModelLockAndLeavesNoTemporaries() throws Exception {
    RegistryEntry e = fileEntry("local-rings2");
    Path dir = cache.modelDir(e.name(), e.bundle().sha256());
    // A leftover of a process killed mid-unpack.
    Path leftover = dir.getParent().resolve(".tmp-" + dir.getFileName() + "12345");
    Files.createDirectories(leftover);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<Path>> all = Stream.generate(() -> pool.submit(() -> Zoo.resolve(e, fetcher()))).limit(3)
          .toList();
      for (Future<Path> f : all) {
        assertEquals(dir, f.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    try (Stream<Path> s = Files.list(dir.getParent())) {
      assertEquals(List.of(dir), s.toList());
    }
  }

  @Test
  void anEntryThatIsNotYetAvailableSaysSo() throws IOException {
    Path registry = home.resolve("later.json");
    Files.writeString(registry, """
        {"format": "genzoo-registry", "version": 1, "models": [
          {"name": "later", "family": "flow", "status": "not-yet-available", "description": "upstream has none",
           "files": [], "source": null, "published": []}]}
        """);
    System.setProperty("genzoo.registry", registry.toString());
    RegistryEntry e = Registry.load().get("later");
    IllegalStateException x = assertThrows(IllegalStateException.class, () -> Zoo.resolve(e, fetcher()));
    assertTrue(x.getMessage().contains("later") && x.getMessage().contains("not yet available"), x.getMessage());
  }

  @Test
  void removingNothingIsAnError() throws IOException {
    assertThrows(IllegalArgumentException.class, () -> cache.remove("nothing-here"));
    assertTrue(cache.removeAll().isEmpty());
  }
}
