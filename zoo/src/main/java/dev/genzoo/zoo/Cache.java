package dev.genzoo.zoo;

import dev.genzoo.checkpoints.Bundle;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The download cache under {@link Zoo#home()} ({@code $GENZOO_HOME}, the {@code genzoo.home} property, or
 * {@code ~/.genzoo}):
 * <ul>
 *   <li>{@code files/<sha256>/<name>}: verified downloads, content-addressed (the folder is named by the SHA-256 of
 *       the file in it), with a small {@code .origin} file listing the entries and URLs it came from;
 *   <li>{@code models/<entry>-<sha12>/}: unpacked or converted bundles ({@code sha12}: the first 12 hex digits of the
 *       bundle archive's SHA-256, or of the digest of the converted files);
 *   <li>{@code partial/<key>.part}: downloads in progress ({@code key} is the expected SHA-256, or
 *       {@code url-<digest of the URL>} for an unpinned file), each with a sidecar {@code <key>.json} recording the
 *       URL, ETag and Last-Modified, so that a resume continues only the same file;
 *   <li>{@code locks/<key>.lock}: lock files, see {@link #lock(String)};
 *   <li>{@code registry/<digest>.json}: the last copy of a registry override fetched from a URL.
 * </ul>
 * Nothing enters {@code files/} or {@code models/} before it is verified, and always with an atomic rename, so that a
 * process killed at any moment leaves at worst a {@code partial/} file (which a later download resumes) or a hidden
 * {@code .tmp-*} folder (which {@link #sweep(Duration)} removes).
 */
public final class Cache {
  /** What a cache entry is. */
  public enum Kind {
    /** A verified download in {@code files/}. */
    FILE,
    /** An unpacked or converted bundle in {@code models/}. */
    MODEL,
    /** An incomplete download in {@code partial/}. */
    PARTIAL
  }

  /** Whether an entry was checked, and how it fared. */
  public enum State {
    /** Not checked ({@link #list()}). */
    UNCHECKED,
    /** Its bytes match its SHA-256 (a file) or its manifest (a model). */
    OK,
    /** It does not match; {@link Entry#detail()} says why. */
    BAD
  }

  /**
   * One thing in the cache.
   *
   * @param kind file, model or partial download
   * @param names the registry entries it belongs to, as far as known (from the registry and from the entry names
   *     recorded when it was downloaded); empty when unknown
   * @param id the SHA-256 of a file, the folder name of a model ({@code entry-sha12}) or the key of a partial
   *     download
   * @param path where it is
   * @param size its size in bytes (for a model the sum of its files; for a partial download the bytes so far)
   * @param state {@link State#UNCHECKED} from {@link #list()}; {@link State#OK} or {@link State#BAD} from
   *     {@link #verify()}
   * @param detail what is wrong with a bad entry, otherwise extra information (the URL of a partial download) or ""
   */
  public record Entry(Kind kind, List<String> names, String id, Path path, long size, State state, String detail) {
    public Entry {
      names = List.copyOf(names);
    }

    Entry with(State s, String d) {
      return new Entry(kind, names, id, path, size, s, d);
    }
  }

  /** A held lock; closing it releases it. */
  public interface Lock extends AutoCloseable {
    @Override
    void close() throws IOException;
  }

  static final String ORIGIN = ".origin";
  private static final Pattern MODEL_DIR = Pattern.compile("(.+)-([0-9a-f]{12})");
  private static final Pattern PARTIAL_FILE = Pattern.compile("(.+)\\.(part|json)");
  /** The temporaries {@link AtomicFiles} creates next to a target: {@code .tmp-NAME<random digits>}. */
  private static final Pattern TEMPORARY = Pattern.compile("\\.(tmp|old|convert)-(.*)");
  /** In-JVM locks, one per lock file: FileChannel locks are held per process, not per thread. */
  private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private final Path home;

  private Cache(Path home) {
    this.home = home.toAbsolutePath().normalize();
  }

  /** The cache at {@link Zoo#home()}. */
  public static Cache open() {
    return at(Zoo.home());
  }

  /** The cache rooted at {@code home} (created lazily, as things are stored). */
  public static Cache at(Path home) {
    return new Cache(home);
  }

  /** The cache root. */
  public Path home() {
    return home;
  }

  /** {@code files/}: verified downloads. */
  public Path filesDir() {
    return home.resolve("files");
  }

  /** {@code models/}: unpacked and converted bundles. */
  public Path modelsDir() {
    return home.resolve("models");
  }

  /** {@code partial/}: downloads in progress. */
  public Path partialDir() {
    return home.resolve("partial");
  }

  /** {@code locks/}: lock files. */
  public Path locksDir() {
    return home.resolve("locks");
  }

  /** {@code registry/}: saved copies of registry overrides fetched from URLs. */
  public Path registryDir() {
    return home.resolve("registry");
  }

  /** Where the verified file with this SHA-256 and name lives (whether or not it is there). */
  public Path file(String sha256, String name) {
    return filesDir().resolve(sha256).resolve(name);
  }

  /** The folder of a model: {@code models/<entry>-<first 12 hex digits of key>}. */
  public Path modelDir(String entryName, String keySha256) {
    return modelsDir().resolve(entryName + "-" + keySha256.substring(0, 12));
  }

  /** The lock key of a file download (by its partial key: a SHA-256 or {@code url-...}). */
  static String fileLockKey(String partialKey) {
    return "file-" + partialKey;
  }

  /** The lock key of a model folder. */
  static String modelLockKey(Path modelDir) {
    return "model-" + modelDir.getFileName();
  }

  // ---------------------------------------------------------------------------------------------------- locking

  /**
   * Takes the lock named {@code key}, waiting as long as another process or another thread of this JVM holds it.
   * Between processes this is an exclusive {@link FileChannel#lock()} on {@code locks/<key>.lock} (released by the
   * operating system if the holder dies); within this JVM, where file locks are per process, a
   * {@link ReentrantLock} per key excludes the other threads. The lock is reentrant for the thread that holds it.
   * Waiting for another process prints one line on standard error.
   */
  public Lock lock(String key) throws IOException {
    return acquire(key, true).orElseThrow();
  }

  /** Takes the lock named {@code key} if no one holds it, without waiting. */
  public Optional<Lock> tryLock(String key) throws IOException {
    return acquire(key, false);
  }

  private Optional<Lock> acquire(String key, boolean wait) throws IOException {
    Path file = locksDir().resolve(safe(key) + ".lock");
    ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(file, k -> new ReentrantLock());
    if (wait) {
      try {
        jvm.lockInterruptibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the lock " + file, e);
      }
    } else if (!jvm.tryLock()) {
      return Optional.empty();
    }
    if (jvm.getHoldCount() > 1) {
      return Optional.of(jvm::unlock);
    }
    FileChannel channel = null;
    try {
      Files.createDirectories(file.getParent());
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock held = channel.tryLock();
      if (held == null) {
        if (!wait) {
          channel.close();
          jvm.unlock();
          return Optional.empty();
        }
        System.err.println("genzoo: waiting for another process to finish with " + key + " (lock " + file + ")");
        held = channel.lock();
      }
      FileChannel open = channel;
      FileLock fileLock = held;
      return Optional.of(() -> {
        try {
          fileLock.release();
          open.close();
        } finally {
          jvm.unlock();
        }
      });
    } catch (IOException | RuntimeException | Error e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      jvm.unlock();
      throw e;
    }
  }

  /** A key as a file name: characters other than letters, digits, '.', '-' and '_' become '_'. */
  static String safe(String key) {
    String s = key.replaceAll("[^A-Za-z0-9._-]", "_");
    return s.startsWith(".") ? "_" + s.substring(1) : s;
  }

  // ---------------------------------------------------------------------------------------------------- listing

  /** Everything in the cache, without checking it ({@link State#UNCHECKED}); sorted by kind and id. */
  public List<Entry> list() throws IOException {
    Map<String, Set<String>> namesBySha = registryNamesBySha();
    List<Entry> out = new ArrayList<>();
    for (Path dir : children(filesDir())) {
      String sha = dir.getFileName().toString();
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || sha.startsWith(".")) {
        continue;
      }
      Set<String> names = new LinkedHashSet<>(namesBySha.getOrDefault(sha, Set.of()));
      names.addAll(originNames(dir));
      List<Path> blobs = blobs(dir);
      if (blobs.isEmpty()) {
        out.add(new Entry(Kind.FILE, List.copyOf(names), sha, dir, 0, State.UNCHECKED, "empty folder"));
      }
      for (Path blob : blobs) {
        out.add(new Entry(Kind.FILE, List.copyOf(names), sha, blob, Files.size(blob), State.UNCHECKED, ""));
      }
    }
    for (Path dir : children(modelsDir())) {
      String id = dir.getFileName().toString();
      if (id.startsWith(".") || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      Matcher m = MODEL_DIR.matcher(id);
      List<String> names = m.matches() ? List.of(m.group(1)) : List.of();
      out.add(new Entry(Kind.MODEL, names, id, dir, treeSize(dir), State.UNCHECKED, ""));
    }
    for (Path part : children(partialDir())) {
      String n = part.getFileName().toString();
      if (!n.endsWith(".part")) {
        continue;
      }
      String key = n.substring(0, n.length() - ".part".length());
      Set<String> names = namesBySha.getOrDefault(key, Set.of());
      String url = Fetcher.Sidecar.read(partialDir().resolve(key + ".json")).map(Fetcher.Sidecar::url).orElse("");
      out.add(new Entry(Kind.PARTIAL, List.copyOf(names), key, part, sizeOrZero(part), State.UNCHECKED, url));
    }
    return out;
  }

  /**
   * Checks every file and model: a file's SHA-256 is recomputed and compared with the name of its folder; a model
   * is opened with {@link Bundle#open(Path)}, which checks every file against its {@code model.json}. Partial
   * downloads are not listed. Something removed while it is checked is skipped.
   */
  public List<Entry> verify() throws IOException {
    List<Entry> out = new ArrayList<>();
    for (Entry e : list()) {
      if (e.kind() == Kind.PARTIAL) {
        continue;
      }
      if (!Files.exists(e.path(), LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      out.add(check(e));
    }
    return out;
  }

  private static Entry check(Entry e) {
    if (e.kind() == Kind.FILE) {
      if (!Files.isRegularFile(e.path(), LinkOption.NOFOLLOW_LINKS)) {
        return e.with(State.BAD, "no file in " + e.path());
      }
      if (!Sha256.isHex(e.id())) {
        return e.with(State.BAD, "the folder name " + e.id() + " is not a SHA-256");
      }
      try {
        String actual = Sha256.hex(e.path());
        return actual.equals(e.id()) ? e.with(State.OK, "")
            : e.with(State.BAD, "sha256 is " + actual + ", not " + e.id() + " as its folder says");
      } catch (IOException ex) {
        return e.with(State.BAD, "cannot read it: " + ex.getMessage());
      }
    }
    try (Bundle b = Bundle.open(e.path())) {
      return e.with(State.OK, b.manifest().name());
    } catch (IOException | RuntimeException ex) {
      return e.with(State.BAD, String.valueOf(ex.getMessage()));
    }
  }

  // ---------------------------------------------------------------------------------------------------- removing

  /**
   * Removes what matches {@code nameOrSha}: a registry entry name (its models and its files), a model folder name
   * ({@code flow-mnist-0123456789ab}), or a SHA-256 or a prefix of one (at least 6 hex digits) of a file or a model.
   * Each removal waits for the lock of what it removes, so a download or an unpack in progress finishes first.
   *
   * @return the paths removed
   * @throws IllegalArgumentException if nothing matches
   */
  public List<Path> remove(String nameOrSha) throws IOException {
    if (nameOrSha == null || nameOrSha.isBlank()) {
      throw new IllegalArgumentException("say what to remove: a registry name, a model folder or a sha256 prefix");
    }
    String q = nameOrSha.trim();
    boolean hex = q.length() >= 6 && q.length() <= 64 && q.matches("[0-9a-f]+");
    Set<String> shasOfName = new LinkedHashSet<>();
    for (Map.Entry<String, Set<String>> e : registryNamesBySha().entrySet()) {
      if (e.getValue().contains(q)) {
        shasOfName.add(e.getKey());
      }
    }
    List<Path> removed = new ArrayList<>();
    for (Entry e : list()) {
      boolean match;
      if (e.kind() == Kind.MODEL) {
        Matcher m = MODEL_DIR.matcher(e.id());
        match = e.id().equals(q) || e.names().contains(q)
            || (hex && m.matches() && (q.length() <= 12 ? m.group(2).startsWith(q) : q.startsWith(m.group(2))));
      } else {
        match = e.names().contains(q) || shasOfName.contains(e.id()) || (hex && e.id().startsWith(q));
      }
      if (match) {
        removed.addAll(delete(e));
      }
    }
    if (removed.isEmpty()) {
      throw new IllegalArgumentException("nothing in the cache " + home + " matches '" + q + "' (a registry name, a "
          + "model folder name, or a sha256 or a prefix of one, at least 6 hex digits); see genzoo cache list");
    }
    return removed;
  }

  /** Removes every file, model, partial download and saved registry copy (each under its lock). */
  public List<Path> removeAll() throws IOException {
    List<Path> removed = new ArrayList<>();
    for (Entry e : list()) {
      removed.addAll(delete(e));
    }
    removed.addAll(sweep(Duration.ZERO));
    for (Path p : children(registryDir())) {
      AtomicFiles.deleteRecursively(p);
      removed.add(p);
    }
    return removed;
  }

  private List<Path> delete(Entry e) throws IOException {
    List<Path> removed = new ArrayList<>();
    switch (e.kind()) {
      case FILE -> {
        Path dir = filesDir().resolve(e.id());
        try (Lock l = lock(fileLockKey(e.id()))) {
          if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            AtomicFiles.deleteRecursively(dir);
            removed.add(dir);
          }
        }
      }
      case MODEL -> {
        try (Lock l = lock(modelLockKey(e.path()))) {
          if (Files.exists(e.path(), LinkOption.NOFOLLOW_LINKS)) {
            AtomicFiles.deleteRecursively(e.path());
            removed.add(e.path());
          }
        }
      }
      case PARTIAL -> {
        try (Lock l = lock(fileLockKey(e.id()))) {
          for (Path p : List.of(e.path(), partialDir().resolve(e.id() + ".json"))) {
            if (Files.deleteIfExists(p)) {
              removed.add(p);
            }
          }
        }
      }
      default -> throw new IllegalStateException(e.kind().toString());
    }
    return removed;
  }

  // ---------------------------------------------------------------------------------------------------- sweeping

  /**
   * Removes leftovers that no live process is using: the hidden {@code .tmp-*} and {@code .old-*} folders of
   * interrupted unpacks and writes whose lock is free, and partial downloads whose lock is free and that were last
   * written more than {@code partialAge} ago (a younger one is kept so that a later download can resume it).
   *
   * @return the paths removed
   */
  public List<Path> sweep(Duration partialAge) throws IOException {
    List<Path> removed = new ArrayList<>();
    Instant cutoff = Instant.now().minus(partialAge);
    Map<String, List<Path>> partials = new TreeMap<>();
    for (Path p : children(partialDir())) {
      String n = p.getFileName().toString();
      Matcher t = TEMPORARY.matcher(n);
      Matcher m = PARTIAL_FILE.matcher(t.matches() ? t.group(2).replaceFirst("\\d+$", "") : n);
      String key = m.matches() ? m.group(1) : n;
      partials.computeIfAbsent(key, k -> new ArrayList<>()).add(p);
    }
    for (Map.Entry<String, List<Path>> e : partials.entrySet()) {
      Optional<Lock> lock = tryLock(fileLockKey(e.getKey()));
      if (lock.isEmpty()) {
        continue;
      }
      try (Lock l = lock.get()) {
        boolean old = true;
        for (Path p : e.getValue()) {
          old &= lastModified(p).isBefore(cutoff) || partialAge.isZero();
        }
        if (old) {
          for (Path p : e.getValue()) {
            AtomicFiles.deleteRecursively(p);
            removed.add(p);
          }
        }
      }
    }
    removed.addAll(sweepTemporaries(modelsDir(), "model-", partialAge));
    for (Path dir : children(filesDir())) {
      if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        removed.addAll(sweepTemporaries(dir, "file-", partialAge));
      }
    }
    removed.addAll(sweepTemporaries(filesDir(), "file-", partialAge));
    return removed;
  }

  /**
   * Removes the {@code .tmp-NAME<digits>} and {@code .old-NAME<digits>} temporaries directly in {@code dir}. For
   * {@code models/}, NAME is a model folder and its lock {@code model-NAME} must be free; in {@code files/<sha>/}
   * the lock of that file must be free. A temporary whose owner cannot be told is removed once it is older than
   * {@code age} (and at least an hour old unless {@code age} is zero).
   */
  private List<Path> sweepTemporaries(Path dir, String prefix, Duration age) throws IOException {
    List<Path> removed = new ArrayList<>();
    for (Path p : children(dir)) {
      Matcher t = TEMPORARY.matcher(p.getFileName().toString());
      if (!t.matches()) {
        continue;
      }
      String key = null;
      if (prefix.equals("file-") && !dir.equals(filesDir())) {
        key = fileLockKey(dir.getFileName().toString());
      } else if (prefix.equals("model-")) {
        for (Path sibling : children(dir)) {
          String n = sibling.getFileName().toString();
          if (!n.startsWith(".") && t.group(2).matches(Pattern.quote(n) + "\\d+")) {
            key = "model-" + n;
          }
        }
        if (key == null) {
          for (Path lockFile : children(locksDir())) {
            String n = lockFile.getFileName().toString();
            if (n.startsWith("model-") && n.endsWith(".lock")) {
              String model = n.substring("model-".length(), n.length() - ".lock".length());
              if (t.group(2).matches(Pattern.quote(model) + "\\d+")) {
                key = "model-" + model;
              }
            }
          }
        }
      }
      if (key == null) {
        Duration minimum = age.isZero() ? Duration.ZERO : Duration.ofHours(1).compareTo(age) > 0
            ? Duration.ofHours(1) : age;
        if (lastModified(p).isBefore(Instant.now().minus(minimum)) || minimum.isZero()) {
          AtomicFiles.deleteRecursively(p);
          removed.add(p);
        }
        continue;
      }
      Optional<Lock> lock = tryLock(key);
      if (lock.isPresent()) {
        try (Lock l = lock.get()) {
          if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            AtomicFiles.deleteRecursively(p);
            removed.add(p);
          }
        }
      }
    }
    return removed;
  }

  /**
   * Removes the temporaries of one model folder; the caller holds its lock. Used before unpacking or converting
   * into it, so that an earlier process killed mid-unpack leaves nothing behind.
   */
  void sweepModelTemporaries(Path modelDir) throws IOException {
    String name = modelDir.getFileName().toString();
    Pattern own = Pattern.compile("\\.(tmp|old)-" + Pattern.quote(name) + "\\d+");
    for (Path p : children(modelDir.getParent())) {
      if (own.matcher(p.getFileName().toString()).matches()) {
        AtomicFiles.deleteRecursively(p);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------- helpers

  /** The entries that recorded downloading a file into {@code files/<sha>/} ({@code .origin} lines). */
  static List<String> originNames(Path shaDir) throws IOException {
    List<String> names = new ArrayList<>();
    for (String[] line : originLines(shaDir)) {
      if (!line[0].isEmpty() && !names.contains(line[0])) {
        names.add(line[0]);
      }
    }
    return names;
  }

  /** The {@code .origin} lines of a files folder: {entry name, URL}. */
  static List<String[]> originLines(Path shaDir) throws IOException {
    Path origin = shaDir.resolve(ORIGIN);
    List<String[]> out = new ArrayList<>();
    if (!Files.isRegularFile(origin, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try {
      for (String line : Files.readAllLines(origin)) {
        int tab = line.indexOf('\t');
        if (tab >= 0) {
          out.add(new String[] {line.substring(0, tab), line.substring(tab + 1)});
        }
      }
    } catch (NoSuchFileException gone) {
      // removed meanwhile
    }
    return out;
  }

  /** The regular files of a {@code files/<sha>/} folder, without the hidden bookkeeping ones. */
  static List<Path> blobs(Path shaDir) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : children(shaDir)) {
      if (!p.getFileName().toString().startsWith(".") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        out.add(p);
      }
    }
    return out;
  }

  private static Map<String, Set<String>> registryNamesBySha() {
    Map<String, Set<String>> out = new TreeMap<>();
    List<RegistryEntry> entries;
    try {
      entries = Registry.load().entries();
    } catch (RuntimeException unavailable) {
      return out;
    }
    for (RegistryEntry e : entries) {
      for (RegistryEntry.FileRef f : e.files()) {
        if (f.sha256() != null) {
          out.computeIfAbsent(f.sha256(), k -> new LinkedHashSet<>()).add(e.name());
        }
      }
    }
    return out;
  }

  static List<Path> children(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (NoSuchFileException gone) {
      return List.of();
    }
  }

  private static long treeSize(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(Cache::sizeOrZero).sum();
    } catch (UncheckedIOException e) {
      return 0;
    }
  }

  private static long sizeOrZero(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  private static Instant lastModified(Path p) {
    try {
      return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant();
    } catch (IOException e) {
      return Instant.EPOCH;
    }
  }
}
