package dev.calibra.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.bench.spark.JobSubmission;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Entry {@code spark-schedules}: the Spark calibration job submitted with spark-submit.
 *
 * <p>Scaling: the parallel schedule's wall time on one and on two executors of one core each
 * (local-cluster mode: a standalone master and workers inside the driver JVM, every executor a
 * JVM of its own), for the same plan of two shards, so both runs do the same work and write the
 * same artifact. Quality: perplexity of the sequential schedule (exact CBQ) and of the parallel
 * one (each shard warmed up from float activations) on the shared models, cut into two shards.
 */
public final class SparkSchedulesBenchmark {

  private static final String ENTRY = "spark-schedules";
  private static final String EXECUTOR_MEMORY_MB = "2048";
  private static final int SCALING_ROUNDS = 3;
  /** One CPU thread per one-core executor, so that two executors use the two cores. */
  private static final List<String> ONE_THREAD = List.of(
      "spark.executor.extraJavaOptions=-Dcalibra.cpu.threads=1");

  /** One run; the machine's one-minute load average before and after tells how shared it was. */
  record ScalingRun(int round, int executors, double calibrateSeconds, double jobSeconds,
      double quantizedPerplexity, double loadBefore, double loadAfter) {}

  record Scaling(String model, String recipe, String mode, List<ScalingRun> runs,
      double calibrateSpeedup, double jobSpeedup) {}

  /** One run; {@code recipe} is the job's whole CBQ recipe, whose defaults are still tuned. */
  record QualityRun(String model, String scheme, int samples, String schedule, int shards,
      double floatPerplexity, double quantizedPerplexity, double calibrateSeconds,
      JsonNode recipe) {}

  record Machine(int logicalCpus, String java) {}

  record Results(String entry, String measuredAt, Machine machine, Scaling scaling,
      List<QualityRun> quality) {}

  private SparkSchedulesBenchmark() {}

