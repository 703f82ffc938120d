package dev.calibra.partitioning;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Cuts a sequence of windows into contiguous shards and places each on an executor so that the
 * longest shard is as short as it can be, every shard fitting its executor's usable memory.
 *
 * <p><b>Slots.</b> Executors are ordered fastest first (then most memory first, then as given)
 * and that order is repeated R times: slot k is executor k mod E in round ⌊k/E⌋. R is the fewest
 * rounds in which memory alone lets the windows be covered; it is 1, i.e. at most one shard per
 * executor, unless the model does not fit the cluster at once, in which case executors run
 * several shards one after another.
 *
 * <p><b>Greedy for a time limit T.</b> Walk the slots in order; each opens a shard at the first
 * uncovered window and extends it while the shard still fits the executor's memory and runs in at
 * most T on it; a slot that cannot take even one window stays empty. Because a shard's time and
 * memory only shrink when it starts later or ends earlier, this covers, slot after slot, the
 * longest prefix any cut could: T is feasible for the slot order iff the greedy covers every
 * window.
 *
 * <p><b>Search.</b> The least feasible T is the time of some shard on some executor, so the
 * partitioner sorts those candidates (every window range, every distinct throughput) and binary
 * searches them. For identical executors this is the optimal contiguous partition (the slot order
 * does not matter), and the longest shard is at most total/E + the longest window + the longest
 * warm-up: a greedy shard closed by time holds more than total/E. With mixed executors faster
 * ones come first and take proportionally more windows: a heuristic, not an optimum.
 */
final class ShardPartitioner {

  /** What the partitioner needs to know of a candidate shard made of windows first..last. */
  interface Costs {
    int windowCount();

    double flops(int first, int last);

    long peakBytes(int first, int last);

    /** Names window {@code first} as a shard's start, for error messages. */
    String describeStart(int first);
  }

  /** A shard: windows first..last on executor {@code executor} (an index), in its round-th turn. */
  record Placement(int firstWindow, int lastWindow, int executor, int round) {}

  private final List<ExecutorSpec> executors;
  private final double safetyMargin;
  private final long[] usable;
  /** Executor indices, fastest first. */
  private final int[] order;

  ShardPartitioner(List<ExecutorSpec> executors, double safetyMargin) {
    this.executors = executors;
    this.safetyMargin = safetyMargin;
    this.usable = executors.stream().mapToLong(e -> e.usableBytes(safetyMargin)).toArray();
    this.order = IntStream.range(0, executors.size()).boxed()
        .sorted(Comparator.<Integer>comparingDouble(e -> -executors.get(e).flopsPerSecond())
            .thenComparingLong(e -> -usable[e])
            .thenComparingInt(e -> e))
        .mapToInt(Integer::intValue).toArray();
  }

  List<Placement> partition(Costs costs) {
    int slots = slotsNeededByMemory(costs);
    double[] candidates = candidateTimes(costs);
    int lo = 0;
    int hi = candidates.length - 1; // the whole model on the slowest executor: time never binds
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (greedy(costs, slots, candidates[mid]) != null) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return greedy(costs, slots, candidates[lo]);
  }

  /** Slots, in whole rounds, that the greedy needs with no time limit. */
  private int slotsNeededByMemory(Costs costs) {
    int n = costs.windowCount();
    int next = 0;
    int slot = 0;
    int lastUsed = -1;
    while (next < n) {
      int last = extend(costs, next, slot, Double.POSITIVE_INFINITY);
      if (last >= next) {
        lastUsed = slot;
        next = last + 1;
      } else if (slot - lastUsed >= executors.size()) {
        throw noRoomFor(costs, next);
      }
      slot++;
    }
    int rounds = lastUsed / executors.size() + 1;
    return rounds * executors.size();
  }

  private IllegalArgumentException noRoomFor(Costs costs, int window) {
    int roomiest = 0;
    for (int e = 1; e < executors.size(); e++) {
      if (usable[e] > usable[roomiest]) {
        roomiest = e;
      }
    }
    ExecutorSpec executor = executors.get(roomiest);
    long needed = costs.peakBytes(window, window);
    return new IllegalArgumentException(costs.describeStart(window) + " needs "
        + Units.bytes(needed) + " (" + needed + " bytes) as the first window of a shard, but the "
        + "most any executor has is " + Units.bytes(usable[roomiest]) + " (" + usable[roomiest]
        + " bytes) usable: " + executor.name() + "'s " + Units.bytes(executor.memoryBytes())
        + " less the " + Units.percent(safetyMargin) + " safety margin"
        + (executor.kind().reservedFraction() > 0 ? " and the "
            + Units.percent(executor.kind().reservedFraction()) + " its backend keeps" : "")
        + ". Use executors with more "
        + "memory, a smaller window, batch or calibration set, or a smaller safety margin.");
  }

  /** Every shard time the optimum could be: each window range on each distinct throughput. */
  private double[] candidateTimes(Costs costs) {
    double[] speeds =
        executors.stream().mapToDouble(ExecutorSpec::flopsPerSecond).distinct().toArray();
    int n = costs.windowCount();
    double[] times = new double[n * (n + 1) / 2 * speeds.length];
    int k = 0;
    for (int first = 0; first < n; first++) {
      for (int last = first; last < n; last++) {
        double flops = costs.flops(first, last);
        for (double speed : speeds) {
          times[k++] = flops / speed;
        }
      }
    }
    Arrays.sort(times);
    return times;
  }

  /** The greedy cut for time limit {@code limit}, or null when it leaves windows uncovered. */
  private List<Placement> greedy(Costs costs, int slots, double limit) {
    List<Placement> shards = new ArrayList<>();
    int next = 0;
    for (int slot = 0; slot < slots && next < costs.windowCount(); slot++) {
      int last = extend(costs, next, slot, limit);
      if (last >= next) {
        shards.add(new Placement(next, last, order[slot % order.length], slot / order.length));
        next = last + 1;
      }
    }
    return next == costs.windowCount() ? shards : null;
  }

  /** The last window a shard opened at {@code first} in {@code slot} can take, or first − 1. */
  private int extend(Costs costs, int first, int slot, double limit) {
    int executor = order[slot % order.length];
    double speed = executors.get(executor).flopsPerSecond();
    int last = first - 1;
    while (last + 1 < costs.windowCount()
        && costs.peakBytes(first, last + 1) <= usable[executor]
        // The same expression as the candidates', so a candidate limit admits its own shard.
        && costs.flops(first, last + 1) / speed <= limit) {
      last++;
    }
    return last;
  }
}
