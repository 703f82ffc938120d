package dev.calibra.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.kernels.Backends;
import dev.calibra.partitioning.Schedule;
import org.junit.jupiter.api.Test;

class CalibrateOptionsTest {

  @Test
  void defaultsAreTheReadmeJob() {
    CalibrateOptions options = CalibrateOptions.parse(new String[0]);

    assertEquals(QuantizeOptions.DEFAULT_MODEL, options.model());
    assertNull(options.calibration().calibText(), "calibration.txt of the model directory");
    assertEquals(CalibrateOptions.DEFAULT_SAMPLES, options.calibration().samples());
    assertEquals(CbqRecipe.defaults(new QuantizationScheme(4, 128)), options.recipe());
    assertEquals(4, options.recipe().endToEndEpochs(), "the pass, as calibra quantize runs it");
    assertEquals(Schedule.SEQUENTIAL, options.schedule());
    assertEquals(Backends.Choice.AUTO, options.backend());
    assertEquals("calibra-job/model.arrow", options.output());
    assertEquals("calibra-job/model.work", options.workDirectory());
    assertEquals("calibra-job/model.summary.json", options.summary());
    assertEquals("local[2]", options.master());
  }

  @Test
  void recipeOptionsChangeOnlyWhatTheyName() {
    CalibrateOptions options = CalibrateOptions.parse(new String[] {"--bits", "3", "--group",
        "per-channel", "--epochs", "1", "--batch-size=2", "--window", "3", "--overlap", "1",
        "--lora-rank", "0", "--seed", "7", "--calib-samples", "64", "--schedule", "parallel",
        "--backend", "cpu", "--output", "hdfs://nn/jobs/a.arrow"});

    CbqRecipe expected = CbqRecipe.defaults(new QuantizationScheme(3,
        QuantizationScheme.PER_CHANNEL)).toBuilder().epochs(1).batchSize(2).window(3, 1)
        .loraRank(0).seed(7).build();
    assertEquals(expected, options.recipe());
    assertEquals(64, options.calibration().samples());
    assertEquals(Schedule.PARALLEL, options.schedule());
    assertEquals(Backends.Choice.CPU, options.backend());
    assertEquals("hdfs://nn/jobs/a.work", options.workDirectory());
  }

  @Test
  void endToEndEpochsAreTheJobsToChoose() {
    assertEquals(2, CalibrateOptions.parse(new String[] {"--e2e-epochs", "2"}).recipe()
        .endToEndEpochs());
    assertEquals(CbqRecipe.defaults(new QuantizationScheme(4, 128)).withoutEndToEnd(),
        CalibrateOptions.parse(new String[] {"--e2e-epochs", "0"}).recipe());
  }

  @Test
  void vqRulesMakeAMixedRecipe() {
    CalibrateOptions options = CalibrateOptions.parse(new String[] {"--bits", "2", "--group",
        "64", "--vq", "layers.0.*:d2k4,mlp.*:d4k8", "--vq-candidates", "2"});

    assertEquals("layers.0.*:d2k4,mlp.*:d4k8", options.vqRecipe().label());
    assertEquals(2, options.vqRecipe().training().candidates());
    assertEquals(new QuantizationScheme(2, 64), options.recipe().scheme(),
        "the layers no rule matches");
    assertNull(CalibrateOptions.parse(new String[0]).vqRecipe());
  }

  @Test
  void badValuesAreNamed() {
    assertMessage("--schedule must be sequential or parallel", "--schedule", "eager");
    assertMessage("backend must be auto, cpu or cuda", "--backend", "tpu");
    assertMessage("not both", "--calib-text", "a.txt", "--calib-tokens", "b.jsonl");
    assertMessage("--gpu-memory must be a positive size", "--gpu-memory", "lots");
    assertMessage("unknown option", "--shards", "2");
    assertMessage("--e2e-epochs must be", "--e2e-epochs", "-1");
    assertMessage("the Spark job calibrates with --method cbq only, got 'rtn'; round-to-nearest "
        + "needs no calibration: run calibra quantize --method rtn", "--method", "rtn");
  }

  @Test
  void sizesTakeBinarySuffixes() {
    assertEquals(80L << 30, CalibrateOptions.bytes("80g"));
    assertEquals(512L << 20, CalibrateOptions.bytes("512M"));
    assertEquals(1000, CalibrateOptions.bytes("1000"));
  }

  private static void assertMessage(String expected, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrateOptions.parse(args));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
