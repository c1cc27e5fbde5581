package dev.genzoo.zoo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.genzoo.checkpoints.Sha256;
import dev.genzoo.graphs.Progress;
import dev.genzoo.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fetches the files of registry entries into the {@link Cache}, verified: {@link #fetch} returns
 * {@code files/<sha256>/<name>} once the file's size and SHA-256 match the registry, and nothing else ever enters
 * {@code files/}.
 *
 * <p>Sources, by the scheme of the URI: {@code http(s):} downloads; {@code file:} copies; {@code embedded:} comes from
 * the zoo jar. Each is verified the same way before an atomic rename into the cache.
 *
 * <p>Downloads use {@link HttpURLConnection}, so the standard Java proxy properties apply
 * ({@code http.proxyHost}, {@code http.proxyPort}, {@code https.proxyHost}, {@code https.proxyPort},
 * {@code http.nonProxyHosts}, or {@code java.net.useSystemProxies=true}), e.g.
 * {@code JAVA_TOOL_OPTIONS="-Dhttps.proxyHost=proxy -Dhttps.proxyPort=3128"}. They have a connect time-out and a
 * read (stall) time-out; failures that may pass (I/O errors, time-outs, HTTP 5xx, 408 and 429) are retried with
 * exponential back-off, and a download that made progress continues from where it stopped with an HTTP
 * {@code Range} request ({@code If-Range} with the saved ETag or Last-Modified, so that a file changed on the server
 * is sent whole again), from {@code partial/<sha256>.part}. Other HTTP errors (404, 403, 401, ...) fail at once with
 * the URL and the status. Concurrent fetches of one file, in this process or others, are serialised by the cache
 * lock of that file: one downloads and the others then find the file.
 *
 * <p>Configuration ({@link Options#fromEnvironment()}), each by a system property or an environment variable:
 * <ul>
 *   <li>{@code genzoo.offline} / {@code GENZOO_OFFLINE=1}: never use the network; a file missing from the cache is
 *       an error naming the entry, the file, its URL and the path where it could be placed by hand.
 *   <li>{@code genzoo.mirror} / {@code GENZOO_MIRROR}: comma-separated base URLs, each tried as
 *       {@code <base>/<name>} before the registry's URI (with the same checks).
 *   <li>{@code genzoo.allowUnpinned} / {@code GENZOO_ALLOW_UNPINNED=1}: download files the registry gives no SHA-256
 *       for (refused otherwise); the SHA-256 found is printed on standard error, for the registry, and the file is
 *       cached under {@code files/<that sha256>/}.
 *   <li>{@code genzoo.fetch.connectTimeoutMs}, {@code genzoo.fetch.readTimeoutMs}, {@code genzoo.fetch.retries},
 *       {@code genzoo.fetch.backoffMs}, {@code genzoo.fetch.maxBackoffMs}; {@code genzoo.progress=false} hides the
 *       progress bar (shown only on a terminal).
 * </ul>
 */
public final class Fetcher {
  private static final int BUFFER = 1 << 16;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
  private static final Pattern UNSATISFIED_RANGE = Pattern.compile("bytes\\s+\\*/(\\d+)");
  private static final int MAX_REDIRECTS = 10;
  private static final int MAX_ATTEMPTS = 1000;

  /**
   * How downloads behave.
   *
   * @param connectTimeout the longest wait for a connection
   * @param readTimeout the longest wait for the next bytes (a stalled server)
   * @param retries how many times a failure that may pass is retried after the first attempt (attempts that
   *     received data do not count, so a long download over a flaky link can finish)
   * @param backoff the first wait between attempts, doubled each time
   * @param maxBackoff the longest wait between attempts (also caps a server's Retry-After)
   * @param offline never use the network
   * @param mirrors base URLs tried, as {@code <base>/<name>}, before the registry's URI
   * @param allowUnpinned download files without a SHA-256 in the registry
   * @param progress show a progress bar (bytes, rate, ETA) on standard error
   */
  public record Options(Duration connectTimeout, Duration readTimeout, int retries, Duration backoff,
      Duration maxBackoff, boolean offline, List<String> mirrors, boolean allowUnpinned, boolean progress) {
    public Options {
      positive(connectTimeout, "connectTimeout");
      positive(readTimeout, "readTimeout");
      if (retries < 0) {
        throw new IllegalArgumentException("retries must be 0 or more, got " + retries);
      }
      if (backoff == null || backoff.isNegative() || maxBackoff == null || maxBackoff.isNegative()) {
        throw new IllegalArgumentException("backoff and maxBackoff must be 0 or more");
      }
      List<String> bases = new ArrayList<>();
      for (String m : mirrors == null ? List.<String>of() : mirrors) {
        String t = m.trim();
        while (t.endsWith("/")) {
          t = t.substring(0, t.length() - 1);
        }
        if (!t.isEmpty()) {
          bases.add(t);
        }
      }
      mirrors = List.copyOf(bases);
    }

    private static void positive(Duration d, String what) {
      if (d == null || d.isZero() || d.isNegative() || d.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(what + " must be positive (and under 24 days), got " + d);
      }
    }

    /**
     * Connect time-out 30 s, read time-out 60 s, 5 retries with back-off from 1 s doubling up to 30 s, online, no
     * mirrors, unpinned files refused, a progress bar on a terminal.
     */
    public static Options defaults() {
      return new Options(Duration.ofSeconds(30), Duration.ofSeconds(60), 5, Duration.ofSeconds(1),
          Duration.ofSeconds(30), false, List.of(), false, System.console() != null);
    }

    /** {@link #defaults()} with the system properties and environment variables of the class comment applied. */
    public static Options fromEnvironment() {
      Options d = defaults();
      return new Options(
          Duration.ofMillis(longSetting("genzoo.fetch.connectTimeoutMs", null, d.connectTimeout().toMillis())),
          Duration.ofMillis(longSetting("genzoo.fetch.readTimeoutMs", null, d.readTimeout().toMillis())),
          (int) longSetting("genzoo.fetch.retries", null, d.retries()),
          Duration.ofMillis(longSetting("genzoo.fetch.backoffMs", null, d.backoff().toMillis())),
          Duration.ofMillis(longSetting("genzoo.fetch.maxBackoffMs", null, d.maxBackoff().toMillis())),
          flag("genzoo.offline", "GENZOO_OFFLINE"),
          List.of(setting("genzoo.mirror", "GENZOO_MIRROR", "").split(",")),
          flag("genzoo.allowUnpinned", "GENZOO_ALLOW_UNPINNED"),
          d.progress() && !"false".equalsIgnoreCase(setting("genzoo.progress", null, "true")));
    }

    /** These options with other connect and read time-outs. */
    public Options withTimeouts(Duration connect, Duration read) {
      return new Options(connect, read, retries, backoff, maxBackoff, offline, mirrors, allowUnpinned, progress);
    }

    /** These options with {@code n} retries and back-off from {@code first} doubling up to {@code max}. */
    public Options withRetries(int n, Duration first, Duration max) {
      return new Options(connectTimeout, readTimeout, n, first, max, offline, mirrors, allowUnpinned, progress);
    }

    /** These options, offline or not. */
    public Options withOffline(boolean b) {
      return new Options(connectTimeout, readTimeout, retries, backoff, maxBackoff, b, mirrors, allowUnpinned,
          progress);
    }

    /** These options with other mirror base URLs. */
    public Options withMirrors(List<String> bases) {
      return new Options(connectTimeout, readTimeout, retries, backoff, maxBackoff, offline, bases, allowUnpinned,
          progress);
    }

    /** These options, allowing unpinned files or not. */
    public Options withAllowUnpinned(boolean b) {
      return new Options(connectTimeout, readTimeout, retries, backoff, maxBackoff, offline, mirrors, b, progress);
    }

    /** These options, with a progress bar or not. */
    public Options withProgress(boolean b) {
      return new Options(connectTimeout, readTimeout, retries, backoff, maxBackoff, offline, mirrors, allowUnpinned,
          b);
    }
  }

  private final Cache cache;
  private final Options options;

  /** A fetcher into {@code cache}. */
  public Fetcher(Cache cache, Options options) {
    this.cache = cache;
    this.options = options;
  }

  /** A fetcher for the cache at {@link Zoo#home()} with {@link Options#fromEnvironment()}. */
  public static Fetcher create() {
    return new Fetcher(Cache.open(), Options.fromEnvironment());
  }

  /** The cache it fetches into. */
  public Cache cache() {
    return cache;
  }

  /** Its options. */
  public Options options() {
    return options;
  }

  /**
   * The verified file {@code files/<sha256>/<name>} of {@code ref}, fetching it first if the cache lacks it. A ref
   * pinned only by {@link RegistryEntry.FileRef#md5() MD5} is verified by its MD5 (and size, when given) before it is
   * cached under the SHA-256 computed from its bytes, and found again by its URI and MD5.
   *
   * @param entryName the registry entry the file belongs to (for messages and {@code genzoo cache list})
   * @throws IOException naming the entry, the file and the URL: the file is unpinned (and unpinned files are not
   *     allowed), missing while offline, unavailable (HTTP status, time-outs after the retries), or its size or
   *     SHA-256 differ from the registry (then nothing is cached and the partial download is deleted)
   */
  public Path fetch(RegistryEntry.FileRef ref, String entryName) throws IOException {
    String what = "file " + ref.name() + " of model " + entryName;
    String sha = ref.sha256();
    if (sha == null) {
      if (ref.md5() == null && !options.allowUnpinned()) {
        throw new IOException(what + " (" + ref.uri() + ") has no sha256 in the registry, so it cannot be "
            + "verified; refusing to fetch it. Set GENZOO_ALLOW_UNPINNED=1 (or -Dgenzoo.allowUnpinned=true) to "
            + "fetch it anyway; its sha256 is then printed so that the registry can pin it");
      }
      Optional<Path> known = findByUri(ref);
      if (known.isPresent()) {
        return known.get();
      }
    } else {
      Optional<Path> known = present(ref);
      if (known.isPresent()) {
        return known.get();
      }
    }
    List<String> sources = sources(ref);
    if (sha != null) {
      // The same bytes cached under another name (another entry's file): copied, with the same checks.
      for (Path sibling : Cache.blobs(cache.filesDir().resolve(sha))) {
        sources.add(0, sibling.toUri().toString());
      }
    }
    if (sources.isEmpty()) {
      throw offlineError(ref, what);
    }
    String key = sha != null ? sha : "url-" + Sha256.hex(ref.uri().getBytes(StandardCharsets.UTF_8)).substring(0, 40);
    try (Cache.Lock lock = cache.lock(Cache.fileLockKey(key))) {
      Optional<Path> known = sha != null ? present(ref) : findByUri(ref);
      if (known.isPresent()) {
        return known.get();
      }
      List<String> failures = new ArrayList<>();
      IOException last = null;
      for (String source : sources) {
        try {
          return obtain(source, ref, key, entryName, what);
        } catch (IOException e) {
          last = e;
          failures.add(e.getMessage());
        }
      }
      if (failures.size() == 1) {
        throw last;
      }
      throw new IOException("cannot fetch " + what + " from any of " + sources.size() + " sources: "
          + String.join("; ", failures), last);
    }
  }

  /** Where to fetch from, mirrors first; only local sources when offline. */
  private List<String> sources(RegistryEntry.FileRef ref) {
    List<String> out = new ArrayList<>();
    if (!ref.uri().startsWith("embedded:")) {
      for (String base : options.mirrors()) {
        out.add(base + "/" + ref.name());
      }
    }
    out.add(ref.uri());
    if (options.offline()) {
      out.removeIf(Fetcher::isNetwork);
    }
    return out;
  }

  private static boolean isNetwork(String uri) {
    String s = uri.toLowerCase(Locale.ROOT);
    return !(s.startsWith("file:") || s.startsWith("embedded:"));
  }

  private IOException offlineError(RegistryEntry.FileRef ref, String what) {
    String place = ref.sha256() != null ? cache.file(ref.sha256(), ref.name()).toString()
        : cache.filesDir().resolve("<its sha256>").resolve(ref.name()) + " (the folder named by the file's sha256)";
    return new IOException("offline (GENZOO_OFFLINE): " + what + " is not in the cache and would be downloaded "
        + "from " + ref.uri() + (options.mirrors().isEmpty() ? "" : " or the mirrors " + options.mirrors())
        + "; download it elsewhere and place it at " + place + ", or run without GENZOO_OFFLINE");
  }

  /** The cached file of a pinned ref, if it is there with the right size. */
  private Optional<Path> present(RegistryEntry.FileRef ref) throws IOException {
    Path target = cache.file(ref.sha256(), ref.name());
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
        && (ref.size() <= 0 || Files.size(target) == ref.size())) {
      return Optional.of(target);
    }
    return Optional.empty();
  }

  /**
   * The cached file of a ref without a SHA-256, found by the URI recorded in the {@code .origin} of its folder; for a
   * ref pinned by MD5, only a file with that MD5 (and size, when known).
   */
  private Optional<Path> findByUri(RegistryEntry.FileRef ref) throws IOException {
    for (Path dir : Cache.children(cache.filesDir())) {
      for (String[] line : Cache.originLines(dir)) {
        if (line[1].equals(ref.uri())) {
          Path target = dir.resolve(ref.name());
          if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && (ref.md5() == null
              || ((ref.size() <= 0 || Files.size(target) == ref.size()) && ref.md5().equals(md5Hex(target))))) {
            return Optional.of(target);
          }
        }
      }
    }
    return Optional.empty();
  }

  /** Fetches {@code source} into {@code partial/}, verifies it and moves it into {@code files/}. */
  private Path obtain(String source, RegistryEntry.FileRef ref, String key, String entryName, String what)
      throws IOException {
    Path part = cache.partialDir().resolve(key + ".part");
    Path sidecar = cache.partialDir().resolve(key + ".json");
    Files.createDirectories(cache.partialDir());
    String scheme = source.substring(0, Math.max(0, source.indexOf(':'))).toLowerCase(Locale.ROOT);
    switch (scheme) {
      case "http", "https" -> download(source, part, sidecar, ref, what);
      case "file" -> copy(source, part, sidecar, what);
      case "embedded" -> embedded(source, part, sidecar, what);
      default -> throw new IOException(what + ": unsupported URI scheme in " + source
          + " (http, https, file and embedded are supported)");
    }
    long size = Files.size(part);
    String actual = Sha256.hex(part);
    if (ref.sha256() != null && (!actual.equals(ref.sha256()) || (ref.size() > 0 && size != ref.size()))) {
      deleteQuietly(part, sidecar);
      throw new IOException("checksum mismatch for " + what + " from " + source + ": expected sha256 "
          + ref.sha256() + (ref.size() > 0 ? " (" + ref.size() + " bytes)" : "") + ", got " + actual + " ("
          + size + " bytes); the download was deleted and nothing was cached");
    }
    if (ref.sha256() == null) {
      if (ref.size() > 0 && size != ref.size()) {
        deleteQuietly(part, sidecar);
        throw new IOException(what + " from " + source + " has " + size + " bytes but the registry says "
            + ref.size() + "; nothing was cached");
      }
      if (ref.md5() != null) {
        String md5 = md5Hex(part);
        if (!md5.equals(ref.md5())) {
          deleteQuietly(part, sidecar);
          throw new IOException("checksum mismatch for " + what + " from " + source + ": expected md5 " + ref.md5()
              + ", got " + md5 + " (" + size + " bytes); the download was deleted and nothing was cached");
        }
      }
    }
    if (ref.sha256() == null && ref.md5() == null) {
      System.err.println("genzoo: unpinned " + what + " from " + source + " has sha256 " + actual + " and size "
          + size + "; pin it in the registry: \"sha256\": \"" + actual + "\", \"size\": " + size);
    }
    Path dir = cache.filesDir().resolve(actual);
    Files.createDirectories(dir);
    try (Cache.Lock lock = ref.sha256() == null ? cache.lock(Cache.fileLockKey(actual)) : () -> { }) {
      recordOrigin(dir, entryName, ref.uri());
      Path target = dir.resolve(ref.name());
      AtomicFiles.move(part, target);
      Files.deleteIfExists(sidecar);
      return target;
    }
  }

  /** Appends "entry TAB uri" to the {@code .origin} of a files folder (once). */
  private static void recordOrigin(Path dir, String entryName, String uri) throws IOException {
    String line = entryName.replace('\t', ' ').replace('\n', ' ') + "\t" + uri.replace('\n', ' ');
    Path origin = dir.resolve(Cache.ORIGIN);
    List<String> lines = new ArrayList<>();
    if (Files.isRegularFile(origin, LinkOption.NOFOLLOW_LINKS)) {
      lines.addAll(Files.readAllLines(origin));
    }
    if (!lines.contains(line)) {
      lines.add(line);
      AtomicFiles.writeString(origin, String.join("\n", lines) + "\n");
    }
  }

  private static void copy(String source, Path part, Path sidecar, String what) throws IOException {
    Path from;
    try {
      from = Path.of(new URI(source));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new IOException(what + ": bad file URI " + source + ": " + e.getMessage(), e);
    }
    if (!Files.isRegularFile(from)) {
      throw new IOException(what + ": " + (Files.exists(from) ? "not a regular file: " : "no such file: ") + from
          + " (" + source + ")");
    }
    Files.deleteIfExists(sidecar);
    Files.copy(from, part, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void embedded(String source, Path part, Path sidecar, String what) throws IOException {
    String resource = "/dev/genzoo/zoo/embedded/" + source.substring("embedded:".length());
    try (InputStream in = Fetcher.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException(what + ": the zoo jar lacks the embedded resource " + resource);
      }
      Files.deleteIfExists(sidecar);
      Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  // ---------------------------------------------------------------------------------------------------- HTTP

  /** An HTTP status that ends an attempt; {@code retryable} for 5xx, 408 and 429. */
  static final class HttpStatusException extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;
    final boolean retryable;
    final Duration retryAfter;

    HttpStatusException(String message, int status, Duration retryAfter) {
      super(message);
      this.status = status;
      this.retryable = status >= 500 || status == 408 || status == 429;
      this.retryAfter = retryAfter;
    }
  }

  /** A failure that retrying the same URL cannot fix (the server sends a different file). */
  static final class PermanentException extends IOException {
    private static final long serialVersionUID = 1L;

    PermanentException(String message) {
      super(message);
    }
  }

  /** One attempt of a retried operation. */
  @FunctionalInterface
  interface Attempt<T> {
    T run() throws IOException;
  }

  /** Progress of the bytes of a file; null when the caller does not track it. */
  @FunctionalInterface
  interface Meter {
    long bytes() throws IOException;
  }

  /**
   * Runs {@code attempt} until it succeeds, retrying failures that may pass with exponential back-off; attempts
   * after which {@code meter} grew do not count against the retries.
   */
  <T> T retrying(String url, Meter meter, Attempt<T> attempt) throws IOException {
    int failures = 0;
    for (int attempts = 1; ; attempts++) {
      long before = meter == null ? 0 : meter.bytes();
      Duration retryAfter = null;
      IOException error;
      try {
        return attempt.run();
      } catch (HttpStatusException e) {
        if (!e.retryable) {
          throw e;
        }
        retryAfter = e.retryAfter;
        error = e;
      } catch (PermanentException e) {
        throw e;
      } catch (IOException e) {
        error = e;
      }
      long after = meter == null ? 0 : meter.bytes();
      failures = after > before ? 0 : failures + 1;
      if (failures > options.retries() || attempts >= MAX_ATTEMPTS) {
        throw new IOException(error.getMessage() + " (gave up after " + attempts + " attempt"
            + (attempts == 1 ? "" : "s") + ")", error);
      }
      Duration wait = backoff(Math.max(failures, 1), retryAfter);
      System.err.println("genzoo: " + error.getMessage() + "; retrying in " + wait.toMillis() + " ms");
      try {
        Thread.sleep(wait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting to retry " + url, e);
      }
    }
  }

  /** {@code backoff * 2^(n-1)}, plus up to 10% jitter, capped at {@code maxBackoff}; or the server's Retry-After. */
  private Duration backoff(int n, Duration retryAfter) {
    long max = options.maxBackoff().toMillis();
    if (retryAfter != null) {
      return Duration.ofMillis(Math.min(max, retryAfter.toMillis()));
    }
    long base = options.backoff().toMillis();
    long wait = base << Math.min(n - 1, 30);
    if (wait < 0 || wait > max) {
      wait = max;
    }
    return Duration.ofMillis(Math.min(max, wait + ThreadLocalRandom.current().nextLong(wait / 10 + 1)));
  }

  private void download(String url, Path part, Path sidecar, RegistryEntry.FileRef ref, String what)
      throws IOException {
    retrying(url, () -> sizeOrZero(part), () -> {
      transfer(url, part, sidecar, ref, what);
      return null;
    });
  }

  /** One HTTP attempt: (re)starts or resumes {@code part} and reads until the end of the body. */
  private void transfer(String url, Path part, Path sidecar, RegistryEntry.FileRef ref, String what)
      throws IOException {
    Sidecar saved = Sidecar.read(sidecar).orElse(null);
    long have = sizeOrZero(part);
    boolean sameFile = saved != null && saved.url().equals(url);
    boolean validated = saved != null && (saved.strongEtag() != null || saved.lastModified() != null);
    if (have > 0 && (!sameFile || (ref.sha256() == null && !validated) || (ref.size() > 0 && have > ref.size()))) {
      deleteQuietly(part, sidecar);
      have = 0;
      saved = null;
    }
    if (have > 0 && ref.size() > 0 && have == ref.size()) {
      return;
    }
    HttpURLConnection c = connect(url, have, saved, what);
    boolean ok = false;
    try {
      int code = c.getResponseCode();
      long total;
      boolean append;
      if (code == HttpURLConnection.HTTP_PARTIAL && have > 0) {
        Matcher m = CONTENT_RANGE.matcher(String.valueOf(c.getHeaderField("Content-Range")));
        if (!m.matches() || Long.parseLong(m.group(1)) != have) {
          deleteQuietly(part, sidecar);
          throw new IOException(url + " answered the request for bytes " + have + "- with Content-Range "
              + c.getHeaderField("Content-Range") + "; starting over");
        }
        total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
        append = true;
      } else if (code == HttpURLConnection.HTTP_OK) {
        total = c.getContentLengthLong();
        append = false;
        have = 0;
      } else if (code == 416 && have > 0) {
        Matcher m = UNSATISFIED_RANGE.matcher(String.valueOf(c.getHeaderField("Content-Range")));
        if (m.matches() && Long.parseLong(m.group(1)) == have) {
          ok = true;
          return; // the partial file is already complete
        }
        deleteQuietly(part, sidecar);
        throw new IOException(url + " refused the range " + have + "- (HTTP 416); starting over");
      } else {
        throw statusError(c, code, url, what);
      }
      if (ref.size() > 0 && total >= 0 && total != ref.size()) {
        deleteQuietly(part, sidecar);
        throw new PermanentException("size mismatch for " + what + ": " + url + " serves " + total
            + " bytes but the registry says " + ref.size() + " (sha256 " + ref.sha256() + "); nothing was cached");
      }
      Sidecar now = new Sidecar(url, c.getHeaderField("ETag"), c.getHeaderField("Last-Modified"));
      if (!append || saved == null || !now.equals(saved)) {
        now.write(sidecar);
      }
      long expected = append ? total - have : total;
      long got = copyBody(c, part, append, have, expected, total >= 0 ? total : ref.size(), url, ref.name(), what);
      if (expected >= 0 && got < expected) {
        throw new IOException("the connection to " + url + " closed after " + (have + got) + " of "
            + (have + expected) + " bytes");
      }
      ok = true;
    } finally {
      if (!ok) {
        c.disconnect();
      }
    }
  }

  private HttpURLConnection connect(String url, long have, Sidecar saved, String what) throws IOException {
    String current = url;
    for (int hops = 0; hops <= MAX_REDIRECTS; hops++) {
      HttpURLConnection c;
      try {
        c = (HttpURLConnection) new URL(current).openConnection();
      } catch (IllegalArgumentException | ClassCastException e) {
        throw new PermanentException(what + ": bad URL " + current + ": " + e.getMessage());
      }
      c.setConnectTimeout((int) options.connectTimeout().toMillis());
      c.setReadTimeout((int) options.readTimeout().toMillis());
      c.setInstanceFollowRedirects(false);
      c.setUseCaches(false);
      c.setRequestProperty("User-Agent", "genzoo/" + dev.genzoo.graphs.Version.current());
      c.setRequestProperty("Accept-Encoding", "identity");
      if (have > 0) {
        c.setRequestProperty("Range", "bytes=" + have + "-");
        String validator = saved == null ? null
            : saved.strongEtag() != null ? saved.strongEtag() : saved.lastModified();
        if (validator != null) {
          c.setRequestProperty("If-Range", validator);
        }
      }
      int code;
      try {
        code = c.getResponseCode();
      } catch (SocketTimeoutException e) {
        c.disconnect();
        throw new IOException("no answer from " + current + " within the time-outs (connect "
            + options.connectTimeout().toMillis() + " ms, read " + options.readTimeout().toMillis() + " ms)", e);
      } catch (IOException e) {
        c.disconnect();
        throw new IOException("cannot get " + current + ": " + e, e);
      }
      if (code < 300 || code >= 400 || code == 304) {
        return c;
      }
      String location = c.getHeaderField("Location");
      c.disconnect();
      if (location == null) {
        throw new PermanentException("HTTP " + code + " from " + current + " without a Location (" + what + ")");
      }
      current = URI.create(current).resolve(location).toString();
      String scheme = current.substring(0, Math.max(0, current.indexOf(':'))).toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new PermanentException(url + " redirects to " + current + ", which is not http(s) (" + what + ")");
      }
    }
    throw new PermanentException(url + " redirects more than " + MAX_REDIRECTS + " times (" + what + ")");
  }

  private static HttpStatusException statusError(HttpURLConnection c, int code, String url, String what) {
    String reason;
    try {
      reason = c.getResponseMessage();
    } catch (IOException e) {
      reason = null;
    }
    Duration retryAfter = null;
    String header = c.getHeaderField("Retry-After");
    if (header != null && header.trim().matches("\\d{1,9}")) {
      retryAfter = Duration.ofSeconds(Long.parseLong(header.trim()));
    }
    boolean retryable = code >= 500 || code == 408 || code == 429;
    return new HttpStatusException("HTTP " + code + (reason == null ? "" : " " + reason) + " from " + url + " ("
        + what + ")" + (retryable ? "" : "; not retried"), code, retryAfter);
  }

  /** Reads the body into {@code part}; returns the bytes read. */
  private long copyBody(HttpURLConnection c, Path part, boolean append, long have, long expected, long total,
      String url, String name, String what) throws IOException {
    long got = 0;
    // Progress prints plain lines when it is not on a terminal; with no known total those would come every read.
    boolean show = options.progress() && (total > 0 || System.console() != null);
    try (InputStream in = c.getInputStream();
         FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
             append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
         Progress progress = Progress.start("fetch " + name, have, total > 0 ? total : -1, "B", show)) {
      byte[] buffer = new byte[BUFFER];
      int n;
      while (true) {
        try {
          n = in.read(buffer);
        } catch (SocketTimeoutException e) {
          throw new IOException("no data from " + url + " for " + options.readTimeout().toMillis()
              + " ms (the read time-out) after " + (have + got) + " bytes", e);
        }
        if (n < 0) {
          break;
        }
        if (expected >= 0 && got + n > expected) {
          throw new PermanentException(url + " sent more than the " + expected + " bytes it announced (" + what
              + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
        while (b.hasRemaining()) {
          out.write(b);
        }
        got += n;
        progress.stepTo(have + got);
      }
      out.force(true);
    }
    return got;
  }

  /**
   * The bytes at an http(s) or file URL, at most {@code maxBytes}, with the time-outs and retries of the options
   * (for small documents such as a registry).
   */
  byte[] read(String url, int maxBytes) throws IOException {
    if (!isNetwork(url)) {
      try {
        Path p = Path.of(new URI(url));
        if (Files.size(p) > maxBytes) {
          throw new IOException(url + " is larger than " + maxBytes + " bytes");
        }
        return Files.readAllBytes(p);
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new IOException("bad URL " + url + ": " + e.getMessage(), e);
      }
    }
    if (options.offline()) {
      throw new IOException("offline (GENZOO_OFFLINE): not fetching " + url);
    }
    return retrying(url, null, () -> {
      HttpURLConnection c = connect(url, 0, null, url);
      try {
        int code = c.getResponseCode();
        if (code != HttpURLConnection.HTTP_OK) {
          throw statusError(c, code, url, "registry");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = c.getInputStream()) {
          byte[] buffer = new byte[BUFFER];
          int n;
          while ((n = in.read(buffer)) >= 0) {
            if (out.size() + n > maxBytes) {
              throw new PermanentException(url + " is larger than " + maxBytes + " bytes");
            }
            out.write(buffer, 0, n);
          }
        } catch (SocketTimeoutException e) {
          throw new IOException("no data from " + url + " for " + options.readTimeout().toMillis()
              + " ms (the read time-out)", e);
        }
        long length = c.getContentLengthLong();
        if (length >= 0 && out.size() != length) {
          throw new IOException("the connection to " + url + " closed after " + out.size() + " of " + length
              + " bytes");
        }
        return out.toByteArray();
      } finally {
        c.disconnect();
      }
    });
  }

  // ---------------------------------------------------------------------------------------------------- helpers

  /**
   * What a partial download was fetched from, so that a resume continues only the same file.
   *
   * @param url the URL
   * @param etag the ETag the server sent (null if none)
   * @param lastModified the Last-Modified the server sent (null if none)
   */
  record Sidecar(String url, String etag, String lastModified) {
    /** The ETag if it is a strong one (If-Range accepts only strong validators, RFC 9110 section 13.1.5). */
    String strongEtag() {
      return etag != null && !etag.startsWith("W/") ? etag : null;
    }

    static Optional<Sidecar> read(Path file) {
      try {
        JsonNode n = JSON.readTree(Files.readAllBytes(file));
        String url = n.path("url").asText(null);
        if (url == null) {
          return Optional.empty();
        }
        return Optional.of(new Sidecar(url, n.path("etag").asText(null), n.path("lastModified").asText(null)));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      } catch (IOException e) {
        return Optional.empty(); // unreadable: the download starts over
      }
    }

    void write(Path file) throws IOException {
      ObjectNode n = JSON.createObjectNode();
      n.put("url", url);
      n.put("etag", etag);
      n.put("lastModified", lastModified);
      AtomicFiles.writeBytes(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
    }
  }

  /** The MD5 of a file, as lower-case hex (for files whose publisher gives only an MD5). */
  static String md5Hex(Path file) throws IOException {
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("MD5");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no MD5", e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[BUFFER];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        md.update(buffer, 0, n);
      }
    }
    return java.util.HexFormat.of().formatHex(md.digest());
  }

  private static long sizeOrZero(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  private static void deleteQuietly(Path... paths) {
    for (Path p : paths) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // best effort; the next attempt truncates or the sweep removes it
      }
    }
  }

  private static String setting(String property, String env, String fallback) {
    String v = System.getProperty(property);
    if ((v == null || v.isBlank()) && env != null) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  private static boolean flag(String property, String env) {
    String v = setting(property, env, "false").toLowerCase(Locale.ROOT);
    return v.equals("1") || v.equals("true") || v.equals("yes");
  }

  private static long longSetting(String property, String env, long fallback) {
    String v = setting(property, env, null);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the setting " + property + " must be a whole number, got '" + v + "'");
    }
  }
}
