package dev.genzoo.graphs;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work, with rate and ETA: a live bar on a terminal, and plain lines (every 10% or 30 s) when the
 * output is a file or a pipe, so that CI logs stay readable. {@link #quiet()} shows nothing.
 */
public final class Progress implements AutoCloseable {
  private final ProgressBar bar;
  private final PrintStream lines;
  private final String task;
  private final String unit;
  private final long max;
  private final long start;
  private final long startNanos = System.nanoTime();
  private long current;
  private long lastLineNanos = System.nanoTime();
  private long lastLineStep;
  private String message = "";

  private Progress(String task, long start, long max, String unit, PrintStream out, boolean enabled) {
    this.task = task;
    this.unit = unit;
    this.max = max;
    this.start = start;
    this.current = start;
    this.lastLineStep = start;
    boolean terminal = enabled && System.console() != null && out == System.err;
    if (terminal) {
      this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
          .setUnit(" " + unit, 1).showSpeed().setUpdateIntervalMillis(250).startsFrom(start, Duration.ZERO)
          .setConsumer(new ConsoleProgressBarConsumer(out, 120)).build();
      this.lines = null;
    } else {
      this.bar = null;
      this.lines = enabled ? out : null;
    }
  }

  /** A progress display on standard error. */
  public static Progress start(String task, long start, long max, String unit) {
    return new Progress(task, start, max, unit, System.err, true);
  }

  /** A progress display, or nothing when {@code enabled} is false. */
  public static Progress start(String task, long start, long max, String unit, boolean enabled) {
    return new Progress(task, start, max, unit, System.err, enabled);
  }

  public static Progress quiet() {
    return new Progress("", 0, 1, "", System.err, false);
  }

  public void stepTo(long n) {
    current = n;
    if (bar != null) {
      bar.stepTo(n);
    } else if (lines != null) {
      long now = System.nanoTime();
      boolean tenth = max > 0 && (n - lastLineStep) * 10 >= max - start;
      if (n >= max || tenth || now - lastLineNanos > 30_000_000_000L) {
        lines.println(line());
        lastLineNanos = now;
        lastLineStep = n;
      }
    }
  }

  public void message(String text) {
    message = text;
    if (bar != null) {
      bar.setExtraMessage(" " + text);
    }
  }

  /** Units per second since the start. */
  public double rate() {
    double s = (System.nanoTime() - startNanos) / 1e9;
    return s > 0 ? (current - start) / s : 0;
  }

  private String line() {
    double rate = rate();
    long left = max - current;
    String eta = rate > 0 ? format(Duration.ofSeconds((long) (left / rate))) : "?";
    int pct = max > 0 ? (int) (100 * current / max) : 0;
    return String.format("%s %3d%% %d/%d %s, %.2f %s/s, ETA %s%s", task, pct, current, max, unit, rate, unit, eta,
        message.isEmpty() ? "" : ", " + message);
  }

  static String format(Duration d) {
    long s = d.getSeconds();
    return String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
