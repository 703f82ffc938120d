package dev.calibra.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RandomWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SampleGeneratorTest {

  private final LlamaWeightSource model = RandomWeights.model(RandomWeights.config(false), 11);

  @Test
  void sequencesStartAtBosAndAreFixedBySeed() {
    List<Integer> reported = new ArrayList<>();
    // 140 sequences: a full batch and a short one.
    List<int[]> first = SampleGenerator.generate(model, 140, 12, 5, (done, total) -> {
      assertEquals(140, total);
      reported.add(done);
    });
    assertEquals(List.of(128, 140), reported);
    assertEquals(140, first.size());
    for (int[] sequence : first) {
      assertEquals(12, sequence.length);
      assertEquals(model.config().bosTokenId(), sequence[0]);
      for (int token : sequence) {
        assertTrue(token >= 0 && token < model.config().vocabSize());
      }
    }
    List<int[]> again = SampleGenerator.generate(model, 140, 12, 5, (done, total) -> { });
    for (int i = 0; i < first.size(); i++) {
      assertArrayEquals(first.get(i), again.get(i));
    }
    List<int[]> otherSeed = SampleGenerator.generate(model, 140, 12, 6, (done, total) -> { });
    assertFalse(java.util.Arrays.equals(first.get(0), otherSeed.get(0))
        && java.util.Arrays.equals(first.get(1), otherSeed.get(1)));
  }

  /** Draws follow softmax(logits): token 1 has three times the probability of token 0. */
  @Test
  void drawsFollowTheSoftmax() {
    float[] logits = {10f, 10f + (float) Math.log(3), -1e9f};
    Random random = new Random(1);
    int[] counts = new int[3];
    int draws = 40_000;
    for (int i = 0; i < draws; i++) {
      counts[SampleGenerator.sample(logits, 0, 3, random)]++;
    }
    assertEquals(0, counts[2]);
    assertEquals(0.75, counts[1] / (double) draws, 0.01);
  }

  @Test
  void impossibleLengthsAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> SampleGenerator.generate(model, 2, 1, 0, (done, total) -> { }));
    int context = model.config().maxPositions();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SampleGenerator.generate(model, 2, context + 1, 0, (done, total) -> { }));
    assertTrue(e.getMessage().contains("context"), e.getMessage());
  }
}
