package dev.calibra.jobs.cli;

import dev.calibra.jobs.cli.QuantizeOptions.TextLayout;

/**
 * What to evaluate perplexity on, as the quantize and evaluate commands take it: a text file and
 * its layout or pre-tokenized ids, the context length (0: the model's) and the window count.
 */
public record EvaluationSettings(String evalText, TextLayout textLayout, String evalTokens,
    int contextLength, int windows) {}
