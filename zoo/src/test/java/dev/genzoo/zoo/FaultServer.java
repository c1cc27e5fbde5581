package dev.genzoo.zoo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP server on 127.0.0.1 for download tests: each path has a body and a fault script, one action per request
 * (the last action repeats). It honours {@code Range: bytes=N-} (206 with Content-Range, unless an
 * {@code If-Range} does not match its ETag) and records every request and the body bytes it sent.
 */
final class FaultServer implements AutoCloseable {
  static final String LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT";

  enum Kind { OK, STATUS, DROP, STALL, TRICKLE, WRONG_BYTES }

  /** What the server does for one request; with a gate, it first waits (up to 60 s) for the gate to open. */
  record Action(Kind kind, int status, long bytes, long millis, java.util.concurrent.CountDownLatch gate) {
    Action(Kind kind, int status, long bytes, long millis) {
      this(kind, status, bytes, millis, null);
    }

    /** This action, once {@code latch} is open. */
    Action after(java.util.concurrent.CountDownLatch latch) {
      return new Action(kind, status, bytes, millis, latch);
    }
  }

  static Action ok() {
    return new Action(Kind.OK, 0, 0, 0);
  }

  /** Answers with this status and a short text body. */
  static Action status(int code) {
    return new Action(Kind.STATUS, code, 0, 0);
  }

  /** Announces the full length, sends {@code n} bytes of the body, then closes the connection. */
  static Action dropAfter(long n) {
    return new Action(Kind.DROP, 0, n, 0);
  }

  /** Sends the headers, then nothing, until the server closes. */
  static Action stall() {
    return new Action(Kind.STALL, 0, 0, 0);
  }

  /** Sends {@code bytes} every {@code millis} ms. */
  static Action trickle(long bytes, long millis) {
    return new Action(Kind.TRICKLE, 0, bytes, millis);
  }

  /** Sends a body of the right length with every byte changed. */
  static Action wrongBytes() {
    return new Action(Kind.WRONG_BYTES, 0, 0, 0);
  }

  /** One request as the server saw it (status 0 until the headers are sent; the bytes of the body so far). */
  record Request(String path, String range, String ifRange, int status, long bytesSent) {}

  /** A request being served. */
  private static final class Live {
    final String path;
    final String range;
    final String ifRange;
    int status;
    long sent;

    Live(String path, String range, String ifRange) {
      this.path = path;
      this.range = range;
      this.ifRange = ifRange;
    }
  }

  private static final class Resource {
    final byte[] body;
    final List<Action> script;
    int served;

    Resource(byte[] body, List<Action> script) {
      this.body = body;
      this.script = script;
    }

    synchronized Action next() {
      Action a = script.get(Math.min(served, script.size() - 1));
      served++;
      return a;
    }
  }

  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");
  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-server");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Resource> resources = new HashMap<>();
  private final List<Live> requests = new ArrayList<>();

  FaultServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Serves {@code body} at {@code path} following {@code script} (default: always OK). */
  synchronized FaultServer serve(String path, byte[] body, Action... script) {
    resources.put(path, new Resource(body, script.length == 0 ? List.of(ok()) : List.of(script)));
    return this;
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  synchronized List<Request> requests(String path) {
    return requests.stream().filter(r -> r.path.equals(path))
        .map(r -> new Request(r.path, r.range, r.ifRange, r.status, r.sent)).toList();
  }

  synchronized long bytesSent(String path) {
    return requests(path).stream().mapToLong(Request::bytesSent).sum();
  }

  private synchronized Live arrived(String path, String range, String ifRange) {
    Live r = new Live(path, range, ifRange);
    requests.add(r);
    return r;
  }

  private synchronized void status(Live r, int code) {
    r.status = code;
  }

  private synchronized void sent(Live r, long n) {
    r.sent += n;
  }

  static String etag(byte[] body) {
    return "\"v1-" + body.length + "-" + java.util.Arrays.hashCode(body) + "\"";
  }

  private void handle(HttpExchange x) throws IOException {
    String path = x.getRequestURI().getPath();
    String range = x.getRequestHeaders().getFirst("Range");
    String ifRange = x.getRequestHeaders().getFirst("If-Range");
    Resource r;
    synchronized (this) {
      r = resources.get(path);
    }
    Live live = arrived(path, range, ifRange);
    int code;
    try {
      if (r == null) {
        status(live, 404);
        sendText(x, 404, "not found: " + path);
        return;
      }
      Action a = r.next();
      if (a.gate() != null && !a.gate().await(60, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new IllegalStateException("the gate of " + path + " never opened");
      }
      if (a.kind() == Kind.STATUS) {
        code = a.status();
        status(live, code);
        sendText(x, code, "status " + code + " for " + path);
        return;
      }
      byte[] body = r.body.clone();
      if (a.kind() == Kind.WRONG_BYTES) {
        for (int i = 0; i < body.length; i++) {
          body[i] = (byte) ~body[i];
        }
      }
      String etag = etag(r.body);
      long start = 0;
      Matcher m = range == null ? null : RANGE.matcher(range);
      boolean validatorOk = ifRange == null || ifRange.equals(etag) || ifRange.equals(LAST_MODIFIED);
      x.getResponseHeaders().set("ETag", etag);
      x.getResponseHeaders().set("Last-Modified", LAST_MODIFIED);
      x.getResponseHeaders().set("Accept-Ranges", "bytes");
      if (m != null && m.matches() && validatorOk) {
        start = Long.parseLong(m.group(1));
        if (start >= body.length) {
          x.getResponseHeaders().set("Content-Range", "bytes */" + body.length);
          status(live, 416);
          x.sendResponseHeaders(416, -1);
          x.close();
          return;
        }
        code = 206;
        x.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
      } else {
        code = 200;
      }
      long length = body.length - start;
      status(live, code);
      x.sendResponseHeaders(code, length);
      OutputStream out = x.getResponseBody();
      switch (a.kind()) {
        case OK, WRONG_BYTES -> {
          write(out, body, (int) start, (int) length, live);
          out.close();
        }
        case DROP -> {
          write(out, body, (int) start, (int) Math.min(a.bytes(), length), live);
          out.flush();
          // Closing the exchange with bytes missing makes the server close the connection; so does an exception
          // out of the handler.
          x.close();
          throw new IllegalStateException("connection dropped on purpose");
        }
        case STALL -> {
          out.flush();
          sleep(120_000);
        }
        case TRICKLE -> {
          for (long off = start; off < body.length; off += a.bytes()) {
            write(out, body, (int) off, (int) Math.min(a.bytes(), body.length - off), live);
            out.flush();
            sleep(a.millis());
          }
          out.close();
        }
        default -> throw new IllegalStateException(a.kind().toString());
      }
    } catch (IOException | InterruptedException e) {
      // the client went away (or the server is closing)
    } finally {
      x.close();
    }
  }

  private void write(OutputStream out, byte[] body, int off, int len, Live live) throws IOException {
    out.write(body, off, len);
    sent(live, len);
  }

  private static void sleep(long millis) throws InterruptedException {
    Thread.sleep(millis);
  }

  private static void sendText(HttpExchange x, int code, String text) throws IOException {
    byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    x.sendResponseHeaders(code, b.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
