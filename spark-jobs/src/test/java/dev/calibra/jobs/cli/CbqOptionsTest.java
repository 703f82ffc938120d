package dev.calibra.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.calibration.vq.VqSettings;
import dev.calibra.model.llama.Linear;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CbqOptionsTest {

  private static final QuantizationScheme W3 = new QuantizationScheme(3, 128);

  @Test
  void unsetOptionsKeepTheRecipeDefaults() {
    QuantizeOptions options = QuantizeOptions.parse(new String[] {"--method", "cbq"});
    assertEquals(CbqRecipe.defaults(W3), options.cbq().recipe(W3));
    assertEquals(CbqOptions.DEFAULT_SAMPLES, options.cbq().samples());
  }

  @Test
  void givenOptionsChangeTheirFieldsOnly() {
    QuantizeOptions options = QuantizeOptions.parse(new String[] {"--method", "cbq", "--epochs",
        "7", "--lora-rank", "0", "--window", "3", "--kl-weight", "0.5", "--no-cfp", "--act-bits",
        "8", "--seed", "9", "--calib-samples", "32", "--calib-seq-len", "256", "--e2e-epochs",
        "2", "--e2e-weights", "0"});
    CbqRecipe recipe = options.cbq().recipe(W3);
    CbqRecipe defaults = CbqRecipe.defaults(W3);
    assertEquals(7, recipe.epochs());
    assertEquals(0, recipe.loraRank());
    assertEquals(3, recipe.windowSize());
    assertEquals(defaults.overlap(), recipe.overlap(), "the overlap keeps its default");
    assertEquals(0.5f, recipe.klWeight());
    assertTrue(!recipe.truncateWeightOutliers() && !recipe.scaleActivationOutliers());
    assertEquals(8, recipe.activationBits());
    assertEquals(9, recipe.seed());
    assertEquals(2, recipe.endToEndEpochs());
    assertEquals(defaults.endToEndLearningRate(), recipe.endToEndLearningRate());
    assertEquals(0f, recipe.endToEndWeightLearningRate());
    assertEquals(0.01f, defaults.endToEndWeightLearningRate());
    assertEquals(defaults.batchSize(), recipe.batchSize());
    assertEquals(32, options.cbq().samples());
    assertEquals(256, options.cbq().seqLen());
  }

  @Test
  void generatedSamplesMayReplaceTheText() {
    QuantizeOptions options = QuantizeOptions.parse(new String[] {"--method", "cbq",
        "--calib-samples", "0", "--calib-generated", "64"});
    assertEquals(0, options.cbq().samples());
    assertEquals(64, options.cbq().generated());
    assertEquals(0, QuantizeOptions.parse(new String[] {"--method", "cbq"}).cbq().generated());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(new String[] {"--method", "cbq", "--calib-samples", "0"}));
    assertEquals("no calibration samples: --calib-samples 0 needs --calib-generated N",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> QuantizeOptions.parse(
        new String[] {"--method", "cbq", "--calib-generated", "-1"}));
    assertEquals("--calib-generated must be an integer ≥ 0, got '-1'", e.getMessage());
  }

  @Test
  void rtnRunsHaveNoCbqOptionsAndRefuseThem() {
    assertNull(QuantizeOptions.parse(new String[0]).cbq());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(new String[] {"--calib-samples", "8"}));
    assertEquals("--calib-samples applies to --method cbq only", e.getMessage());
  }

  @Test
  void badValuesAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(new String[] {"--method", "cbq", "--window", "2",
            "--overlap", "2"}));
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> QuantizeOptions.parse(
        new String[] {"--method", "cbq", "--kl-weight", "-1"}));
    assertEquals("--kl-weight must be a number ≥ 0, got '-1'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> QuantizeOptions.parse(
        new String[] {"--method", "gptq"}));
    assertEquals("--method 'gptq' is not available (available: rtn, cbq)", e.getMessage());
  }

  @Test
  void vqRulesMakeAMixedRecipe() {
    QuantizeOptions options = QuantizeOptions.parse(new String[] {"--method", "cbq", "--vq",
        "mlp.*:d4k8,layers.0.*:d2k4", "--vq-candidates", "2"});
    VqRecipe vq = options.cbq().vqRecipe();
    assertEquals("mlp.*:d4k8,layers.0.*:d2k4", vq.label());
    assertEquals(2, vq.training().candidates());
    assertEquals(Optional.of(new VqSettings(4, 8, true, 0)), vq.settingsFor(0, Linear.UP));
    assertEquals(Optional.of(new VqSettings(2, 4, true, 0)), vq.settingsFor(0, Linear.Q));
    assertEquals(Optional.empty(), vq.settingsFor(1, Linear.Q));
    assertNull(QuantizeOptions.parse(new String[] {"--method", "cbq"}).cbq().vqRecipe());
  }

  @Test
  void badVqOptionsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(new String[] {"--method", "cbq", "--vq", "mlp.*:d4k17"}));
    assertTrue(e.getMessage().contains("index bits"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> QuantizeOptions.parse(
        new String[] {"--method", "cbq", "--vq-candidates", "2"}));
    assertEquals("--vq-candidates applies to --vq only", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> QuantizeOptions.parse(
        new String[] {"--method", "cbq", "--vq", "*:d4k8", "--vq-candidates", "9"}));
    assertTrue(e.getMessage().contains("candidates"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> CalibrateOptions.parse(
        new String[] {"--vq", "*:d4k17"}));
    assertTrue(e.getMessage().contains("index bits"), e.getMessage());
  }
}
