package dev.genzoo.tools;

import dev.genzoo.zoo.Cache;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code genzoo cache list|verify|remove|sweep|path}: the download cache at $GENZOO_HOME. */
@Command(name = "cache", description = {"The download cache at $GENZOO_HOME (default ~/.genzoo): verified downloads "
    + "in files/, unpacked and converted models in models/, downloads in progress in partial/."},
    subcommands = {CacheCommand.ListCache.class, CacheCommand.VerifyCache.class, CacheCommand.RemoveCache.class,
        CacheCommand.SweepCache.class, CacheCommand.PathCache.class})
final class CacheCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.out);
    return 0;
  }

  @Command(name = "list", description = "Files, models and partial downloads in the cache, with their sizes.")
  static final class ListCache implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      Cache cache = Cache.open();
      List<Cache.Entry> entries = cache.list();
      if (entries.isEmpty()) {
        System.out.println("the cache " + cache.home() + " is empty");
        return 0;
      }
      System.out.printf("%-7s %10s  %-24s %s%n", "KIND", "SIZE", "MODEL", "ID / PATH");
      long total = 0;
      for (Cache.Entry e : entries) {
        total += e.size();
        System.out.printf("%-7s %10s  %-24s %s%n    %s%s%n", e.kind().toString().toLowerCase(),
            Format.bytes(e.size()), e.names().isEmpty() ? "-" : String.join(",", e.names()), e.id(), e.path(),
            e.kind() == Cache.Kind.PARTIAL && !e.detail().isEmpty() ? "  (from " + e.detail() + ")" : "");
      }
      System.out.println(entries.size() + " entries, " + Format.bytes(total) + " in " + cache.home());
      return 0;
    }
  }

  @Command(name = "verify", description = {"Recomputes the SHA-256 of every file and checks every model against its "
      + "model.json. Exit status 1 if anything is bad (remove it with genzoo cache remove ID)."})
  static final class VerifyCache implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      Cache cache = Cache.open();
      int bad = 0;
      List<Cache.Entry> checked = cache.verify();
      for (Cache.Entry e : checked) {
        boolean ok = e.state() == Cache.State.OK;
        bad += ok ? 0 : 1;
        System.out.printf("%-3s %-5s %s%s%n", ok ? "ok" : "BAD", e.kind().toString().toLowerCase(), e.id(),
            ok ? "" : ": " + e.detail() + " (" + e.path() + ")");
      }
      System.out.println(checked.size() + " checked, " + bad + " bad, in " + cache.home());
      return bad == 0 ? 0 : 1;
    }
  }

  @Command(name = "remove", description = {"Removes a model and its files by registry name, a model folder by its "
      + "name, a file or model by a SHA-256 (or a prefix of at least 6 hex digits), or everything with --all."})
  static final class RemoveCache implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME|SHA")
    String what;

    @Option(names = "--all", description = "remove everything (files, models, partial downloads, saved registries)")
    boolean all;

    @Override
    public Integer call() throws Exception {
      if (all == (what != null)) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "give either NAME|SHA or --all (genzoo cache list shows what is there)");
      }
      Cache cache = Cache.open();
      List<Path> removed = all ? cache.removeAll() : cache.remove(what);
      for (Path p : removed) {
        System.out.println("removed " + p);
      }
      System.out.println(removed.size() + " removed from " + cache.home());
      return 0;
    }
  }

  @Command(name = "sweep", description = {"Removes what interrupted downloads and unpacks left behind and no running "
      + "process uses: temporary folders, and partial downloads older than --partial-age-hours."})
  static final class SweepCache implements Callable<Integer> {
    @Option(names = "--partial-age-hours", defaultValue = "168",
        description = "keep partial downloads younger than this (they can be resumed); default ${DEFAULT-VALUE}")
    long hours;

    @Override
    public Integer call() throws Exception {
      Cache cache = Cache.open();
      List<Path> removed = cache.sweep(Duration.ofHours(hours));
      for (Path p : removed) {
        System.out.println("removed " + p);
      }
      System.out.println(removed.size() + " removed from " + cache.home());
      return 0;
    }
  }

  @Command(name = "path", description = "Prints the cache folder ($GENZOO_HOME, -Dgenzoo.home, or ~/.genzoo).")
  static final class PathCache implements Callable<Integer> {
    @Override
    public Integer call() {
      System.out.println(Zoo.home().toAbsolutePath());
      return 0;
    }
  }
}
