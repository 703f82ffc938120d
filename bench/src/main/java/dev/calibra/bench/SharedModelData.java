package dev.calibra.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.model.generate.SampleGenerator;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The calibration samples and evaluation windows of a shared model (benchmarks find the shared
 * folder through -Dcalibra.shared, as bench/run sets it), as shared/README.md defines
 * them: pre-tokenized splits in sequences.json (stories260K), or calibration.txt and heldout.txt
 * through the model's tokenizer (dict-llama-15M: 128 calibration windows of 512 tokens, and the
 * first 40 held-out windows of 512 predictions).
 */
public record SharedModelData(String name, Path directory, List<int[]> calibration,
    String calibrationDescription, List<int[]> evaluation) {

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
      return new SharedModelData(name, directory, calibration, describe(calibration), evaluation);
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
    return new SharedModelData(name, directory, calibration, describe(calibration), evaluation);
  }

  private static String describe(List<int[]> samples) {
    return samples.size() + " samples of " + samples.get(0).length + " tokens";
  }

  /**
   * This data with the first {@code kept} calibration samples followed by {@code generated}
   * more of the same length that the float model writes itself. With -Dcalibra.bench.samples=DIR
   * the generated samples are kept there and read back by later runs (one JVM per row would
   * otherwise each draw the same samples).
   */
  public SharedModelData withCalibration(int kept, int generated, long seed) throws IOException {
    int length = calibration.get(0).length;
    List<int[]> samples = new ArrayList<>(calibration.subList(0, kept));
    String description = kept > 0 ? describe(samples) : "";
    if (generated > 0) {
      samples.addAll(generatedSamples(generated, length, seed));
      description += (kept > 0 ? " + " : "") + SampleGenerator.describe(generated, length, seed);
    }
    return new SharedModelData(name, directory, samples, description, evaluation);
  }

  private List<int[]> generatedSamples(int count, int length, long seed) throws IOException {
    String folder = System.getProperty("calibra.bench.samples");
    Path kept = folder == null ? null
        : Path.of(folder, name + "-" + count + "x" + length + "-seed" + seed + ".json");
    if (kept != null && Files.exists(kept)) {
      return TokenIdFiles.read(kept.toString(), "calibration");
    }
    List<int[]> samples;
    try (ModelDirectory model = ModelDirectory.open(directory.toString())) {
      long start = System.nanoTime();
      samples = SampleGenerator.generate(model.weights(), count, length, seed,
          (done, total) -> System.err.printf(Locale.ROOT, "%s: %d/%d samples generated (%.0f s)%n",
              name, done, total, (System.nanoTime() - start) / 1e9));
    }
    if (kept != null) {
      Files.createDirectories(kept.getParent());
      Path partial = kept.resolveSibling(kept.getFileName() + ".partial");
      new ObjectMapper().writeValue(partial.toFile(), Map.of("calibration", samples));
      Files.move(partial, kept, StandardCopyOption.ATOMIC_MOVE);
    }
    return samples;
  }

  /** The shared models folder: -Dcalibra.shared, or ../shared from the working directory. */
  public static Path modelsFolder() {
    return Path.of(System.getProperty("calibra.shared", "../shared"), "models");
  }
}
