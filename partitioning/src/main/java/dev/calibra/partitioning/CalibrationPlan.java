package dev.calibra.partitioning;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * How a model's CBQ calibration is split over executors: its windows, the shards (runs of
 * consecutive windows, one calibration task each) and where each shard runs, with memory and time
 * estimates. Build one with {@link #create}; log it with {@link #describe}; hand each task its
 * {@link Shard}. Every part is a record of numbers, strings, enums and lists: Serializable, and
 * written and read back by Jackson as it is.
 *
 * @param safetyMargin fraction of each executor's memory a shard's estimated peak must leave free
 * @param windows every window of the model, in order
 * @param shards the shards in model order
 * @param blockMemory the memory estimate of one block (all blocks have the same shape)
 * @param windowMemory what a window costs on top of its blocks
 * @param blockFlopsPerWindow FLOPs of calibrating one block within one window
 * @param estimatedSeconds the plan's estimated calibration time: the sum of the shards' times in
 *     the sequential schedule, the busiest executor's time in the parallel one
 */
public record CalibrationPlan(
    ModelShape model,
    RecipeShape recipe,
    Schedule schedule,
    List<ExecutorSpec> executors,
    double safetyMargin,
    List<WindowSpan> windows,
    List<Shard> shards,
    BlockMemory blockMemory,
    WindowMemory windowMemory,
    double blockFlopsPerWindow,
    double estimatedSeconds) implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Memory a plan leaves free on each executor unless told otherwise: 10%. */
  public static final double DEFAULT_SAFETY_MARGIN = 0.10;

  public CalibrationPlan {
    executors = List.copyOf(executors);
    windows = List.copyOf(windows);
    shards = List.copyOf(shards);
  }

  /** {@link #create(ModelShape, RecipeShape, Schedule, List, double)} with the default margin. */
  public static CalibrationPlan create(ModelShape model, RecipeShape recipe, Schedule schedule,
      List<ExecutorSpec> executors) {
    return create(model, recipe, schedule, executors, DEFAULT_SAFETY_MARGIN);
  }

  /**
   * Plans the calibration of {@code model} with {@code recipe} on {@code executors}.
   *
   * @param safetyMargin fraction of every executor's memory to leave free, in [0, 1)
   * @throws IllegalArgumentException when there is no executor, two share a name, the margin is
   *     out of range, or some window cannot start a shard on any executor (the message names the
   *     window, the bytes it needs and the most any executor has)
   */
  public static CalibrationPlan create(ModelShape model, RecipeShape recipe, Schedule schedule,
      List<ExecutorSpec> executors, double safetyMargin) {
    if (executors.isEmpty()) {
      throw new IllegalArgumentException("a plan needs at least one executor");
    }
    Set<String> names = new HashSet<>();
    for (ExecutorSpec executor : executors) {
      if (!names.add(executor.name())) {
        throw new IllegalArgumentException("two executors are named " + executor.name());
      }
    }
    if (!(safetyMargin >= 0 && safetyMargin < 1)) {
      throw new IllegalArgumentException("the safety margin is a fraction in [0, 1), got "
          + safetyMargin);
    }
    List<WindowSpan> windows =
        WindowLayout.of(model.blocks(), recipe.windowSize(), recipe.overlap());
    ShardGeometry geometry = new ShardGeometry(windows, model.blocks(), recipe.overlap(), schedule);
    MemoryModel memory = new MemoryModel(model, recipe);
    FlopModel flops = new FlopModel(model, recipe);
    ShardCostModel costs = new ShardCostModel(geometry, memory, flops);

    List<Shard> shards = new ArrayList<>();
    ShardPartitioner partitioner = new ShardPartitioner(executors, safetyMargin);
    for (ShardPartitioner.Placement p : partitioner.partition(costs)) {
      ExecutorSpec executor = executors.get(p.executor());
      double shardFlops = costs.flops(p.firstWindow(), p.lastWindow());
      shards.add(new Shard(shards.size(),
          windows.subList(p.firstWindow(), p.lastWindow() + 1),
          geometry.trained(p.firstWindow(), p.lastWindow()),
          geometry.owned(p.firstWindow(), p.lastWindow()),
          geometry.warmUp(p.firstWindow()),
          geometry.carried(p.firstWindow()),
          geometry.floatInputBlock(p.firstWindow()),
          p.executor(), executor.name(), p.round(),
          costs.peakBytes(p.firstWindow(), p.lastWindow()),
          shardFlops, shardFlops / executor.flopsPerSecond()));
    }
    double seconds = schedule == Schedule.SEQUENTIAL
        ? shards.stream().mapToDouble(Shard::seconds).sum()
        : IntStream.range(0, executors.size()).mapToDouble(e -> busy(shards, e)).max().orElse(0);
    return new CalibrationPlan(model, recipe, schedule, executors, safetyMargin, windows, shards,
        memory.block(), memory.window(), flops.blockInWindow(), seconds);
  }

  /** Seconds executor {@code executor} (an index into {@link #executors}) spends on its shards. */
  public double busySeconds(int executor) {
    return busy(shards, executor);
  }

  private static double busy(List<Shard> shards, int executor) {
    return shards.stream().filter(s -> s.executor() == executor).mapToDouble(Shard::seconds).sum();
  }

  /** Estimated peak of the end-to-end pass, the whole model as one window on one executor. */
  public long endToEndPeakBytes() {
    return new MemoryModel(model, recipe).endToEndBytes();
  }

  /**
   * Whether the end-to-end pass fits any executor of the plan with its safety margin: it is one
   * task, which may land on any of them.
   */
  public boolean endToEndFits() {
    return endToEndPeakBytes() <= smallestUsableBytes();
  }

  /** For logs: the end-to-end pass's estimated peak against the smallest executor's memory. */
  public String describeEndToEnd() {
    return "the whole model as one window needs about " + Units.bytes(endToEndPeakBytes())
        + "; the smallest slot has " + Units.bytes(smallestUsableBytes()) + " ("
        + Units.percent(safetyMargin) + " of its memory kept free)";
  }

  private long smallestUsableBytes() {
    return executors.stream().mapToLong(e -> e.usableBytes(safetyMargin)).min().orElse(0);
  }

  /**
   * The blocks at whose input the capture stage must save the float model's activations, one per
   * shard, ascending (block 0's input is the embedding output).
   */
  public List<Integer> captureBlocks() {
    Set<Integer> blocks = new TreeSet<>();
    for (Shard shard : shards) {
      blocks.add(shard.floatInputBlock());
    }
    return List.copyOf(blocks);
  }

  /** A table for driver logs: the inputs, the per-block estimate, then one row per shard. */
  public String describe() {
    return PlanTable.of(this);
  }

  @Override
  public String toString() {
    return describe();
  }
}
