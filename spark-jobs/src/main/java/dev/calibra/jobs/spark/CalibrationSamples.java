package dev.calibra.jobs.spark;

import dev.calibra.jobs.cli.CalibrateOptions;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.hf.TokenizerFile;
import dev.calibra.storage.tokens.TokenIdFiles;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;

/**
 * The calibration samples of a job, all of one length, and where they came from. The driver
 * tokenizes them once (they are small: ids, not activations) and writes them to the work
 * directory, where the capture task reads them.
 *
 * @param source what the samples were cut from, for logs and the summary
 */
record CalibrationSamples(List<int[]> samples, String source) {

  static final String DEFAULT_TEXT = "calibration.txt";
  private static final int DEFAULT_TEXT_SEQ_LEN = 512;
  private static final long MAX_TEXT_BYTES = 1L << 30;

  static CalibrationSamples load(CalibrateOptions options, ModelDirectory model)
      throws IOException {
    return options.calibrationTokens() != null ? fromTokens(options) : fromText(options, model);
  }

  int seqLen() {
    return samples.get(0).length;
  }

  /** CRC32C of every id in order: what a work directory remembers of its calibration data. */
  long checksum() {
    CRC32C crc = new CRC32C();
    for (int[] sample : samples) {
      ByteBuffer bytes = ByteBuffer.allocate(4 * sample.length).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asIntBuffer().put(sample);
      crc.update(bytes);
    }
    return crc.getValue();
  }

  /** The first {@code samples} sequences of a token file, cut to the sequence length if given. */
  private static CalibrationSamples fromTokens(CalibrateOptions options) throws IOException {
    String[] fileAndSplit = options.calibrationTokens().split("#", 2);
    List<int[]> sequences = TokenIdFiles.read(fileAndSplit[0],
        fileAndSplit.length > 1 ? fileAndSplit[1] : null);
    if (sequences.size() < options.samples()) {
      throw new FileContentException(options.calibrationTokens() + " holds " + sequences.size()
          + " sequences, fewer than the " + options.samples() + " samples asked for (--samples)");
    }
    int length = options.seqLen() > 0 ? options.seqLen() : sequences.get(0).length;
    List<int[]> samples = new ArrayList<>();
    for (int i = 0; i < options.samples(); i++) {
      int[] sequence = sequences.get(i);
      if (sequence.length < length) {
        throw new FileContentException(options.calibrationTokens() + ": sequence " + i + " has "
            + sequence.length + " tokens, fewer than the " + length + " of a sample");
      }
      samples.add(Arrays.copyOf(sequence, length));
    }
    return new CalibrationSamples(samples, options.calibrationTokens() + " (first "
        + options.samples() + " sequences, " + length + " tokens each)");
  }

  /** Consecutive pieces of seqLen tokens of the text, tokenized as paragraphs with BOS. */
  private static CalibrationSamples fromText(CalibrateOptions options, ModelDirectory model)
      throws IOException {
    FileLocation text = options.calibrationText() != null
        ? FileLocation.of(options.calibrationText(), new Configuration())
        : model.location().child(DEFAULT_TEXT);
    if (!text.exists()) {
      throw new IOException("calibration text " + text + " does not exist"
          + (options.calibrationText() == null ? " (the model directory has no " + DEFAULT_TEXT
              + "; give --calibration-text or --calibration-tokens)" : ""));
    }
    TokenizerFile tokenizerFile = model.tokenizer().orElseThrow(() -> new IOException(
        "the model directory " + model.location() + " has no tokenizer, so the calibration text "
            + "cannot be tokenized; give pre-tokenized ids with --calibration-tokens"));
    Tokenizer tokenizer = Tokenizer.fromBytes(tokenizerFile.bytes(), tokenizerFile.location());
    int[] tokens = TextCorpus.encodeParagraphs(tokenizer,
        new String(text.readAllBytes(MAX_TEXT_BYTES), StandardCharsets.UTF_8));
    int length = options.seqLen() > 0 ? options.seqLen()
        : Math.min(DEFAULT_TEXT_SEQ_LEN, model.config().maxPositions());
    List<int[]> samples = new ArrayList<>();
    // A window of `length` predictions holds length + 1 tokens; its first `length` are a sample.
    for (int[] window : EvaluationWindows.ofStream(tokens, length, options.samples())) {
      samples.add(Arrays.copyOf(window, length));
    }
    return new CalibrationSamples(samples, text + " (" + options.samples() + " samples of "
        + length + " tokens)");
  }
}
