package dev.calibra.partitioning;

/** How the shards of a plan run relative to one another. */
public enum Schedule {
  /**
   * Exact CBQ: shard s starts from the quantized outputs of shard s−1 and the learned parameters
   * of the blocks the two shards' windows share, so shards run one after another (the next
   * shard's executor loads its weights meanwhile). The plan's time is the sum of the shards'.
   */
  SEQUENTIAL,
  /**
   * All shards at once: shard s starts from the float model's activations, first calibrating
   * (and then discarding) up to o warm-up blocks in front of its first block so that its inputs
   * carry quantization noise. The plan's time is the busiest executor's.
   */
  PARALLEL
}
