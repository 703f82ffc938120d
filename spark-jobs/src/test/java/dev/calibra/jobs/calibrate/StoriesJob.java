package dev.calibra.jobs.calibrate;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.jobs.workdir.TokenFile;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.kernels.Backends;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.partitioning.ExecutorSpec;
import dev.calibra.partitioning.ModelShape;
import dev.calibra.partitioning.RecipeShape;
import dev.calibra.partitioning.Schedule;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * A short CBQ job on the real stories260K model (5 blocks: windows [0,1] [1,2] [2,3] [3,4])
 * with its work directory in a test's temporary folder: what the task tests run without Spark.
 */
record StoriesJob(JobSpec spec, CalibrationPlan plan, List<int[]> samples) {

  /** One epoch per window and one end-to-end pass: short, and every stage has work. */
  static final CbqRecipe RECIPE = new CbqRecipe.Builder(new QuantizationScheme(3, 32))
      .epochs(1).batchSize(2).endToEnd(1, CbqRecipe.defaults(new QuantizationScheme(3, 32))
          .endToEndLearningRate()).build();
  static final int SAMPLES = 6;

  static Path model() {
    return Path.of(System.getProperty("calibra.shared", "../../shared"), "models", "stories260K");
  }

  /** A job of two shards (plans for two executors), its samples written to the work directory. */
  static StoriesJob create(Path directory, Schedule schedule) throws Exception {
    return create(directory, schedule, null);
  }

  /** The same job with a mixed recipe: {@code vq}'s layers vector-quantized (null: none). */
  static StoriesJob create(Path directory, Schedule schedule, VqRecipe vq) throws Exception {
    List<int[]> samples = TokenIdFiles.read(model().resolve("sequences.json").toString(),
        "calibration").subList(0, SAMPLES);
    WorkDirectory work = WorkDirectory.at(directory.resolve("work").toString());
    TokenFile.write(work.calibrationSamples(), samples);
    ModelShape shape;
    try (ModelDirectory model = ModelDirectory.open(model().toString())) {
      shape = ModelShape.of(model.config());
    }
    CalibrationPlan plan = CalibrationPlan.create(shape,
        RecipeShape.builder().window(2, 1).samples(SAMPLES, samples.get(0).length).batchSize(2)
            .epochs(1).scheme(3, 32).build(),
        schedule, List.of(ExecutorSpec.cpu("a", 1L << 30), ExecutorSpec.cpu("b", 1L << 30)));
    String recipe = JobSpec.recipeToJson(RECIPE);
    String vqJson = JobSpec.vqToJson(vq);
    JobSpec spec = new JobSpec(model().toString(), work.root().toString(),
        directory.resolve("model.arrow").toString(), recipe, vqJson,
        JobArtifact.recipe(RECIPE, vqJson, schedule, plan.shards(), SAMPLES,
            samples.get(0).length, 0).toString(), schedule, Backends.Choice.CPU);
    return new StoriesJob(spec, plan, samples);
  }

  FileLocation output() throws Exception {
    return FileLocation.of(spec.output(), new Configuration());
  }
}
