package dev.genzoo.tools;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code genzoo} command line: thin commands that parse, load a preset or a bundle, apply {@code --set}
 * overrides and call the library. Exit status 0 on success; otherwise a one-line reason on standard error (the stack
 * trace too with {@code GENZOO_DEBUG=1}).
 */
@Command(name = "genzoo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "A model zoo of deep generative models on TensorFlow Java.",
    subcommands = {ListCommand.class, InfoCommand.class, SampleCommand.class, ReconstructCommand.class, LogpCommand.class, EvalCommand.class,
        TrainCommand.class, FineTuneCommand.class, BenchCommand.class, ExperimentCommand.class, ConvertCommand.class,
        InspectCommand.class, ExportCommand.class, CacheCommand.class, MetricsCommand.class, BenchmarkCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit status (for tests and examples). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      Throwable cause = e;
      while ((cause instanceof java.io.UncheckedIOException || cause instanceof java.util.concurrent.CompletionException)
          && cause.getCause() != null) {
        cause = cause.getCause();
      }
      PrintWriter err = cmd.getErr();
      String msg = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
      err.println("genzoo " + cmd.getCommandName() + ": " + msg.replace('\n', ' '));
      if (System.getenv("GENZOO_DEBUG") != null) {
        cause.printStackTrace(err);
      }
      err.flush();
      return 1;
    });
    return cl.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"genzoo " + version()};
    }
  }

  static String version() {
    return dev.genzoo.graphs.Version.current();
  }
}
