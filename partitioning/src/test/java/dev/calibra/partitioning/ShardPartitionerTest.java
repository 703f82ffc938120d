package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.partitioning.ShardPartitioner.Placement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ShardPartitionerTest {

  /** Windows with given FLOPs and bytes; a shard's peak is the sum of its windows' bytes. */
  private record Sums(long[] flops, long[] bytes) implements ShardPartitioner.Costs {
    static Sums uniform(int windows, long bytesEach) {
      long[] f = new long[windows];
      long[] b = new long[windows];
      Arrays.fill(f, 1);
      Arrays.fill(b, bytesEach);
      return new Sums(f, b);
    }

    @Override
    public int windowCount() {
      return flops.length;
    }

    @Override
    public double flops(int first, int last) {
      long sum = 0;
      for (int k = first; k <= last; k++) {
        sum += flops[k];
      }
      return sum;
    }

    @Override
    public long peakBytes(int first, int last) {
      long sum = 0;
      for (int k = first; k <= last; k++) {
        sum += bytes[k];
      }
      return sum;
    }

    @Override
    public String describeStart(int first) {
      return "window " + first;
    }
  }

  /** CPU executors: their backend keeps no memory, so all of it is the tests' to count. */
  private static List<ExecutorSpec> identical(int count, long memory) {
    List<ExecutorSpec> executors = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      executors.add(new ExecutorSpec("x" + e, ExecutorKind.CPU, memory, 1.0));
    }
    return executors;
  }

  private static String cut(List<Placement> placements) {
    StringBuilder text = new StringBuilder();
    for (Placement p : placements) {
      text.append(p.firstWindow()).append('-').append(p.lastWindow()).append('@')
          .append(p.executor()).append('r').append(p.round()).append(' ');
    }
    return text.toString().trim();
  }

  @Test
  void equalWindowsSplitEvenly() {
    List<Placement> shards = new ShardPartitioner(identical(3, 100), 0).partition(Sums.uniform(9, 1));
    assertEquals("0-2@0r0 3-5@1r0 6-8@2r0", cut(shards));
  }

  @Test
  void fewerWindowsThanExecutorsLeavesSomeIdle() {
    List<Placement> shards = new ShardPartitioner(identical(4, 100), 0).partition(Sums.uniform(2, 1));
    assertEquals("0-0@0r0 1-1@1r0", cut(shards));
  }

  @Test
  void matchesTheExhaustiveOptimumForIdenticalExecutors() {
    Random random = new Random(6);
    for (int trial = 0; trial < 400; trial++) {
      int n = 1 + random.nextInt(10);
      int executors = 1 + random.nextInt(4);
      long[] flops = new long[n];
      for (int k = 0; k < n; k++) {
        flops[k] = 1 + random.nextInt(20);
      }
      Sums costs = new Sums(flops, new long[n]);
      List<Placement> shards = new ShardPartitioner(identical(executors, 1), 0).partition(costs);
      double longest = shards.stream()
          .mapToDouble(p -> costs.flops(p.firstWindow(), p.lastWindow())).max().orElseThrow();
      assertEquals(optimum(flops, executors), longest, "trial " + trial);
      assertTrue(shards.size() <= executors);
    }
  }

  /** The least possible longest shard over all cuts into at most {@code parts} runs. */
  private static long optimum(long[] flops, int parts) {
    int n = flops.length;
    long[] prefix = new long[n + 1];
    for (int k = 0; k < n; k++) {
      prefix[k + 1] = prefix[k] + flops[k];
    }
    // best[p][j]: the first j windows in at most p runs.
    long[][] best = new long[parts + 1][n + 1];
    for (int j = 1; j <= n; j++) {
      best[0][j] = Long.MAX_VALUE;
    }
    for (int p = 1; p <= parts; p++) {
      for (int j = 1; j <= n; j++) {
        long value = Long.MAX_VALUE;
        for (int i = 0; i < j; i++) {
          value = Math.min(value, Math.max(best[p - 1][i], prefix[j] - prefix[i]));
        }
        best[p][j] = value;
      }
    }
    return best[parts][n];
  }

  @Test
  void fasterExecutorsTakeProportionallyMoreWindows() {
    // The 3× faster executor comes first whatever the input order, and takes 30 of 40 windows:
    // both then finish in 10 s.
    List<ExecutorSpec> executors = List.of(
        new ExecutorSpec("slow", ExecutorKind.CPU, 100, 1.0),
        new ExecutorSpec("fast", ExecutorKind.GPU, 100, 3.0));
    List<Placement> shards = new ShardPartitioner(executors, 0).partition(Sums.uniform(40, 1));
    assertEquals("0-29@1r0 30-39@0r0", cut(shards));
  }

  @Test
  void tooSlowAnExecutorGetsNothing() {
    List<ExecutorSpec> executors = List.of(
        new ExecutorSpec("gpu", ExecutorKind.GPU, 100, 100.0),
        new ExecutorSpec("cpu", ExecutorKind.CPU, 100, 1.0));
    // 10 unit windows: the GPU alone takes 0.1 s; one window on the CPU would take 1 s.
    assertEquals("0-9@0r0", cut(new ShardPartitioner(executors, 0).partition(Sums.uniform(10, 1))));
  }

  @Test
  void memoryForcesMoreShardsThanExecutorsInRounds() {
    // Each executor holds 2 windows; 8 windows need 4 shards on 2 executors: 2 rounds.
    List<Placement> shards = new ShardPartitioner(identical(2, 20), 0).partition(Sums.uniform(8, 10));
    assertEquals("0-1@0r0 2-3@1r0 4-5@0r1 6-7@1r1", cut(shards));
  }

  @Test
  void memoryLimitsEachExecutorToWhatFitsIt() {
    // The faster executor holds only 2 windows; the slower one takes the rest.
    List<ExecutorSpec> executors = List.of(
        new ExecutorSpec("big", ExecutorKind.GPU, 1000, 1.0),
        new ExecutorSpec("small", ExecutorKind.GPU, 25, 2.0));
    List<Placement> shards = new ShardPartitioner(executors, 0).partition(Sums.uniform(6, 10));
    assertEquals("0-1@1r0 2-5@0r0", cut(shards));
  }

  @Test
  void safetyMarginShrinksUsableMemory() {
    // 100 bytes less 25% leave 75: three 25-byte windows fit, a fourth does not.
    List<Placement> shards = new ShardPartitioner(identical(1, 100), 0.25).partition(Sums.uniform(6, 25));
    assertEquals("0-2@0r0 3-5@0r1", cut(shards));
  }

  /** A GPU's backend keeps a sixteenth of it for its pack cache; a CPU's keeps nothing. */
  @Test
  void aGpuLeavesLessUsableMemoryThanACpuOfTheSameSize() {
    assertEquals(1340, ExecutorSpec.gpu("g", 1600).usableBytes(0.1)); // 1600 · (0.9 − 0.0625)
    assertEquals(1440, ExecutorSpec.cpu("c", 1600).usableBytes(0.1));
  }

  @Test
  void aWindowThatFitsNowhereIsNamed() {
    long[] bytes = {10, 10, 300, 10};
    Sums costs = new Sums(new long[] {1, 1, 1, 1}, bytes);
    List<ExecutorSpec> executors = List.of(
        new ExecutorSpec("a", ExecutorKind.GPU, 100, 1.0),
        new ExecutorSpec("b", ExecutorKind.GPU, 200, 1.0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ShardPartitioner(executors, 0.1).partition(costs));
    assertEquals("window 2 needs 300 B (300 bytes) as the first window of a shard, but the most "
        + "any executor has is 167 B (167 bytes) usable: b's 200 B less the 10% safety margin and "
        + "the 6.3% its backend keeps. "
        + "Use executors with more memory, a smaller window, batch or calibration set, or a "
        + "smaller safety margin.", e.getMessage());
  }
}
