package dev.calibra.partitioning;

import java.io.Serializable;
import java.util.List;

/**
 * One shard of a plan: the consecutive windows one calibration task runs, and what it needs and
 * produces. This is what the driver hands a task (Serializable, and plain enough for JSON).
 *
 * @param index position among the plan's shards, in model order
 * @param windows its windows in order (a window is never split across shards)
 * @param trainedBlocks every block its windows train
 * @param ownedBlocks the blocks whose final quantized form it outputs; the owned ranges of a
 *     plan's shards partition the model. A non-last shard's trained blocks go o blocks past its
 *     owned ones: the next shard trains those again and owns them
 * @param warmUpBlocks parallel schedule: blocks before its first one that it calibrates first, as a
 *     window of their own, and discards; empty otherwise
 * @param carriedBlocks sequential schedule: blocks whose learned parameters it takes over from
 *     the previous shard's last window; empty otherwise
 * @param floatInputBlock the block at whose input it needs the float model's activations (the
 *     capture stage provides them): for its float targets, and in the parallel schedule as its
 *     starting inputs. In the sequential schedule its quantized inputs are the previous shard's
 *     outputs at {@code trainedBlocks.first}
 * @param executor index of its executor in the plan's executor list
 * @param executorName that executor's name
 * @param round 0 for an executor's first shard, 1 for its second, …: only non-zero when memory
 *     forced more shards than executors
 * @param peakBytes estimated peak memory of its task
 * @param flops estimated floating-point operations, warm-up included
 * @param seconds estimated run time on its executor
 */
public record Shard(
    int index,
    List<WindowSpan> windows,
    BlockRange trainedBlocks,
    BlockRange ownedBlocks,
    BlockRange warmUpBlocks,
    BlockRange carriedBlocks,
    int floatInputBlock,
    int executor,
    String executorName,
    int round,
    long peakBytes,
    double flops,
    double seconds) implements Serializable {

  private static final long serialVersionUID = 1L;

  public Shard {
    windows = List.copyOf(windows);
  }

  /** "3–7" or "3" for a single window: its window indices as plan tables print them. */
  public String windowLabel() {
    int first = windows.get(0).index();
    int last = windows.get(windows.size() - 1).index();
    return first == last ? Integer.toString(first) : first + "–" + last;
  }
}
