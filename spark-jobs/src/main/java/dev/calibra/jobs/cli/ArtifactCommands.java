package dev.calibra.jobs.cli;

import java.io.PrintStream;

/** The commands that work on an artifact: evaluate and export-gptq; exit codes as CalibraCli's. */
final class ArtifactCommands {

  private ArtifactCommands() {}

  static int run(String command, String[] args, PrintStream out, PrintStream err) {
    boolean evaluate = command.equals("evaluate");
    if (QuantizeOptions.wantsHelp(args)) {
      out.print(evaluate ? EvaluateOptions.help() : ExportGptqOptions.help());
      return 0;
    }
    try {
      if (evaluate) {
        EvaluateOptions options = EvaluateOptions.parse(args);
        return runCommand(command, err, () -> new EvaluateCommand(options, out).run());
      }
      ExportGptqOptions options = ExportGptqOptions.parse(args);
      return runCommand(command, err, () -> new ExportGptqCommand(options, out).run());
    } catch (IllegalArgumentException e) {
      err.println("calibra " + command + ": " + e.getMessage());
      return 2;
    }
  }

  private interface Command {
    void run() throws Exception;
  }

  private static int runCommand(String name, PrintStream err, Command command) {
    try {
      command.run();
      return 0;
    } catch (Exception e) {
      err.println("calibra " + name + " failed: " + CalibraCli.describe(e));
      return 1;
    }
  }
}
