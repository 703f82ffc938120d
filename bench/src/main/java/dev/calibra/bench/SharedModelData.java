package dev.calibra.bench;

import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.storage.tokens.TokenIdFiles;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The calibration samples and evaluation windows of a shared model (benchmarks find the shared
 * folder through -Dcalibra.shared, as bench/run sets it), as shared/README.md defines
 * them: pre-tokenized splits in sequences.json (stories260K), or calibration.txt and heldout.txt
 * through the model's tokenizer (dict-llama-15M: 128 calibration windows of 512 tokens, and the
 * first 40 held-out windows of 512 predictions).
 */
public record SharedModelData(String name, Path directory, List<int[]> calibration,
    List<int[]> evaluation) {

  private static final int TEXT_CONTEXT = 512;
  private static final int TEXT_CALIBRATION_SAMPLES = 128;
  private static final int TEXT_EVALUATION_WINDOWS = 40;

  public static SharedModelData load(Path directory) throws IOException {
    String name = directory.getFileName().toString();
    Path sequences = directory.resolve("sequences.json");
    if (Files.exists(sequences)) {
      List<int[]> calibration = TokenIdFiles.read(sequences.toString(), "calibration");
      List<int[]> evaluation = EvaluationWindows.ofSequences(
          TokenIdFiles.read(sequences.toString(), "evaluation"), TEXT_CONTEXT);
      return new SharedModelData(name, directory, calibration, evaluation);
    }
    Tokenizer tokenizer = Tokenizer.load(directory);
    int[] calibrationTokens = TextCorpus.encodeParagraphs(tokenizer,
        Files.readString(directory.resolve("calibration.txt")));
    List<int[]> calibration = new ArrayList<>();
    for (int[] window : EvaluationWindows.ofStream(calibrationTokens, TEXT_CONTEXT,
        TEXT_CALIBRATION_SAMPLES)) {
      calibration.add(Arrays.copyOf(window, TEXT_CONTEXT));
    }
    List<int[]> evaluation = EvaluationWindows.ofStream(TextCorpus.encodeParagraphs(tokenizer,
        Files.readString(directory.resolve("heldout.txt"))), TEXT_CONTEXT, TEXT_EVALUATION_WINDOWS);
    return new SharedModelData(name, directory, calibration, evaluation);
  }

  /** The shared models folder: -Dcalibra.shared, or ../shared from the working directory. */
  public static Path modelsFolder() {
    return Path.of(System.getProperty("calibra.shared", "../shared"), "models");
  }
}
