package dev.calibra.model.generate;

import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Token sequences the float model writes itself, for calibration (the data-free calibration of
 * LLM-QAT): each starts at the model's BOS token (a token drawn uniformly when it defines none)
 * and goes on by sampling the model's next-token distribution at temperature 1 to a fixed
 * length, through any end-of-sequence token, as a calibration text runs on past a paragraph's
 * end. Such samples follow what the model has learned rather than what one text holds, and any
 * number of them can be drawn. Runs on the CPU in float32 whatever the run's backend, so that
 * every machine of a job draws the same samples; deterministic for a seed.
 */
public final class SampleGenerator {

  /** Told after every batch of finished sequences. */
  public interface Progress {
    void generated(int done, int total);
  }

  /**
   * Sequences decoded side by side: the products of a step run at the CPU's full pace from
   * about 128 rows (a third faster than at 32).
   */
  private static final int MAX_BATCH = 128;
  /** What the key/value cache of a batch may take; large models decode fewer side by side. */
  private static final long CACHE_BYTES = 1L << 30;

  private SampleGenerator() {}

  /** How reports name {@code count} generated samples of {@code length} tokens. */
  public static String describe(int count, int length, long seed) {
    return count + " samples of " + length + " tokens written by the model (seed " + seed + ")";
  }

  public static List<int[]> generate(LlamaWeightSource model, int count, int length, long seed,
      Progress progress) {
    LlamaConfig config = model.config();
    if (count < 0) {
      throw new IllegalArgumentException("cannot generate " + count + " sequences");
    }
    if (length < 2 || length > config.maxPositions()) {
      throw new IllegalArgumentException("generated sequences need 2 to " + config.maxPositions()
          + " tokens (the model's context), got " + length);
    }
    long cachePerSequence = 2L * Float.BYTES * config.numLayers() * length
        * config.keyValueWidth();
    int batchSize = (int) Math.max(1, Math.min(MAX_BATCH, CACHE_BYTES / cachePerSequence));
    HostWeights weights = HostWeights.load(model);
    List<int[]> sequences = new ArrayList<>(count);
    for (int first = 0; first < count; first += batchSize) {
      int batch = Math.min(batchSize, count - first);
      Random[] randoms = new Random[batch];
      int[][] tokens = new int[batch][length];
      for (int b = 0; b < batch; b++) {
        // A stream per sequence: sequence i draws from the same one in whatever batch it runs.
        randoms[b] = new Random(seed * 0x9E3779B97F4A7C15L + first + b);
        tokens[b][0] = config.bosTokenId() >= 0 ? config.bosTokenId()
            : randoms[b].nextInt(config.vocabSize());
      }
      decode(new IncrementalDecoder(weights, batch, length), tokens, randoms);
      for (int[] sequence : tokens) {
        sequences.add(sequence);
      }
      progress.generated(sequences.size(), count);
    }
    return sequences;
  }

  private static void decode(IncrementalDecoder decoder, int[][] tokens, Random[] randoms) {
    int batch = tokens.length;
    int length = tokens[0].length;
    int[] current = new int[batch];
    for (int t = 1; t < length; t++) {
      for (int b = 0; b < batch; b++) {
        current[b] = tokens[b][t - 1];
      }
      float[] logits = decoder.next(current);
      int vocab = logits.length / batch;
      int position = t;
      // Each sequence draws from its own stream, so the split over threads changes nothing.
      Parallel.forRange(batch, 1, (start, end) -> {
        for (int b = start; b < end; b++) {
          tokens[b][position] = sample(logits, b * vocab, vocab, randoms[b]);
        }
      });
    }
  }

  /** A draw from softmax(logits[offset … offset + vocab)). */
  static int sample(float[] logits, int offset, int vocab, Random random) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    double[] cumulative = new double[vocab];
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      sum += Math.exp(logits[offset + i] - max);
      cumulative[i] = sum;
    }
    double u = random.nextDouble() * sum;
    for (int i = 0; i < vocab; i++) {
      if (u < cumulative[i]) {
        return i;
      }
    }
    return vocab - 1;
  }
}
