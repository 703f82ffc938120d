package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.Linear;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class MemoryModelTest {

  @Test
  void keptActivationsAreExactlyWhatBlockActivationsHolds() {
    // If the block's forward starts keeping another tensor, the estimate must count it too.
    List<String> components = Arrays.stream(BlockActivations.class.getRecordComponents())
        .map(RecordComponent::getName)
        .filter(name -> !name.equals("shape"))
        .map(name -> name.replaceAll("([A-Z])", "_$1").toUpperCase(Locale.ROOT))
        .toList();
    List<String> counted = Arrays.stream(KeptActivation.values()).map(Enum::name).toList();
    assertEquals(components, counted);
  }

  @Test
  void tinyBlockMatchesHandComputation() {
    BlockMemory block = new MemoryModel(Shapes.TINY, Shapes.TINY_RECIPE).block();
    // P = 64 + 32 + 32 + 64 + 96 + 96 + 96 = 480; the two norms add 2·8.
    assertEquals(4 * (480 + 16), block.floatWeights());
    assertEquals(4 * 480, block.quantizedWeights());
    assertEquals(4 * 480, block.weightGradients());
    // Groups of 5: rows of 8 → 2 groups, rows of 12 → 3 groups.
    // G = Q 8·2 + K 4·2 + V 4·2 + O 8·2 + GATE 12·2 + UP 12·2 + DOWN 8·3 = 120.
    assertEquals(4 * 2 * 120, block.quantizerState());
    // r·Σ(out + in) = 2·(16 + 12 + 12 + 16 + 20 + 20 + 20) = 232; with 2 clip factors per group,
    // each value has a gradient and two Adam moments: 16 bytes.
    assertEquals(16 * (232 + 2 * 120), block.learnable());
    // T = 2·5 tokens; per token 4h + 2qw + 2kvw + 3i + heads + 2 = 32 + 16 + 8 + 36 + 2 + 2 = 96.
    assertEquals(4 * 10 * 96, block.activations());
    // 480 weights · 4 bits = 240 bytes of codes, plus a float scale and zero per group.
    assertEquals(240 + 8 * 120, block.packedResult());
    assertEquals(1920 + 1920 + 960 + 7552 + 3840, block.training());
  }

  @Test
  void tinyWindowMatchesHandComputation() {
    MemoryModel memory = new MemoryModel(Shapes.TINY, Shapes.TINY_RECIPE);
    WindowMemory window = memory.window();
    assertEquals(3 * 4 * 15 * 8, window.calibrationData()); // 3 sets of 3·5 tokens × 8 floats
    assertEquals(3 * 4 * 10 * 8, window.batchTensors());
    assertEquals(4 * 10 * 104, window.backwardScratch()); // 96 kept + the 8-wide input gradient
    assertEquals(2 * 4 * 96, window.roundingScratch()); // the largest linear is 12×8 (or 8×12)
    assertEquals(1440 + 960 + 4160 + 768, window.total());
    assertEquals(2 * 16192 + 7328, memory.windowTrainingBytes(2));
  }

  @Test
  void tinyEndToEndPassMatchesHandComputation() {
    MemoryModel memory = new MemoryModel(Shapes.TINY, Shapes.TINY_RECIPE);
    // Per block: float 1 984, the windows' result 1 920, training 16 192, latent weights with
    // their gradient, moments and rounded copy 5·1 920, packed 1 200.
    long blocks = 3 * (1984 + 1920 + 16192 + 9600 + 1200);
    long calibrationData = 4 * 4 * 15 * 8; // every block's float input and the last output
    long head = 4 * 16 * 8 + 3 * 4 * 10 * 16; // lm_head 16×8; two logits and a gradient, 10 tokens
    assertEquals(blocks + calibrationData + 960 + 4160 + head, memory.endToEndBytes());
    assertEquals(102_160, memory.endToEndBytes());
  }

  /**
   * UP (12×8) vector-quantized: d4, 2-bit indices, a codebook per 6 rows, 3 candidates, trained
   * codebooks. S = 12·2 = 24 sub-vectors, 72 logits, 2 codebooks of 4 entries × 4 = 32 values;
   * UP's uniform terms (24 groups, LoRA factors 2·(12 + 8)) leave.
   */
  @Test
  void aVectorQuantizedLayerCountsItsLogitsAndCodebooksInsteadOfGroups() {
    RecipeShape recipe = RecipeShape.builder().window(2, 1).loraRank(2).scheme(4, 5)
        .samples(3, 5).batchSize(2).epochs(3)
        .vectorQuantized(Linear.UP, new VqLayerShape(4, 2, 6, 3, true)).build();
    BlockMemory block = new MemoryModel(Shapes.TINY, recipe).block();
    // Candidates and their per-codeword lists 2·72, row scales 12, list offsets 32/4 + 1.
    assertEquals(4 * 2 * (120 - 24) + 4 * (2 * 72 + 12 + 8 + 1), block.quantizerState());
    assertEquals(16 * (232 - 2 * 20 + 2 * (120 - 24)) + 16 * (72 + 32), block.learnable());
    // Indices ⌈24·2/8⌉ = 6 bytes, float16 codebooks and row scales 2·(32 + 12).
    assertEquals(240 - 48 + 8 * (120 - 24) + 6 + 2 * (32 + 12), block.packedResult());
  }

  @Test
  void activationQuantizationKeepsAQuantizedAttentionOutput() {
    RecipeShape quantized = RecipeShape.builder().window(2, 1).loraRank(2).scheme(4, 5)
        .samples(3, 5).batchSize(2).epochs(3).activationQuantization(true).build();
    assertEquals(4 * 10 * (96 + 8), new MemoryModel(Shapes.TINY, quantized).block().activations());
  }

  @Test
  void perChannelGroupsAndBatchesLargerThanTheSamples() {
    RecipeShape recipe = RecipeShape.builder().loraRank(2).scheme(3, RecipeShape.PER_CHANNEL)
        .samples(3, 5).batchSize(64).build();
    BlockMemory block = new MemoryModel(Shapes.TINY, recipe).block();
    // One group per row: G = Σ out = 8 + 4 + 4 + 8 + 12 + 12 + 8 = 56.
    assertEquals(4 * 2 * 56, block.quantizerState());
    // A batch never holds more than the 3 samples there are: T = 15.
    assertEquals(4 * 15 * 96, block.activations());
    // ⌈480 · 3 / 8⌉ = 180 bytes of codes.
    assertEquals(180 + 8 * 56, block.packedResult());
  }

  @Test
  void attentionBiasAddsFloatWeightsOnly() {
    ModelShape biased = new ModelShape(3, 8, 12, 2, 1, 4, 16, true, false);
    BlockMemory plain = new MemoryModel(Shapes.TINY, Shapes.TINY_RECIPE).block();
    BlockMemory withBias = new MemoryModel(biased, Shapes.TINY_RECIPE).block();
    assertEquals(plain.floatWeights() + 4 * (8 + 4 + 4), withBias.floatWeights());
    assertEquals(plain.training(), withBias.training());
  }

  @Test
  void llama7bBlockWithDefaultRecipe() {
    MemoryModel memory = new MemoryModel(Shapes.LLAMA_7B, RecipeShape.builder().build());
    BlockMemory block = memory.block();
    // P = 4·4096² + 3·4096·11008 = 202 375 168.
    assertEquals(4L * (202_375_168 + 2 * 4096), block.floatWeights());
    assertEquals(4L * 202_375_168, block.quantizedWeights());
    // G (groups of 128) = 4·4096·32 + 2·11008·32 + 4096·86 = 1 581 056.
    assertEquals(8L * 1_581_056, block.quantizerState());
    // r·Σ(out + in) = 4·(4·8192 + 3·15104) = 312 320.
    assertEquals(16L * (312_320 + 2 * 1_581_056), block.learnable());
    // 2048 tokens × (4·4096 + 2·4096 + 2·4096 + 3·11008 + 32 + 2 = 65 826) floats.
    assertEquals(4L * 2048 * 65_826, block.activations());
    assertEquals(3L * 4 * 128 * 2048 * 4096, memory.window().calibrationData()); // 12 GiB
    assertEquals(2L * 4 * 11008 * 4096, memory.window().roundingScratch());
  }
}
