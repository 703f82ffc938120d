package dev.calibra.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.storage.gptq.GptqFormat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The artifact options of quantize, evaluate and export-gptq, and their usage errors. */
class ArtifactOptionsTest {

  @Test
  void outputNeedsExactlyOneScheme() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(new String[] {"--bits", "4,3", "--group", "32", "--output", "a.arrow"}));
    assertEquals("--output writes one artifact, so it needs exactly one scheme: give one --bits and "
        + "one --group (got 2 schemes)", e.getMessage());
    QuantizeOptions one = QuantizeOptions.parse(new String[] {"--bits", "3", "--group", "32",
        "--output", "hdfs://nn:8020/a.arrow", "--overwrite"});
    assertEquals("hdfs://nn:8020/a.arrow", one.output());
    assertTrue(one.overwrite());
    assertNull(QuantizeOptions.parse(new String[0]).output());
  }

  @Test
  void overwriteWithoutOutputIsAMistake() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(new String[] {"--overwrite"}));
    assertEquals("--overwrite applies to --output, which is not given", e.getMessage());
  }

  @Test
  void evaluateTakesTheEvaluationOptionsOfQuantize() {
    EvaluateOptions options = EvaluateOptions.parse(new String[] {"--artifact", "m.arrow",
        "--eval-text", "t.txt", "--text-layout", "whole", "--context", "256", "--windows", "3"});
    assertEquals(new EvaluationSettings("t.txt", QuantizeOptions.TextLayout.WHOLE, null, 256, 3),
        options.evaluation());
    assertEquals(2, run("evaluate", "--eval-text", "t.txt").exitCode);
    assertEquals("calibra evaluate: --artifact is required (see --help)\n",
        run("evaluate", "--eval-text", "t.txt").err);
  }

  @Test
  void evaluateTakesAnOptionalPerplexityGate() {
    assertNull(EvaluateOptions.parse(new String[] {"--artifact", "m.arrow"}).maxPerplexity());
    assertEquals(90.5, EvaluateOptions.parse(new String[] {"--artifact", "m.arrow",
        "--max-perplexity", "90.5"}).maxPerplexity());
    for (String bad : new String[] {"0.5", "NaN", "Infinity", "lots"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> EvaluateOptions.parse(new String[] {"--artifact", "m.arrow", "--max-perplexity",
              bad}));
      assertEquals("--max-perplexity must be a number ≥ 1, got '" + bad + "'", e.getMessage());
    }
  }

  @Test
  void exportGptqChecksItsFormat() {
    assertEquals(GptqFormat.GPTQ, ExportGptqOptions.parse(new String[] {"--artifact", "a", "--out",
        "d"}).format());
    assertEquals(GptqFormat.GPTQ_V2, ExportGptqOptions.parse(new String[] {"--artifact", "a",
        "--out", "d", "--checkpoint-format", "gptq_v2"}).format());
    Result bad = run("export-gptq", "--artifact", "a", "--out", "d", "--checkpoint-format", "awq");
    assertEquals(2, bad.exitCode);
    assertEquals("calibra export-gptq: GPTQ checkpoint format must be gptq or gptq_v2, got 'awq'\n",
        bad.err);
    assertTrue(run("export-gptq", "--help").out.startsWith("Usage: calibra export-gptq"));
  }

  @Test
  void aMissingArtifactFailsNamingIt() {
    Result missing = run("evaluate", "--artifact", "/nonexistent/model.arrow", "--eval-tokens", "x");
    assertEquals(1, missing.exitCode);
    assertEquals("calibra evaluate failed: artifact /nonexistent/model.arrow does not exist\n",
        missing.err);
  }

  private record Result(int exitCode, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = CalibraCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
