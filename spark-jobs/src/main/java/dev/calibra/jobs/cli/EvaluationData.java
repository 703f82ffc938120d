package dev.calibra.jobs.cli;

import dev.calibra.jobs.cli.QuantizeOptions.TextLayout;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.hf.TokenizerFile;
import dev.calibra.storage.tokens.TokenIdFiles;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;

/** The evaluation windows a run scores, from text through the model's tokenizer or from ids. */
public record EvaluationData(String description, List<int[]> windows, int contextLength) {

  /** Text files larger than this are refused rather than read onto the heap. */
  private static final long MAX_TEXT_BYTES = 1L << 30;
  static final String DEFAULT_TEXT = "heldout.txt";

  /** Where the tokenizer comes from, asked only when text must be tokenized. */
  @FunctionalInterface
  public interface TokenizerLookup {
    Optional<TokenizerFile> tokenizer() throws IOException;
  }

  static EvaluationData load(QuantizeOptions options, ModelDirectory model) throws IOException {
    return load(options.evaluation(), model.config().maxPositions(), model.location(),
        model::tokenizer);
  }

  /**
   * @param defaultContext the model's context length, used unless the settings give one
   * @param modelDirectory where the default text lives and what messages name
   */
  public static EvaluationData load(EvaluationSettings options, int defaultContext,
      FileLocation modelDirectory, TokenizerLookup tokenizerLookup) throws IOException {
    int context = options.contextLength() > 0 ? options.contextLength() : defaultContext;
    if (options.evalTokens() != null) {
      String[] fileAndSplit = options.evalTokens().split("#", 2);
      String split = fileAndSplit.length > 1 ? fileAndSplit[1] : null;
      List<int[]> sequences = TokenIdFiles.read(fileAndSplit[0], split);
      return new EvaluationData(options.evalTokens() + " (" + sequences.size() + " sequences)",
          EvaluationWindows.ofSequences(sequences, context), context);
    }
    FileLocation text = options.evalText() != null
        ? FileLocation.of(options.evalText(), new Configuration())
        : modelDirectory.child(DEFAULT_TEXT);
    if (!text.exists()) {
      throw new IOException("evaluation text " + text + " does not exist"
          + (options.evalText() == null ? " (the model directory has no " + DEFAULT_TEXT
              + "; give --eval-text or --eval-tokens)" : ""));
    }
    TokenizerFile tokenizerFile = tokenizerLookup.tokenizer().orElseThrow(() -> new IOException(
        "the model directory " + modelDirectory + " has no tokenizer.model or tokenizer.json, "
            + "so text cannot be tokenized; give pre-tokenized ids with --eval-tokens"));
    Tokenizer tokenizer = Tokenizer.fromBytes(tokenizerFile.bytes(), tokenizerFile.location());
    String content = new String(text.readAllBytes(MAX_TEXT_BYTES), StandardCharsets.UTF_8);
    int[] tokens = options.textLayout() == TextLayout.PARAGRAPHS
        ? TextCorpus.encodeParagraphs(tokenizer, content)
        : TextCorpus.encodeWhole(tokenizer, content);
    String layout = options.textLayout().name().toLowerCase(java.util.Locale.ROOT);
    return new EvaluationData(text + " (" + layout + ", " + tokens.length + " tokens)",
        EvaluationWindows.ofStream(tokens, context, options.windows()), context);
  }

  public long predictions() {
    return windows.stream().mapToLong(w -> w.length - 1).sum();
  }
}
