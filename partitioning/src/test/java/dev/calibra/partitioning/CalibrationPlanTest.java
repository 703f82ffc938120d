package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.model.llama.LlamaConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CalibrationPlanTest {

  /** The tiny shape with 5 blocks: windows [0,1] [1,2] [2,3] [3,4]. */
  private static final ModelShape FIVE = new ModelShape(5, 8, 12, 2, 1, 4, 16, false, false);
  /** FLOPs of one block in one window for FIVE with the tiny recipe (see FlopModelTest). */
  private static final double BLOCK_FLOPS = 219_360;
  /** A tenth of a block per second: every block-in-window takes 10 s. */
  private static final double SPEED = BLOCK_FLOPS / 10;
  // Tiny recipe, per block (see MemoryModelTest): training 16 192, float 1 984, packed 1 200; a
  // window of 2 blocks trains in 2·16 192 + 7 328 = 39 712 bytes.
  private static final long TRAINING_2 = 39_712;
  private static final long FLOAT = 1_984;
  private static final long PACKED = 1_200;

  private static List<ExecutorSpec> cpus(int count, long memory) {
    List<ExecutorSpec> executors = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      executors.add(new ExecutorSpec("cpu-" + e, ExecutorKind.CPU, memory, SPEED));
    }
    return executors;
  }

  @Test
  void sequentialFiveBlocksOnTwoExecutors() {
    CalibrationPlan plan = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.SEQUENTIAL,
        cpus(2, 1 << 20));
    assertEquals("[[0,1], [1,2], [2,3], [3,4]]", plan.windows().toString());
    assertEquals(2, plan.shards().size());
    Shard first = plan.shards().get(0);
    Shard second = plan.shards().get(1);
    assertEquals("[[0,1], [1,2]]", first.windows().toString());
    assertEquals(new BlockRange(0, 2), first.trainedBlocks());
    assertEquals(new BlockRange(0, 1), first.ownedBlocks());
    assertEquals(BlockRange.NONE, first.carriedBlocks());
    assertEquals(0, first.floatInputBlock());
    assertEquals(TRAINING_2 + 3 * FLOAT + 2 * PACKED, first.peakBytes());
    assertEquals(40.0, first.seconds(), 1e-9);

    assertEquals("[[2,3], [3,4]]", second.windows().toString());
    assertEquals(new BlockRange(2, 4), second.trainedBlocks());
    assertEquals(new BlockRange(2, 4), second.ownedBlocks());
    // Block 2 was trained by the first shard's last window: its parameters carry over.
    assertEquals(new BlockRange(2, 2), second.carriedBlocks());
    assertEquals(BlockRange.NONE, second.warmUpBlocks());
    assertEquals(2, second.floatInputBlock());
    assertEquals(TRAINING_2 + 3 * FLOAT + 3 * PACKED, second.peakBytes());
    assertEquals("cpu-1", second.executorName());
    // Shards run one after another.
    assertEquals(80.0, plan.estimatedSeconds(), 1e-9);
    assertEquals(List.of(0, 2), plan.captureBlocks());
  }

  @Test
  void theEndToEndPassFitsOnlyExecutorsThatHoldTheWholeModel() {
    // 5 blocks of 30 896 bytes, 6 sets of calibration data (2 880), batch tensors and backward
    // scratch (960 + 4 160), the output head (2 432): see MemoryModelTest.
    long endToEnd = 164_912;
    CalibrationPlan roomy = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.SEQUENTIAL,
        cpus(2, 1 << 20));
    assertEquals(endToEnd, roomy.endToEndPeakBytes());
    assertTrue(roomy.endToEndFits());
    // 0.9 · 183 236 = 164 912.4: just enough; a byte less leaves 164 911 usable. The windows fit
    // both (a shard's peak is below 60 000 bytes).
    assertTrue(CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.SEQUENTIAL,
        cpus(2, 183_236)).endToEndFits());
    CalibrationPlan tight = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.SEQUENTIAL,
        cpus(2, 183_235));
    assertFalse(tight.endToEndFits());
    assertEquals("the whole model as one window needs about 161 KiB; the smallest slot has "
        + "161 KiB (10% of its memory kept free)", tight.describeEndToEnd());
    // One small executor is enough to refuse: the pass's task may land on any.
    List<ExecutorSpec> mixed = new ArrayList<>(cpus(1, 1 << 20));
    mixed.add(new ExecutorSpec("small", ExecutorKind.CPU, 100_000, SPEED));
    assertFalse(CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.SEQUENTIAL, mixed)
        .endToEndFits());
  }

  @Test
  void parallelFiveBlocksOnTwoExecutors() {
    CalibrationPlan plan = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.PARALLEL,
        cpus(2, 1 << 20));
    // Cuts: {0,1}|{2,3} costs 4 and 4 + 1 warm-up block; {0,1,2}|{3} 6 and 3; {0}|{1,2,3} 2 and 7.
    assertEquals(2, plan.shards().size());
    Shard second = plan.shards().get(1);
    assertEquals("[[2,3], [3,4]]", second.windows().toString());
    assertEquals(new BlockRange(1, 1), second.warmUpBlocks());
    assertEquals(BlockRange.NONE, second.carriedBlocks());
    assertEquals(1, second.floatInputBlock());
    assertEquals(5 * BLOCK_FLOPS, second.flops());
    assertEquals(50.0, second.seconds(), 1e-9);
    // Blocks 1..4 loaded (warm-up included), blocks 2..4 owned.
    assertEquals(TRAINING_2 + 4 * FLOAT + 3 * PACKED, second.peakBytes());
    assertEquals(50.0, plan.estimatedSeconds(), 1e-9);
    assertEquals(List.of(0, 1), plan.captureBlocks());
  }

  @Test
  void describeListsEveryShard() {
    String table = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.PARALLEL,
        cpus(2, 1 << 20)).describe();
    assertTrue(table.startsWith("CBQ calibration plan, parallel schedule\n"), table);
    assertTrue(table.contains("windows of 2 blocks overlapping 1 → 4 windows; LoRA rank 2; w4 g5; "
        + "3 samples × 5 tokens, batch 2, 3 epochs\n"), table);
    assertTrue(table.contains(
        "shard  windows  trains  owns  warm-up  carried  float input  executor  round  peak memory  time\n"
        + "0      0–1      0–2     0–1   –        –        block 0      cpu-0     0      46.9 KiB     40.0 s\n"
        + "1      2–3      2–4     2–4   1        –        block 1      cpu-1     0      50.0 KiB     50.0 s\n"),
        table);
    assertTrue(table.contains("cpu-1     CPU   1.0 MiB  922 KiB  21.9 kFLOP/s  1       50.0 s\n"), table);
    assertTrue(table.endsWith("estimated time 50.0 s (parallel: the busiest executor's time)\n"), table);
  }

  @Test
  void memoryForcesOneExecutorToRunShardsInTurn() {
    // 46 100 bytes hold any one window as a shard (at most 39 712 + 2·1 984 + 2·1 200 = 46 080,
    // the last one, which owns 2 blocks) but never two (39 712 + 3·1 984 + 2·1 200 = 48 064).
    CalibrationPlan plan = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.SEQUENTIAL,
        cpus(1, 46_100), 0);
    assertEquals(4, plan.shards().size());
    for (int s = 0; s < 4; s++) {
      Shard shard = plan.shards().get(s);
      assertEquals(s, shard.round());
      assertEquals(1, shard.windows().size());
      assertTrue(shard.peakBytes() <= 46_100);
    }
    assertEquals(new BlockRange(3, 4), plan.shards().get(3).ownedBlocks());
  }

  @Test
  void aWindowThatCannotFollowItsWarmUpIsNamed() {
    // The memory that runs the sequential plan above shard by shard is too little in parallel:
    // window 1 as a shard's start also loads warm-up block 0: 39 712 + 3·1 984 + 1 200 bytes.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.PARALLEL, cpus(1, 46_100), 0));
    assertTrue(e.getMessage().startsWith("window 1 (blocks 1–2, after warm-up blocks 0) needs "
        + "45.8 KiB (46864 bytes) as the first window of a shard, but the most any executor has is "
        + "45.0 KiB (46100 bytes) usable: cpu-0's 45.0 KiB less the 0% safety margin."), e.getMessage());
  }

  @Test
  void llama7bOnASixteenGigabyteGpuDoesNotFit() {
    List<ExecutorSpec> gpus = List.of(ExecutorSpec.gpu("gpu-0", 16 * Shapes.GIB),
        ExecutorSpec.gpu("gpu-1", 12 * Shapes.GIB));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrationPlan.create(Shapes.LLAMA_7B, RecipeShape.builder().build(),
            Schedule.SEQUENTIAL, gpus));
    MemoryModel memory = new MemoryModel(Shapes.LLAMA_7B, RecipeShape.builder().build());
    long needed = memory.windowTrainingBytes(2) + 2 * memory.block().floatWeights()
        + memory.block().packedResult();
    assertTrue(e.getMessage().startsWith("window 0 (blocks 0–1) needs 18.7 GiB (" + needed
        + " bytes) as the first window of a shard, but the most any executor has is 13.4 GiB "
        + "(14388140441 bytes) usable: gpu-0's 16.0 GiB less the 10% safety margin and the 6.3% "
        + "its backend keeps."), e.getMessage());
  }

  @Test
  void aModelShorterThanAWindowIsOneWindowAndOneShard() {
    ModelShape one = new ModelShape(1, 8, 12, 2, 1, 4, 16, false, false);
    RecipeShape wide = RecipeShape.builder().window(4, 2).loraRank(2).scheme(4, 5).samples(3, 5)
        .batchSize(2).epochs(3).build();
    for (Schedule schedule : Schedule.values()) {
      CalibrationPlan plan = CalibrationPlan.create(one, wide, schedule, cpus(3, 1 << 20));
      assertEquals("[[0,0]]", plan.windows().toString());
      assertEquals(1, plan.shards().size());
      assertEquals(new BlockRange(0, 0), plan.shards().get(0).ownedBlocks());
      assertEquals(10.0, plan.estimatedSeconds(), 1e-9);
    }
  }

  @Test
  void slowExecutorsStayIdleWhenTheyWouldOnlySlowThePlanDown() {
    List<ExecutorSpec> mixed = List.of(ExecutorSpec.cpu("cpu-0", 512 * Shapes.GIB),
        ExecutorSpec.gpu("gpu-0", 80 * Shapes.GIB), ExecutorSpec.gpu("gpu-1", 80 * Shapes.GIB));
    CalibrationPlan plan = CalibrationPlan.create(Shapes.LLAMA_7B, RecipeShape.builder().build(),
        Schedule.PARALLEL, mixed);
    // One window on the CPU (2 blocks × 7.1 PFLOP at 0.2 TFLOP/s ≈ 20 h) outlasts a GPU's half.
    assertEquals(List.of("gpu-0", "gpu-1"), plan.shards().stream().map(Shard::executorName).toList());
    assertEquals(0, plan.busySeconds(0));
    assertTrue(plan.describe().contains("cpu-0     CPU   512 GiB   461 GiB   200 GFLOP/s   0       idle\n"),
        plan.describe());
  }

  @Test
  void rejectsBadInputsWithMessages() {
    RecipeShape recipe = Shapes.TINY_RECIPE;
    assertEquals("a plan needs at least one executor", assertThrows(IllegalArgumentException.class,
        () -> CalibrationPlan.create(FIVE, recipe, Schedule.PARALLEL, List.of())).getMessage());
    List<ExecutorSpec> twins = List.of(ExecutorSpec.cpu("x", 1 << 20), ExecutorSpec.cpu("x", 1 << 20));
    assertEquals("two executors are named x", assertThrows(IllegalArgumentException.class,
        () -> CalibrationPlan.create(FIVE, recipe, Schedule.PARALLEL, twins)).getMessage());
    assertEquals("the safety margin is a fraction in [0, 1), got 1.0",
        assertThrows(IllegalArgumentException.class,
            () -> CalibrationPlan.create(FIVE, recipe, Schedule.PARALLEL, cpus(1, 1 << 20), 1.0))
            .getMessage());
    assertEquals("overlap must be in 0..1 for windows of 2 blocks, got 2",
        assertThrows(IllegalArgumentException.class,
            () -> RecipeShape.builder().window(2, 2).build()).getMessage());
    assertEquals("executor g has no memory: 0 bytes", assertThrows(IllegalArgumentException.class,
        () -> ExecutorSpec.gpu("g", 0)).getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new ExecutorSpec("g", ExecutorKind.GPU, 1, Double.NaN));
    assertEquals("heads (6) must be a multiple of key/value heads (4)",
        assertThrows(IllegalArgumentException.class,
            () -> ModelShape.llama(2, 48, 96, 6, 4, 10)).getMessage());
  }

  @Test
  void survivesJavaSerializationAndJson() throws Exception {
    CalibrationPlan plan = CalibrationPlan.create(FIVE, Shapes.TINY_RECIPE, Schedule.PARALLEL,
        cpus(2, 1 << 20));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(plan);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertEquals(plan, in.readObject());
    }
    ObjectMapper json = new ObjectMapper();
    assertEquals(plan, json.readValue(json.writeValueAsString(plan), CalibrationPlan.class));
    Shard shard = plan.shards().get(1);
    String text = json.writeValueAsString(shard);
    assertTrue(text.contains("\"warmUpBlocks\":{\"first\":1,\"last\":1}"), text);
    assertEquals(shard, json.readValue(text, Shard.class));
  }

  @Test
  void modelShapeFromLlamaConfigAndParameterCounts() {
    // Llama 2 7B has 6 738 415 616 parameters.
    assertEquals(6_738_415_616L, Shapes.LLAMA_7B.parameters());
    LlamaConfig config = new LlamaConfig("llama",
        288, 768, 6, 6, 2, 48, 32000, 512, 1e-5f, null, true, false, 1, 2);
    ModelShape shape = ModelShape.of(config);
    assertEquals(new ModelShape(6, 288, 768, 6, 2, 48, 32000, false, true), shape);
    // dict-llama-15M (shared/README: 14.5 M): 6 × (884 736 linear + 576 norm) + 32 000 × 288
    // tied embeddings + 288 final norm.
    assertEquals(14_528_160L, shape.parameters());
  }
}
