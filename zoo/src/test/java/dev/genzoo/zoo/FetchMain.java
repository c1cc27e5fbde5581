package dev.genzoo.zoo;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A separate process for the multi-process fetch tests: {@code FetchMain HOME URI SHA256 SIZE NAME ENTRY} fetches
 * one file into the cache at HOME with {@link Fetcher.Options#fromEnvironment()} (time-outs and retries come as
 * {@code -Dgenzoo.fetch.*} properties) and prints the cached path. Exit status 0 on success, 2 on a fetch error.
 * With {@code -Dfetchmain.started=FILE} it creates FILE once it runs, just before fetching.
 */
public final class FetchMain {
  private FetchMain() {}

  public static void main(String[] args) {
    Fetcher fetcher = new Fetcher(Cache.at(Path.of(args[0])), Fetcher.Options.fromEnvironment());
    RegistryEntry.FileRef ref = new RegistryEntry.FileRef(args[1], args[2], Long.parseLong(args[3]), args[4]);
    System.err.println("fetch-main: started");
    String started = System.getProperty("fetchmain.started");
    if (started != null) {
      try {
        java.nio.file.Files.createFile(Path.of(started));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    try {
      System.out.println(fetcher.fetch(ref, args[5]));
    } catch (IOException e) {
      System.err.println("fetch-main: " + e.getMessage());
      System.exit(2);
    }
  }
}
