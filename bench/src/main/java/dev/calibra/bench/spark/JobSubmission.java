package dev.calibra.bench.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.storage.LocalDirectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Submits the calibration job's application jar with the spark-submit of the pyspark in .venv
 * (what a user of a Spark installation would run) and returns the job's JSON summary. Each run
 * gets a fresh directory for its artifact, work directory, summary and driver log.
 */
public final class JobSubmission {

  private final Path repository;
  private final Path runs;

  public JobSubmission(Path repository, Path runs) {
    this.repository = repository;
    this.runs = runs;
  }

  /**
   * @param master e.g. local[2], or local-cluster[E,1,MB]: a standalone master and E workers of
   *     one core inside the driver JVM, each executor its own JVM
   * @param jobArguments the job's own arguments, without --output, --work-dir and --summary
   */
  public JsonNode run(String name, String master, List<String> sparkConf,
      List<String> jobArguments) throws IOException, InterruptedException {
    Path directory = runs.resolve(name);
    LocalDirectories.deleteRecursively(directory);
    Files.createDirectories(directory);
    List<String> command = new ArrayList<>(List.of(
        repository.resolve(".venv/bin/spark-submit").toString(), "--master", master,
        "--class", "dev.calibra.jobs.spark.CalibrateJobMain", "--conf", "spark.ui.enabled=false"));
    for (String setting : sparkConf) {
      command.add("--conf");
      command.add(setting);
    }
    command.add(appJar().toString());
    command.addAll(jobArguments);
    command.addAll(List.of("--output", directory.resolve("model.arrow").toString(),
        "--summary", directory.resolve("summary.json").toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(directory.resolve("driver.log").toFile());
    builder.environment().put("SPARK_HOME", sparkHome().toString());
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    int exit = builder.start().waitFor();
    if (exit != 0) {
      throw new IllegalStateException("the job " + name + " failed (exit " + exit + "); see "
          + directory.resolve("driver.log"));
    }
    return new ObjectMapper().readTree(directory.resolve("summary.json").toFile());
  }

  private Path appJar() {
    Path jar = repository.resolve("spark-jobs/target/spark-jobs-0.1.0-SNAPSHOT-app.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: bench/run builds it");
    }
    return jar;
  }

  /** The Spark distribution inside the pyspark package that bin/python-env installs. */
  private Path sparkHome() throws IOException {
    Path lib = repository.resolve(".venv/lib");
    if (!Files.isDirectory(lib)) {
      throw new IllegalStateException("no .venv in " + repository + ": run bin/python-env");
    }
    try (Stream<Path> pythons = Files.list(lib)) {
      return pythons.map(p -> p.resolve("site-packages/pyspark"))
          .filter(p -> Files.isDirectory(p.resolve("jars"))).findFirst()
          .orElseThrow(() -> new IllegalStateException("no pyspark in " + lib
              + ": run bin/python-env"));
    }
  }

}