  public static void main(String[] args) throws Exception {
    String part = args.length == 1 ? args[0] : args.length == 0 ? "all" : "";
    if (!List.of("all", "scaling", "quality").contains(part)) {
      System.err.println("usage: bench/run " + ENTRY + " [all|scaling|quality]   (one part keeps "
          + "the other's numbers from the results file)");
      System.exit(2);
    }
    Path results = Path.of(System.getProperty("calibra.bench.results", "bench/results"))
        .toAbsolutePath();
    Path repository = results.getParent().getParent();
    Path models = repository.resolveSibling("shared").resolve("models");
    JobSubmission jobs = new JobSubmission(repository,
        repository.resolve("bench/target/spark-schedules"));
    // A results file of an earlier version of this entry may hold fields it no longer writes.
    Results previous = part.equals("all") ? null : new ObjectMapper()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .readValue(results.resolve(ENTRY + ".json").toFile(), Results.class);

    Scaling scaling = part.equals("quality") ? previous.scaling()
        : scaling(jobs, models.resolve("dict-llama-15M"));
    List<QualityRun> quality = part.equals("scaling") ? previous.quality() : new ArrayList<>();
    if (!part.equals("scaling")) {
      quality.addAll(quality(jobs, models.resolve("stories260K"), List.of("--bits", "4",
          "--group", "32", "--calib-tokens", tokens(models, "calibration"), "--eval-tokens",
          tokens(models, "evaluation"))));
      quality.addAll(quality(jobs, models.resolve("dict-llama-15M"), List.of("--bits", "4",
          "--group", "128")));
    }
    print(scaling, quality);

    Machine machine = new Machine(Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name") + " " + Runtime.version());
    Path file = ResultFile.write(ENTRY, new Results(ENTRY, Instant.now().toString(), machine,
        scaling, quality));
    System.out.println();
    System.out.println("Results written to " + file);
  }

  /**
   * The parallel schedule, two shards, on one executor and on two, alternately for a few rounds:
   * the best time of each counts, as other work on the shared cores only ever slows a run down.
   */
  private static Scaling scaling(JobSubmission jobs, Path model) throws Exception {
    List<String> job = List.of("--model", model.toString(), "--schedule", "parallel",
        "--slots", "2", "--calib-samples", "8", "--epochs", "2", "--windows", "8",
        "--backend", "cpu");
    List<ScalingRun> runs = new ArrayList<>();
    for (int round = 1; round <= SCALING_ROUNDS; round++) {
      for (int executors = 1; executors <= 2; executors++) {
        System.out.printf(Locale.ROOT, "scaling, round %d: parallel schedule on %d executor%s...%n",
            round, executors, executors == 1 ? "" : "s");
        double loadBefore = loadAverage();
        JsonNode summary = jobs.run("scaling-" + executors + "-round-" + round,
            "local-cluster[" + executors + ",1," + EXECUTOR_MEMORY_MB + "]", ONE_THREAD, job);
        runs.add(new ScalingRun(round, executors, stageSeconds(summary, "calibrate"),
            summary.path("seconds").asDouble(),
            summary.path("perplexity").path("quantized").asDouble(), loadBefore, loadAverage()));
      }
    }
    return new Scaling(model.getFileName().toString(), String.join(" ", job),
        "local-cluster[E,1," + EXECUTOR_MEMORY_MB + "], calibra.cpu.threads=1", runs,
        best(runs, 1, ScalingRun::calibrateSeconds) / best(runs, 2, ScalingRun::calibrateSeconds),
        best(runs, 1, ScalingRun::jobSeconds) / best(runs, 2, ScalingRun::jobSeconds));
  }

  private static double best(List<ScalingRun> runs, int executors,
      ToDoubleFunction<ScalingRun> seconds) {
    return runs.stream().filter(r -> r.executors() == executors).mapToDouble(seconds).min()
        .orElseThrow();
  }

  /** Both schedules with the job's default recipe and samples, cut into two shards. */
  private static List<QualityRun> quality(JobSubmission jobs, Path model, List<String> data)
      throws Exception {
    List<QualityRun> runs = new ArrayList<>();
    for (String schedule : List.of("sequential", "parallel")) {
      String name = model.getFileName() + "-" + schedule;
      System.out.println("quality: " + name + "...");
      List<String> job = new ArrayList<>(List.of("--model", model.toString(), "--schedule",
          schedule, "--slots", "2", "--backend", "cpu"));
      job.addAll(data);
      JsonNode summary = jobs.run(name, "local[2]", List.of(), job);
      JsonNode recipe = summary.path("recipe");
      runs.add(new QualityRun(model.getFileName().toString(),
          "w" + recipe.path("scheme").path("bits").asInt() + " g"
              + recipe.path("scheme").path("group_size").asInt(),
          summary.path("calibration").path("samples").asInt(), schedule,
          summary.path("plan").path("shards").size(),
          summary.path("perplexity").path("float").asDouble(),
          summary.path("perplexity").path("quantized").asDouble(),
          stageSeconds(summary, "calibrate"), recipe));
    }
    return runs;
  }

  private static void print(Scaling scaling, List<QualityRun> quality) {
    System.out.println();
    System.out.println("Parallel schedule, " + scaling.model() + ", " + scaling.recipe());
    Table times = new Table("round", "executors", "calibrate s", "job s", "quantized PPL",
        "load before", "load after");
    for (ScalingRun run : scaling.runs()) {
      times.row(run.round(), run.executors(), format("%.1f", run.calibrateSeconds()),
          format("%.1f", run.jobSeconds()), format("%.3f", run.quantizedPerplexity()),
          format("%.1f", run.loadBefore()), format("%.1f", run.loadAfter()));
    }
    times.print(System.out);
    System.out.printf(Locale.ROOT, "speed-up with 2 executors (best of each): calibrate stage "
        + "%.2fx, whole job %.2fx%n%n", scaling.calibrateSpeedup(), scaling.jobSpeedup());
    Table table = new Table("model", "scheme", "samples", "schedule", "shards", "float PPL",
        "quantized PPL", "calibrate s");
    for (QualityRun run : quality) {
      table.row(run.model(), run.scheme(), run.samples(), run.schedule(), run.shards(),
          format("%.3f", run.floatPerplexity()), format("%.3f", run.quantizedPerplexity()),
          format("%.1f", run.calibrateSeconds()));
    }
    table.print(System.out);
  }

  private static double stageSeconds(JsonNode summary, String stage) {
    return summary.path("stages").path(stage).path("seconds").asDouble();
  }

  private static String tokens(Path models, String split) {
    return models.resolve("stories260K/sequences.json") + "#" + split;
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static String format(String pattern, double value) {
    return String.format(Locale.ROOT, pattern, value);
  }
}
