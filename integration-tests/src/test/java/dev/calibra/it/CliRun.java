package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.jobs.cli.CalibraCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs a {@code calibra} command in-process, as bin/calibra would, capturing what it prints. */
record CliRun(int exitCode, String out, String err) {

  /** Where the artifact tests leave their files for the Python tests (bin/test runs both). */
  static final Path FIXTURES = Path.of("target", "artifact-fixtures").toAbsolutePath();

  static CliRun of(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = CalibraCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Runs and requires success, showing the output when it fails. */
  static CliRun succeeding(String... args) {
    CliRun run = of(args);
    assertEquals(0, run.exitCode(), () -> String.join(" ", args) + "\n" + run.out() + run.err());
    return run;
  }

  /** The full-precision number printed after "perplexity " at the start of a line. */
  double printedPerplexity() {
    Matcher m = Pattern.compile("(?m)^perplexity (\\S+) ").matcher(out);
    if (!m.find()) {
      throw new AssertionError("no perplexity line in:\n" + out);
    }
    return Double.parseDouble(m.group(1));
  }
}
