package dev.calibra.model.generate;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RandomWeights;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IncrementalDecoderTest {

  /**
   * Position by position with its cache, the decoder gives the logits the backend's block forward
   * gives for whole sequences (grouped-query attention, with and without q/k/v biases), for
   * every sequence of a batch.
   */
  @ParameterizedTest(name = "attention bias {0}")
  @ValueSource(booleans = {false, true})
  void matchesTheWholeSequenceForward(boolean attentionBias) {
    LlamaWeightSource model = RandomWeights.model(RandomWeights.config(attentionBias), 7);
    int vocab = model.config().vocabSize();
    Random random = new Random(3);
    int length = 20;
    int[][] sequences = new int[3][length];
    for (int[] sequence : sequences) {
      for (int t = 0; t < length; t++) {
        sequence[t] = random.nextInt(vocab);
      }
    }
    float[][][] expected = wholeSequenceLogits(model, sequences);

    IncrementalDecoder decoder = new IncrementalDecoder(HostWeights.load(model),
        sequences.length, length);
    double worst = 0;
    for (int t = 0; t < length; t++) {
      int[] tokens = new int[sequences.length];
      for (int b = 0; b < tokens.length; b++) {
        tokens[b] = sequences[b][t];
      }
      float[] logits = decoder.next(tokens);
      for (int b = 0; b < tokens.length; b++) {
        for (int v = 0; v < vocab; v++) {
          double scale = Math.max(1, Math.abs(expected[b][t][v]));
          worst = Math.max(worst, Math.abs(logits[b * vocab + v] - expected[b][t][v]) / scale);
        }
      }
    }
    assertTrue(worst < 1e-5, "largest relative logit difference " + worst);
    assertThrows(IllegalStateException.class, () -> decoder.next(new int[sequences.length]));
  }

  private static float[][][] wholeSequenceLogits(LlamaWeightSource model, int[][] sequences) {
    Backend backend = new CpuBackend();
    int vocab = model.config().vocabSize();
    float[][][] logits = new float[sequences.length][sequences[0].length][];
    new LayerwiseRunner(backend, 4096, (i, n, t) -> { })
        .run(model, List.of(sequences), (sequence, first, chunk) -> {
          float[] values = backend.download(chunk);
          for (int r = 0; r < chunk.rows(); r++) {
            logits[sequence][first + r] = java.util.Arrays.copyOfRange(values, r * vocab,
                (r + 1) * vocab);
          }
        });
    return logits;
  }
}
