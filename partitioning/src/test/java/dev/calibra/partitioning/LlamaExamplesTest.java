package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The 7B and 70B plans partitioning/README.md shows, held to the figures printed there. */
class LlamaExamplesTest {

  private static final RecipeShape DEFAULTS = RecipeShape.builder().build();

  private static List<ExecutorSpec> gpus(int count, long gib) {
    List<ExecutorSpec> gpus = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      gpus.add(ExecutorSpec.gpu("gpu-" + e, gib * Shapes.GIB));
    }
    return gpus;
  }

  private static List<Integer> windowsPerShard(CalibrationPlan plan) {
    return plan.shards().stream().map(s -> s.windows().size()).toList();
  }

  @Test
  void llama7bParallelOnEightH100() {
    CalibrationPlan plan = CalibrationPlan.create(Shapes.LLAMA_7B, DEFAULTS, Schedule.PARALLEL,
        gpus(8, 80));
    assertEquals(31, plan.windows().size());
    assertEquals(List.of(4, 4, 4, 4, 4, 4, 4, 3), windowsPerShard(plan));
    // Shard 1: 4 windows of 2 blocks and 1 warm-up block.
    assertEquals(9 * plan.blockFlopsPerWindow() / 25e12, plan.shards().get(1).seconds(), 1e-6);
    String table = plan.describe();
    assertTrue(table.contains("per block   float weights 772 MiB; training 2.1 GiB = quantized 772 MiB"
        + " + weight gradients 772 MiB + quantizer state 12.1 MiB + learnable 53.0 MiB + activations"
        + " 514 MiB; packed 109 MiB; 7.14 PFLOP in each window it is in\n"), table);
    assertTrue(table.contains("per window  13.0 GiB = calibration data 12.0 GiB + batch 96.0 MiB"
        + " + backward scratch 546 MiB + rounding scratch 344 MiB\n"), table);
    assertTrue(table.contains("1      4–7      4–8     4–7    3        –        block 3      gpu-1"
        + "     0      22.1 GiB     42 min 49 s\n"), table);
    assertTrue(table.endsWith("estimated time 42 min 49 s (parallel: the busiest executor's time)\n"));
  }

  @Test
  void llama7bSequentialOnFourH100() {
    CalibrationPlan plan = CalibrationPlan.create(Shapes.LLAMA_7B, DEFAULTS, Schedule.SEQUENTIAL,
        gpus(4, 80));
    assertEquals(List.of(8, 8, 8, 7), windowsPerShard(plan));
    assertEquals(new BlockRange(8, 8), plan.shards().get(1).carriedBlocks());
    // 62 block passes in all, one after another.
    assertEquals(62 * plan.blockFlopsPerWindow() / 25e12, plan.estimatedSeconds(), 1e-6);
    assertTrue(plan.describe().endsWith(
        "estimated time 4 h 55 min (sequential: the shards' times added up)\n"));
  }

  @Test
  void llama70bOnEightH100NeedsTwoRounds() {
    CalibrationPlan plan = CalibrationPlan.create(Shapes.LLAMA_70B, DEFAULTS, Schedule.PARALLEL,
        gpus(8, 80));
    assertEquals(79, plan.windows().size());
    assertEquals(16, plan.shards().size());
    for (int e = 0; e < 8; e++) {
      int executor = e;
      assertEquals(2, plan.shards().stream().filter(s -> s.executor() == executor).count());
    }
    // P = 2·8192² + 2·1024·8192 + 3·8192·28672 = 855 638 016.
    assertEquals(4L * (855_638_016 + 2 * 8192), plan.blockMemory().floatWeights());
    long usable = 80 * Shapes.GIB * 9 / 10;
    plan.shards().forEach(s -> assertTrue(s.peakBytes() <= usable));
    // At most 6 windows fit a shard in 72 GiB (70.6 GiB; 7 for the first, which has no warm-up),
    // so 79 windows need at least 13 shards: 2 rounds, and balancing time fills all 16 slots.
    assertTrue(plan.describe().endsWith("estimated time 7 h 05 min (parallel: the busiest executor's time)\n"));
  }

  @Test
  void llama70bOnEightH200FitsInOneRound() {
    CalibrationPlan plan = CalibrationPlan.create(Shapes.LLAMA_70B, DEFAULTS, Schedule.PARALLEL,
        gpus(8, 141));
    assertEquals(List.of(10, 10, 10, 10, 10, 10, 10, 9), windowsPerShard(plan));
    assertTrue(plan.describe().contains("1      10–19    10–20   10–19  9        –        block 9"
        + "      gpu-1     0      85.1 GiB     6 h 45 min\n"), plan.describe());
  }
}
