package dev.calibra.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibrationDataTest {

  private static final Path DICT = Path.of(System.getProperty("calibra.shared", "../../shared"),
      "models", "dict-llama-15M");

  @Test
  void textSamplesAreWindowsSpreadOverTheWholeText(@TempDir Path folder) throws Exception {
    String text = IntStream.range(0, 300)
        .mapToObj(i -> "Paragraph " + i + " of a calibration text made of several sources.")
        .collect(Collectors.joining("\n\n"));
    Path file = folder.resolve("calibration.txt");
    Files.writeString(file, text);
    QuantizeOptions options = QuantizeOptions.parse(new String[] {"--method", "cbq",
        "--calib-text", file.toString(), "--calib-samples", "4", "--calib-seq-len", "64"});
    try (ModelDirectory model = ModelDirectory.open(DICT.toString())) {
      CalibrationData data = CalibrationData.load(options.cbq(), model, line -> { });
      int[] tokens = TextCorpus.encodeParagraphs(Tokenizer.load(DICT), text);
      int windows = tokens.length / 64;
      assertEquals(4, data.samples().size());
      for (int i = 0; i < 4; i++) {
        int start = i * windows / 4 * 64;
        assertArrayEquals(Arrays.copyOfRange(tokens, start, start + 64), data.samples().get(i),
            "sample " + i);
      }
      assertEquals(file + " (4 × 64 tokens, spread over its " + windows + " windows)",
          data.description());
    }
  }
}
