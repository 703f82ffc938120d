package dev.calibra.jobs.spark;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.calibration.vq.VqSettings;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.Linear;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.partitioning.ExecutorSpec;
import dev.calibra.partitioning.ModelShape;
import dev.calibra.partitioning.RecipeShape;
import dev.calibra.partitioning.Schedule;
import dev.calibra.partitioning.VqLayerShape;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The calibration plan of a job: made for the cluster's task slots on the first run and kept in
 * the work directory, so that a restarted job runs the very shards whose results it finds there
 * even if it got a different number of executors.
 */
final class PlanMaker {

  private PlanMaker() {}

  /** The plan in the work directory, or a new one for these slots, which is then kept there. */
  static CalibrationPlan planFor(WorkDirectory work, LlamaConfig config, CbqRecipe recipe,
      VqRecipe vq, List<int[]> samples, Schedule schedule, List<ExecutorSpec> slots)
      throws IOException {
    if (work.planFile().exists()) {
      return JsonFiles.read(work.planFile(), CalibrationPlan.class);
    }
    CalibrationPlan plan = CalibrationPlan.create(ModelShape.of(config),
        shape(recipe, vq, config.numLayers(), samples.size(), samples.get(0).length), schedule,
        slots);
    JsonFiles.write(work.planFile(), plan);
    return plan;
  }

  /**
   * The cost-relevant part of a CBQ recipe and its VQ rules (null: none), for the planner's
   * estimates.
   */
  static RecipeShape shape(CbqRecipe recipe, VqRecipe vq, int blocks, int samples, int seqLen) {
    RecipeShape.Builder shape = RecipeShape.builder()
        .window(recipe.windowSize(), recipe.overlap())
        // The planner counts at least rank 1 and one epoch: an upper bound for rank 0 / 0 epochs.
        .loraRank(Math.max(1, recipe.loraRank()))
        .scheme(recipe.scheme().bits(), recipe.scheme().groupSize())
        .samples(samples, seqLen)
        .batchSize(recipe.batchSize())
        .epochs(Math.max(1, recipe.epochs()))
        .activationQuantization(recipe.activationBits() > 0);
    if (vq != null) {
      for (Linear linear : Linear.values()) {
        vqShape(vq, linear, blocks).ifPresent(layer -> shape.vectorQuantized(linear, layer));
      }
    }
    return shape.build();
  }

  /**
   * A bound on what a layer's VQ costs in any block: the smallest sub-vectors, the largest
   * codebooks and the most of them that the rules give it in any block. Empty when no rule
   * covers it.
   */
  private static Optional<VqLayerShape> vqShape(VqRecipe vq, Linear linear, int blocks) {
    List<VqSettings> settings = IntStream.range(0, blocks)
        .mapToObj(block -> vq.settingsFor(block, linear)).flatMap(Optional::stream).toList();
    if (settings.isEmpty()) {
      return Optional.empty();
    }
    int dim = settings.stream().mapToInt(VqSettings::dim).min().orElseThrow();
    int indexBits = settings.stream().mapToInt(VqSettings::indexBits).max().orElseThrow();
    int codebookRows = settings.stream().mapToInt(VqSettings::codebookRows).filter(r -> r > 0)
        .min().orElse(0);
    return Optional.of(new VqLayerShape(dim, indexBits, codebookRows,
        Math.min(vq.training().candidates(), 1 << indexBits),
        vq.training().codebookLearningRate() > 0));
  }

  /**
   * One executor spec per task slot. A slot of a GPU cluster (spark.task.resource.gpu.amount
   * set) has one GPU of {@code gpuMemoryBytes}; a CPU slot its share of the executor heap (of
   * the driver's heap in local mode).
   *
   * @param slots how many; 0 for Spark's default parallelism
   */
  static List<ExecutorSpec> slots(JavaSparkContext spark, int slots, long gpuMemoryBytes) {
    SparkConf conf = spark.getConf();
    int count = slots > 0 ? slots : spark.defaultParallelism();
    boolean gpu = Double.parseDouble(conf.get("spark.task.resource.gpu.amount", "0")) > 0;
    long memory = gpu ? gpuMemoryBytes : cpuMemoryPerSlot(spark);
    List<ExecutorSpec> specs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      specs.add(gpu ? ExecutorSpec.gpu("gpu-slot-" + i, memory)
          : ExecutorSpec.cpu("cpu-slot-" + i, memory));
    }
    return specs;
  }

  private static long cpuMemoryPerSlot(JavaSparkContext spark) {
    SparkConf conf = spark.getConf();
    if (spark.isLocal()) {
      return Runtime.getRuntime().maxMemory() / Math.max(1, spark.defaultParallelism());
    }
    long executorMemory = conf.getSizeAsBytes("spark.executor.memory", "1g");
    int tasksPerExecutor = Math.max(1, conf.getInt("spark.executor.cores", 1)
        / Math.max(1, conf.getInt("spark.task.cpus", 1)));
    return executorMemory / tasksPerExecutor;
  }
}
