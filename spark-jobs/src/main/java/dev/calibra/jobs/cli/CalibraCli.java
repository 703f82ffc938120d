package dev.calibra.jobs.cli;

import dev.calibra.jobs.spark.CalibrateJobMain;
import java.io.PrintStream;

/** The {@code calibra} command line: dispatches to a sub-command and turns failures into exit codes. */
public final class CalibraCli {

  private CalibraCli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs a command; returns the process exit code (0 success, 1 failure, 2 bad usage). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      out.println("Usage: calibra <command> [options]\n\nCommands:\n"
          + "  calibrate    CBQ-calibrate a model on Spark, local by default (calibra calibrate --help)\n"
          + "  quantize     quantize a model and measure its perplexity (calibra quantize --help)\n"
          + "  evaluate     perplexity of the model in an artifact (calibra evaluate --help)\n"
          + "  export-gptq  write an artifact as a GPTQ checkpoint (calibra export-gptq --help)");
      return args.length == 0 ? 2 : 0;
    }
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    if (args[0].equals("calibrate")) {
      return CalibrateJobMain.run(rest, out, err);
    }
    if (args[0].equals("evaluate") || args[0].equals("export-gptq")) {
      return ArtifactCommands.run(args[0], rest, out, err);
    }
    if (!args[0].equals("quantize")) {
      err.println("calibra: unknown command '" + args[0]
          + "' (commands: calibrate, quantize, evaluate, export-gptq)");
      return 2;
    }
    if (QuantizeOptions.wantsHelp(rest)) {
      out.print(QuantizeOptions.help());
      return 0;
    }
    QuantizeOptions options;
    try {
      options = QuantizeOptions.parse(rest);
    } catch (IllegalArgumentException e) {
      err.println("calibra quantize: " + e.getMessage());
      return 2;
    }
    try {
      new QuantizeCommand(options, out).run();
      return 0;
    } catch (Exception e) {
      err.println("calibra quantize failed: " + describe(e));
      return 1;
    }
  }

  /** The message chain of an exception, which names the file and item at fault. */
  public static String describe(Throwable e) {
    StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable cause = e.getCause(); cause != null && cause != e; cause = cause.getCause()) {
      text.append("\n  caused by: ").append(cause.getMessage());
    }
    return text.toString();
  }
}
