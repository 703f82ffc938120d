package dev.calibra.partitioning;

/**
 * FLOPs and peak memory of a candidate shard (windows {@code first..last}) under a schedule.
 *
 * <pre>
 *   flops = (Σ blocks of its windows + warm-up blocks) · FlopModel.blockInWindow
 *   peak  = training of its largest window (MemoryModel.windowTrainingBytes)
 *         + float weights of its trained and warm-up blocks (loaded once for the task)
 *         + packed results of its owned blocks
 * </pre>
 *
 * Both only shrink when the shard starts later or ends earlier, which the partitioner's greedy
 * relies on: a later start drops a window of more than o blocks and adds at most o warm-up
 * blocks. The warm-up window, of at most o blocks, is smaller than any window that follows
 * another, so it is never the largest.
 */
final class ShardCostModel implements ShardPartitioner.Costs {

  private final ShardGeometry geometry;
  private final MemoryModel memory;
  private final BlockMemory block;
  private final double blockFlops;
  /** blocksBefore[k]: blocks summed over windows 0..k−1, overlapped blocks counted each time. */
  private final long[] blocksBefore;

  ShardCostModel(ShardGeometry geometry, MemoryModel memory, FlopModel flops) {
    this.geometry = geometry;
    this.memory = memory;
    this.block = memory.block();
    this.blockFlops = flops.blockInWindow();
    this.blocksBefore = new long[geometry.windowCount() + 1];
    for (int k = 0; k < geometry.windowCount(); k++) {
      blocksBefore[k + 1] = blocksBefore[k] + geometry.window(k).size();
    }
  }

  @Override
  public int windowCount() {
    return geometry.windowCount();
  }

  @Override
  public double flops(int first, int last) {
    long windowBlocks = blocksBefore[last + 1] - blocksBefore[first];
    return (windowBlocks + geometry.warmUp(first).count()) * blockFlops;
  }

  @Override
  public long peakBytes(int first, int last) {
    // Windows never grow along the model (WindowLayout), so the first is the largest.
    long training = memory.windowTrainingBytes(geometry.window(first).size());
    long loaded = geometry.trained(first, last).count() + geometry.warmUp(first).count();
    return training + loaded * block.floatWeights()
        + geometry.owned(first, last).count() * block.packedResult();
  }

  @Override
  public String describeStart(int first) {
    WindowSpan window = geometry.window(first);
    BlockRange warmUp = geometry.warmUp(first);
    return "window " + first + " (blocks " + window.blocks().label()
        + (warmUp.count() == 0 ? "" : ", after warm-up blocks " + warmUp.label()) + ")";
  }
}
