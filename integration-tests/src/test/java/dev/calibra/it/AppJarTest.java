package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The spark-submit application jar: Calibra's own classes and main class, JCuda for the GPU
 * backend, and nothing a Spark installation provides (two copies of Spark, Scala, Hadoop, Arrow
 * or Jackson on one classpath fail in ways that are hard to trace).
 */
class AppJarTest {

  private static final Path APP_JAR = Path.of("..", "spark-jobs", "target",
      "spark-jobs-0.1.0-SNAPSHOT-app.jar").toAbsolutePath().normalize();

  /** Packages of what Spark 4.2 ships in its jars/ directory. */
  private static final List<String> PROVIDED = List.of("org/apache/spark/", "scala/",
      "org/apache/hadoop/", "org/apache/arrow/", "com/fasterxml/jackson/", "org/apache/parquet/",
      "org/slf4j/", "org/apache/logging/", "io/netty/");

  @Test
  void holdsCalibraAndJcudaAndNothingSparkProvides() throws Exception {
    assertTrue(Files.isRegularFile(APP_JAR), APP_JAR + " is missing: mvn package builds it");
    try (JarFile jar = new JarFile(APP_JAR.toFile())) {
      assertEquals("dev.calibra.jobs.spark.CalibrateJobMain",
          jar.getManifest().getMainAttributes().getValue("Main-Class"));
      List<String> classes = jar.stream().map(e -> e.getName())
          .filter(n -> n.endsWith(".class")).toList();
      for (String module : List.of("jobs/spark/", "calibration/cbq/", "partitioning/",
          "storage/artifact/", "model/cpu/", "tokenizers/", "kernels/cuda/")) {
        assertTrue(classes.stream().anyMatch(n -> n.startsWith("dev/calibra/" + module)),
            "no class of dev/calibra/" + module);
      }
      List<String> foreign = classes.stream()
          .filter(n -> !n.startsWith("dev/calibra/") && !n.startsWith("jcuda/")).toList();
      assertEquals(List.of(), foreign, "classes that are neither Calibra's nor JCuda's");
      assertTrue(classes.contains("jcuda/driver/JCudaDriver.class"));
      assertTrue(PROVIDED.stream().noneMatch(p -> jar.stream()
          .anyMatch(e -> e.getName().startsWith(p))));
    }
  }
}
