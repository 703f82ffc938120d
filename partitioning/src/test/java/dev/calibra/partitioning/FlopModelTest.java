package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FlopModelTest {

  @Test
  void tinyShapeMatchesHandComputation() {
    FlopModel flops = new FlopModel(Shapes.TINY, Shapes.TINY_RECIPE);
    // F = 2·480 + 4·seqLen 5·headDim 4·heads 2 = 960 + 160.
    assertEquals(1120, flops.forwardPerToken());
    // (3·3 epochs + 2) passes × 15 tokens × 1120 + 6·r 2·P 480 × steps 3·⌈3/2⌉ = 184 800 + 34 560.
    assertEquals(219_360, flops.blockInWindow());
  }

  @Test
  void llama7bBlock() {
    FlopModel flops = new FlopModel(Shapes.LLAMA_7B, RecipeShape.builder().build());
    // 2·202 375 168 + 4·2048·128·32.
    assertEquals(404_750_336.0 + 33_554_432.0, flops.forwardPerToken());
    double expected = 62.0 * 128 * 2048 * 438_304_768.0 + 6.0 * 4 * 202_375_168 * 20 * 128;
    assertEquals(expected, flops.blockInWindow(), expected * 1e-12);
  }

  @Test
  void costGrowsWithEpochsAsTrainingPassesDo() {
    RecipeShape one = RecipeShape.builder().epochs(1).build();
    RecipeShape ten = RecipeShape.builder().epochs(10).build();
    FlopModel a = new FlopModel(Shapes.LLAMA_7B, one);
    FlopModel b = new FlopModel(Shapes.LLAMA_7B, ten);
    // Training passes scale with epochs; the two extra forward passes do not.
    double perPass = 128.0 * 2048 * a.forwardPerToken();
    double roundingPerStep = 6.0 * 4 * Shapes.LLAMA_7B.linearWeights();
    assertEquals(27 * perPass + 9 * 128 * roundingPerStep, b.blockInWindow() - a.blockInWindow(),
        b.blockInWindow() * 1e-12);
  }
}
