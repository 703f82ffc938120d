package dev.calibra.partitioning;

import java.util.List;

/**
 * Which blocks a shard made of windows {@code first..last} touches, and why.
 *
 * <p>A block's learned parameters are those of the <em>last</em> window that trains it (CBQ
 * keeps training an overlapped block in the next window), so a shard <em>owns</em> (outputs) the
 * blocks from its first window's first block up to just before the next shard's first block; the
 * last shard owns up to the model's end. The shards' owned ranges partition the model. A shard
 * that is followed by another also trains, in its last window, the o blocks the next shard's
 * first window starts with:
 *
 * <ul>
 *   <li>sequential schedule: those blocks' learned parameters are <em>carried</em> to the next
 *       shard, which continues training them from there, exactly as one executor running both
 *       windows would; the next shard also starts from this shard's quantized outputs;
 *   <li>parallel schedule: nothing is carried; instead the next shard first calibrates up to o
 *       <em>warm-up</em> blocks in front of its first block (a window of their own, starting from
 *       the float model's activations there) and discards them: they are the previous shard's.
 * </ul>
 */
final class ShardGeometry {

  private final List<WindowSpan> windows;
  private final int blocks;
  private final int overlap;
  private final Schedule schedule;

  ShardGeometry(List<WindowSpan> windows, int blocks, int overlap, Schedule schedule) {
    this.windows = windows;
    this.blocks = blocks;
    this.overlap = overlap;
    this.schedule = schedule;
  }

  int windowCount() {
    return windows.size();
  }

  WindowSpan window(int index) {
    return windows.get(index);
  }

  /** Every block the shard's windows train. */
  BlockRange trained(int first, int last) {
    return new BlockRange(windows.get(first).first(), windows.get(last).last());
  }

  /** The blocks whose final parameters the shard outputs, the next shard starting at last + 1. */
  BlockRange owned(int first, int last) {
    int end = last == windows.size() - 1 ? blocks - 1 : windows.get(last + 1).first() - 1;
    return new BlockRange(windows.get(first).first(), end);
  }

  /** Parallel schedule: the up to o blocks before the shard, calibrated first and discarded. */
  BlockRange warmUp(int first) {
    int start = windows.get(first).first();
    if (schedule != Schedule.PARALLEL || first == 0 || overlap == 0) {
      return BlockRange.NONE;
    }
    return new BlockRange(Math.max(0, start - overlap), start - 1);
  }

  /** Sequential schedule: blocks whose learned parameters come from the previous shard. */
  BlockRange carried(int first) {
    if (schedule != Schedule.SEQUENTIAL || first == 0) {
      return BlockRange.NONE;
    }
    return windows.get(first - 1).blocks().intersect(windows.get(first).blocks());
  }

  /** The block at whose input the shard needs the float model's activations. */
  int floatInputBlock(int first) {
    BlockRange warmUp = warmUp(first);
    return warmUp.count() == 0 ? windows.get(first).first() : warmUp.first();
  }
}
