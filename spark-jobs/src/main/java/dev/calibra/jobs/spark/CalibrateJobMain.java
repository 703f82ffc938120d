package dev.calibra.jobs.spark;

import dev.calibra.jobs.cli.CalibraCli;
import dev.calibra.jobs.cli.CalibrateOptions;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.io.PrintStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The spark-submit main class of the CBQ calibration job, also run in-process by
 * {@code calibra calibrate}. Under spark-submit the master and resources come from
 * spark-submit; started any other way the job runs on an embedded local Spark
 * ({@code --master}, default local[2]). Arguments: {@link CalibrateOptions#help()}.
 */
public final class CalibrateJobMain {

  private CalibrateJobMain() {}

  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Runs the job on an existing Spark context (a notebook's, say) and writes its JSON summary;
   * returns the summary.
   */
  public static JobSummary runJob(JavaSparkContext spark, CalibrateOptions options)
      throws IOException {
    JobSummary summary = new CalibrationJob(spark, options).run();
    JsonFiles.write(FileLocation.of(options.summary(), new Configuration()), summary.toJson());
    return summary;
  }

  /** Runs the job; returns the exit code (0 success, 1 failure, 2 bad usage). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (CalibrateOptions.wantsHelp(args)) {
      out.print(CalibrateOptions.help());
      return 0;
    }
    CalibrateOptions options;
    try {
      options = CalibrateOptions.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("calibra calibrate: " + e.getMessage());
      return 2;
    }
    SparkConf conf = new SparkConf().setAppName("calibra calibrate");
    if (!conf.contains("spark.master")) {
      conf.setMaster(options.master());
    }
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      JobSummary summary = runJob(spark, options);
      out.print(summary.table());
      out.println("artifact " + options.output() + "; summary " + options.summary());
      return 0;
    } catch (Exception e) {
      err.println("calibra calibrate failed: " + CalibraCli.describe(e));
      return 1;
    }
  }
}
