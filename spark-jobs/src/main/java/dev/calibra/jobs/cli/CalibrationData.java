package dev.calibra.jobs.cli;

import dev.calibra.calibration.CalibrationWindows;
import dev.calibra.model.generate.SampleGenerator;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.hf.TokenizerFile;
import dev.calibra.storage.tokens.TokenIdFiles;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;

/**
 * The calibration samples of a CBQ run, all of one length: N windows of seqLen tokens spread
 * evenly over the calibration text ({@link CalibrationWindows}; the text encoded paragraph by
 * paragraph with BOS, as the perplexity protocol encodes text), or the first N pre-tokenized
 * sequences cut to seqLen (samples chosen by whoever wrote the file); then the samples the float
 * model writes itself, when asked for.
 */
public record CalibrationData(String description, List<int[]> samples) {

  private static final long MAX_TEXT_BYTES = 1L << 30;

  /** @param progress told what sample generation is doing (it takes minutes on large models) */
  static CalibrationData load(CbqOptions options, ModelDirectory model, Consumer<String> progress)
      throws IOException {
    int context = model.config().maxPositions();
    if (options.seqLen() > context) {
      throw new IllegalArgumentException("--calib-seq-len " + options.seqLen()
          + " exceeds the model's context of " + context + " tokens");
    }
    if (options.samples() == 0) {
      return new CalibrationData("", List.of()).withGenerated(options, model,
          textSeqLen(options, context), progress);
    }
    CalibrationData given = options.calibTokens() != null ? fromTokens(options, context)
        : fromText(options, model, context);
    return given.withGenerated(options, model, given.samples().get(0).length, progress);
  }

  /** These samples followed by {@code options.generated()} the model writes, of seqLen tokens. */
  private CalibrationData withGenerated(CbqOptions options, ModelDirectory model, int seqLen,
      Consumer<String> progress) throws IOException {
    if (options.generated() == 0) {
      return this;
    }
    String what = SampleGenerator.describe(options.generated(), seqLen, options.seed());
    progress.accept("generating " + what + " on the CPU…");
    long start = System.nanoTime();
    List<int[]> all = new ArrayList<>(samples);
    all.addAll(SampleGenerator.generate(model.weights(), options.generated(), seqLen,
        options.seed(), (done, total) -> progress.accept(String.format(Locale.ROOT,
            "  %d/%d samples generated (%.0f s)", done, total, (System.nanoTime() - start) / 1e9))));
    return new CalibrationData(description.isEmpty() ? what : description + " + " + what, all);
  }

  private static CalibrationData fromText(CbqOptions options, ModelDirectory model, int context)
      throws IOException {
    FileLocation text = options.calibText() != null
        ? FileLocation.of(options.calibText(), new Configuration())
        : model.location().child(CbqOptions.DEFAULT_CALIBRATION_TEXT);
    if (!text.exists()) {
      throw new IOException("calibration text " + text + " does not exist"
          + (options.calibText() == null ? " (the model directory has no "
              + CbqOptions.DEFAULT_CALIBRATION_TEXT + "; give --calib-text or --calib-tokens)" : ""));
    }
    TokenizerFile tokenizerFile = model.tokenizer().orElseThrow(() -> new IOException(
        "the model directory " + model.location() + " has no tokenizer.model or tokenizer.json, "
            + "so text cannot be tokenized; give pre-tokenized ids with --calib-tokens"));
    Tokenizer tokenizer = Tokenizer.fromBytes(tokenizerFile.bytes(), tokenizerFile.location());
    int[] tokens = TextCorpus.encodeParagraphs(tokenizer,
        new String(text.readAllBytes(MAX_TEXT_BYTES), StandardCharsets.UTF_8));
    int seqLen = textSeqLen(options, context);
    int available = tokens.length / seqLen;
    if (available < options.samples()) {
      throw new IllegalArgumentException("the calibration text " + text + " holds " + tokens.length
          + " tokens: " + available + " samples of " + seqLen + ", fewer than the "
          + options.samples() + " asked for (--calib-samples)");
    }
    List<int[]> samples = CalibrationWindows.spread(tokens, seqLen, options.samples());
    return new CalibrationData(text + " (" + samples.size() + " × " + seqLen + " tokens, spread "
        + "over its " + available + " windows)", samples);
  }

  /** The length of samples cut from a stream: as given, else the default within the context. */
  private static int textSeqLen(CbqOptions options, int context) {
    return options.seqLen() > 0 ? options.seqLen() : Math.min(CbqOptions.DEFAULT_SEQ_LEN, context);
  }

  private static CalibrationData fromTokens(CbqOptions options, int context) throws IOException {
    String[] fileAndSplit = options.calibTokens().split("#", 2);
    List<int[]> sequences = TokenIdFiles.read(fileAndSplit[0],
        fileAndSplit.length > 1 ? fileAndSplit[1] : null);
    if (sequences.size() < options.samples()
        && options.samples() != CbqOptions.DEFAULT_SAMPLES) {
      throw new IllegalArgumentException(options.calibTokens() + " holds " + sequences.size()
          + " sequences, fewer than the " + options.samples() + " asked for (--calib-samples)");
    }
    int count = Math.min(options.samples(), sequences.size());
    int shortest = sequences.stream().limit(count).mapToInt(s -> s.length).min().orElse(0);
    int seqLen = options.seqLen() > 0 ? options.seqLen() : Math.min(shortest, context);
    if (shortest < seqLen) {
      throw new IllegalArgumentException("calibration sequences must hold " + seqLen
          + " tokens each; the shortest of " + options.calibTokens() + " has " + shortest);
    }
    List<int[]> samples = new ArrayList<>(count);
    for (int s = 0; s < count; s++) {
      samples.add(Arrays.copyOf(sequences.get(s), seqLen));
    }
    return new CalibrationData(options.calibTokens() + " (" + count + " × " + seqLen + " tokens)",
        samples);
  }
}
