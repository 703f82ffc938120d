package dev.calibra.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.calibration.CalibrationWindows;
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
 * through the model's tokenizer (dict-llama-15M: 128 calibration windows of 512 tokens spread
 * over calibration.txt as {@code calibra} spreads them, and the first 40 held-out windows of 512
 * predictions).
 */
public record SharedModelData(String name, Path directory, List<int[]> calibration,
    String calibrationDescription, List<int[]> evaluation, String evaluationDescription) {

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
      return new SharedModelData(name, directory, calibration, describe(calibration), evaluation,
          "sequences.json's evaluation split");
    }
    Tokenizer tokenizer = Tokenizer.load(directory);
    int[] calibrationText = textTokens(tokenizer, directory, "calibration.txt");
    List<int[]> calibration = CalibrationWindows.spread(calibrationText, TEXT_CONTEXT,
        TEXT_CALIBRATION_SAMPLES);
    List<int[]> evaluation = EvaluationWindows.ofStream(
        textTokens(tokenizer, directory, "heldout.txt"), TEXT_CONTEXT, TEXT_EVALUATION_WINDOWS);
    return new SharedModelData(name, directory, calibration, describe(calibration)
        + " of calibration.txt, spread over its " + calibrationText.length / TEXT_CONTEXT
        + " windows", evaluation,
        "the first " + TEXT_EVALUATION_WINDOWS + " windows of heldout.txt");
  }

  /**
   * This text model's data calibrated on held-out text instead of calibration.txt: the 128
   * windows of heldout.txt that follow the evaluated ones, one window left out between so that no
   * evaluated token is among them. Not the protocol of shared/README.md: it measures how much the
   * calibration text's distribution matters (calibration.txt is text the model was trained on,
   * heldout.txt text it never saw).
   */
  public SharedModelData withHeldOutCalibration() throws IOException {
    if (Files.exists(directory.resolve("sequences.json"))) {
      throw new IllegalArgumentException(name + " has token splits, no held-out text to "
          + "calibrate on");
    }
    int first = TEXT_EVALUATION_WINDOWS + 1;
    List<int[]> samples = samples(textTokens(Tokenizer.load(directory), directory, "heldout.txt"),
        first);
    return new SharedModelData(name, directory, samples, describe(samples) + " of heldout.txt "
        + "(its windows " + first + "–" + (first + samples.size() - 1) + "; 0–"
        + (TEXT_EVALUATION_WINDOWS - 1) + " are evaluated)", evaluation, evaluationDescription);
  }

  /**
   * This text model's data calibrated on the first 128 windows of calibration.txt instead of 128
   * spread over all of it: how the tables were measured before the calibration windows were
   * spread (calibration/CBQ.md, "Which windows of the calibration text").
   */
  public SharedModelData withFirstWindowsCalibration() throws IOException {
    if (Files.exists(directory.resolve("sequences.json"))) {
      throw new IllegalArgumentException(name + " has token splits: every sample is used already");
    }
    List<int[]> samples = samples(textTokens(Tokenizer.load(directory), directory,
        "calibration.txt"), 0);
    return new SharedModelData(name, directory, samples, describe(samples)
        + " of calibration.txt, its first windows", evaluation, evaluationDescription);
  }

  private static int[] textTokens(Tokenizer tokenizer, Path directory, String file)
      throws IOException {
    return TextCorpus.encodeParagraphs(tokenizer, Files.readString(directory.resolve(file)));
  }

  /** The calibration samples of a text: its windows from {@code first} on, of 512 tokens. */
  private static List<int[]> samples(int[] tokens, int first) {
    List<int[]> windows = EvaluationWindows.ofStream(tokens, TEXT_CONTEXT,
        first + TEXT_CALIBRATION_SAMPLES);
    List<int[]> samples = new ArrayList<>();
    for (int[] window : windows.subList(first, windows.size())) {
      samples.add(Arrays.copyOf(window, TEXT_CONTEXT));
    }
    return samples;
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
    return new SharedModelData(name, directory, samples, description, evaluation,
        evaluationDescription);
  }

  /**
   * This data evaluated on {@code count} samples the float model writes itself (seed
   * {@code seed}, the calibration samples' length) instead of its evaluation data: for
   * stories260K, whose evaluation split is itself 32 samples of the model, an independent
   * replica of that split, on which choices made by looking at the evaluation split can be
   * checked.
   */
  public SharedModelData withGeneratedEvaluation(int count, long seed) throws IOException {
    List<int[]> samples = generatedSamples(count, calibration.get(0).length, seed);
    return new SharedModelData(name, directory, calibration, calibrationDescription,
        EvaluationWindows.ofSequences(samples, TEXT_CONTEXT),
        SampleGenerator.describe(count, calibration.get(0).length, seed));
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
