package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Plans for Llama-7B-wide models of 1 to 80 blocks, every window layout and both schedules. */
class PlanInvariantsTest {

  private static final int[] EXECUTOR_COUNTS = {1, 3, 8};
  private static final double TOLERANCE = 1e-12;

  static Stream<Arguments> cases() {
    return IntStream.rangeClosed(1, 80).boxed().flatMap(blocks ->
        Stream.of(WindowLayoutTest.WINDOW_OVERLAPS).flatMap(wo -> Stream.of(Schedule.values())
            .map(schedule -> Arguments.of(blocks, wo[0], wo[1], schedule))));
  }

  private static ModelShape model(int blocks) {
    return ModelShape.llama(blocks, 4096, 11008, 32, 32, 32000);
  }

  private static RecipeShape recipe(int w, int o) {
    return RecipeShape.builder().window(w, o).build();
  }

  private static List<ExecutorSpec> gpus(int count, long memory) {
    List<ExecutorSpec> gpus = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      gpus.add(ExecutorSpec.gpu("gpu-" + e, memory));
    }
    return gpus;
  }

  private static ShardCostModel costs(int blocks, int w, int o, Schedule schedule) {
    List<WindowSpan> windows = WindowLayout.of(blocks, w, o);
    ModelShape model = model(blocks);
    return new ShardCostModel(new ShardGeometry(windows, blocks, o, schedule),
        new MemoryModel(model, recipe(w, o)), new FlopModel(model, recipe(w, o)));
  }

  @ParameterizedTest(name = "{0} blocks, w={1} o={2}, {3}")
  @MethodSource("cases")
  void plentyOfMemory(int blocks, int w, int o, Schedule schedule) {
    for (int executors : EXECUTOR_COUNTS) {
      CalibrationPlan plan = CalibrationPlan.create(model(blocks), recipe(w, o), schedule,
          gpus(executors, 1L << 50));
      String where = executors + " executors";
      checkStructure(plan, where);
      assertTrue(plan.shards().size() <= executors, where);
      plan.shards().forEach(s -> assertEquals(0, s.round(), where));

      double speed = ExecutorKind.GPU.defaultFlopsPerSecond();
      double block = plan.blockFlopsPerWindow() / speed;
      double total = plan.windows().stream().mapToDouble(win -> win.size() * block).sum();
      double longestWindow = plan.windows().get(0).size() * block;
      double longestWarmUp = schedule == Schedule.PARALLEL ? o * block : 0;
      double longestShard = plan.shards().stream().mapToDouble(Shard::seconds).max().orElseThrow();
      // The partitioner's bound, and the lower bound no cut can beat.
      assertTrue(longestShard <= (total / executors + longestWindow + longestWarmUp)
          * (1 + TOLERANCE), where);
      assertTrue(longestShard >= Math.max(total / executors, longestWindow) * (1 - TOLERANCE), where);
      // Identical executors: the cut is the optimal one.
      assertEquals(optimum(costs(blocks, w, o, schedule), executors) / speed, longestShard,
          longestShard * TOLERANCE, where);
      if (schedule == Schedule.SEQUENTIAL) {
        assertEquals(plan.shards().stream().mapToDouble(Shard::seconds).sum(),
            plan.estimatedSeconds(), plan.estimatedSeconds() * TOLERANCE, where);
      } else {
        assertEquals(longestShard, plan.estimatedSeconds(), 0, where);
      }
    }
  }

  /** A memory that fits any one window as a shard, but at most a few, so memory binds. */
  @ParameterizedTest(name = "{0} blocks, w={1} o={2}, {3}")
  @MethodSource("cases")
  void scarceMemory(int blocks, int w, int o, Schedule schedule) {
    ShardCostModel costs = costs(blocks, w, o, schedule);
    long oneWindow = 0;
    for (int k = 0; k < costs.windowCount(); k++) {
      oneWindow = Math.max(oneWindow, costs.peakBytes(k, k));
    }
    long usable = oneWindow + 3 * new MemoryModel(model(blocks), recipe(w, o)).block().floatWeights();
    int executors = 3;
    // Usable memory after the default 10% margin and the GPU backend's share is at least `usable`.
    double kept = 0.9 - ExecutorKind.GPU.reservedFraction();
    CalibrationPlan plan = CalibrationPlan.create(model(blocks), recipe(w, o), schedule,
        gpus(executors, (long) Math.ceil(usable / kept) + 1));
    checkStructure(plan, "scarce");
    for (Shard shard : plan.shards()) {
      assertTrue(shard.peakBytes() <= plan.executors().get(shard.executor())
          .usableBytes(plan.safetyMargin()), "shard " + shard.index());
    }
    // Rounds: exactly as many as the fewest shards memory allows need.
    int fewest = fewestShardsByMemory(costs, usable);
    int rounds = plan.shards().stream().mapToInt(Shard::round).max().orElseThrow() + 1;
    assertEquals((fewest + executors - 1) / executors, rounds);
    assertTrue(plan.shards().size() <= rounds * executors);
  }

  private static int fewestShardsByMemory(ShardCostModel costs, long usable) {
    int shards = 0;
    int next = 0;
    while (next < costs.windowCount()) {
      int last = next;
      while (last + 1 < costs.windowCount() && costs.peakBytes(next, last + 1) <= usable) {
        last++;
      }
      shards++;
      next = last + 1;
    }
    return shards;
  }

  /** Least possible FLOPs of the longest shard over every cut into at most {@code parts}. */
  private static double optimum(ShardCostModel costs, int parts) {
    int n = costs.windowCount();
    double[] best = new double[n + 1]; // best[j]: the first j windows in at most p shards
    Arrays.fill(best, Double.POSITIVE_INFINITY);
    best[0] = 0;
    for (int p = 1; p <= parts; p++) {
      double[] next = new double[n + 1];
      for (int j = 1; j <= n; j++) {
        double value = Double.POSITIVE_INFINITY;
        for (int i = 0; i < j; i++) {
          value = Math.min(value, Math.max(best[i], costs.flops(i, j - 1)));
        }
        next[j] = value;
      }
      best = next;
    }
    return best[n];
  }

  /** What every plan must satisfy whatever the memory. */
  private static void checkStructure(CalibrationPlan plan, String where) {
    int o = plan.recipe().overlap();
    int blocks = plan.model().blocks();
    List<Shard> shards = plan.shards();
    int nextWindow = 0;
    int nextOwned = 0;
    double flops = 0;
    for (int s = 0; s < shards.size(); s++) {
      Shard shard = shards.get(s);
      String at = where + ", shard " + s;
      assertEquals(s, shard.index(), at);
      // Contiguous, disjoint runs of whole windows, in model order.
      assertEquals(nextWindow, shard.windows().get(0).index(), at);
      for (int k = 0; k < shard.windows().size(); k++) {
        assertEquals(plan.windows().get(nextWindow + k), shard.windows().get(k), at);
      }
      nextWindow += shard.windows().size();
      WindowSpan first = shard.windows().get(0);
      WindowSpan last = shard.windows().get(shard.windows().size() - 1);
      assertEquals(new BlockRange(first.first(), last.last()), shard.trainedBlocks(), at);
      // Owned ranges tile the model; a non-last shard trains o blocks the next one owns.
      assertEquals(nextOwned, shard.ownedBlocks().first(), at);
      nextOwned = shard.ownedBlocks().last() + 1;
      boolean lastShard = s == shards.size() - 1;
      assertEquals(lastShard ? 0 : o, shard.trainedBlocks().last() - shard.ownedBlocks().last(), at);

      boolean parallel = plan.schedule() == Schedule.PARALLEL;
      int warmUp = parallel && s > 0 ? Math.min(o, first.first()) : 0;
      assertEquals(warmUp, shard.warmUpBlocks().count(), at);
      if (warmUp > 0) {
        assertEquals(first.first() - 1, shard.warmUpBlocks().last(), at);
      }
      BlockRange carried = !parallel && s > 0 && o > 0
          ? new BlockRange(first.first(), first.first() + o - 1) : BlockRange.NONE;
      assertEquals(carried, shard.carriedBlocks(), at);
      assertEquals(warmUp > 0 ? shard.warmUpBlocks().first() : first.first(),
          shard.floatInputBlock(), at);
      int blockPasses = shard.windows().stream().mapToInt(WindowSpan::size).sum() + warmUp;
      assertEquals(blockPasses * plan.blockFlopsPerWindow(), shard.flops(),
          shard.flops() * TOLERANCE, at);
      flops += shard.flops();
      assertEquals(plan.executors().get(shard.executor()).name(), shard.executorName(), at);
    }
    assertEquals(plan.windows().size(), nextWindow, where + ": every window in a shard");
    assertEquals(blocks, nextOwned, where + ": every block owned once");
    assertTrue(flops >= plan.windows().stream().mapToInt(WindowSpan::size).sum()
        * plan.blockFlopsPerWindow() * (1 - TOLERANCE), where);
  }
}
