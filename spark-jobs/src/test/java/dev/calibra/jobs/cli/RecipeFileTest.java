package dev.calibra.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --recipe FILE for quantize and calibrate (and so spark-submit), on the shipped examples too. */
class RecipeFileTest {

  /** The examples the README documents, at the repository root. */
  private static final Path EXAMPLES = Path.of("..", "recipes");
  private static final QuantizationScheme W4G32 = new QuantizationScheme(4, 32);

  @TempDir
  Path directory;

  @Test
  void theRtnExampleIsRoundToNearestW4G32() {
    QuantizeOptions options = QuantizeOptions.parse(new String[] {"--recipe",
        EXAMPLES.resolve("rtn-w4g32.properties").toString()});
    assertEquals("rtn", options.method());
    assertEquals(List.of(W4G32), options.schemes());
    assertFalse(options.quantizeLmHead());
    assertNull(options.cbq());
  }

  @Test
  void theCbqExampleSpellsOutTheEngineDefaultsForBothCommands() {
    String recipe = EXAMPLES.resolve("cbq-w4g32.properties").toString();
    assertEquals(CbqRecipe.defaults(W4G32),
        CalibrateOptions.parse(new String[] {"--recipe", recipe}).recipe());
    QuantizeOptions quantize = QuantizeOptions.parse(new String[] {"--recipe=" + recipe});
    assertEquals("cbq", quantize.method());
    assertEquals(CbqRecipe.defaults(W4G32), quantize.cbq().recipe(W4G32));
  }

  @Test
  void theSmallModelExampleRotatesAndTrainsTwiceAsLong() {
    String recipe = EXAMPLES.resolve("cbq-w4g32-small-model.properties").toString();
    CbqRecipe expected = CbqRecipe.defaults(W4G32).toBuilder().rotate(true).epochs(8)
        .loraRank(32).build();
    assertEquals(expected, CalibrateOptions.parse(new String[] {"--recipe", recipe}).recipe());
    assertEquals(expected, QuantizeOptions.parse(new String[] {"--recipe", recipe}).cbq()
        .recipe(W4G32));
  }

  @Test
  void theVqExampleIsAMixedRecipeForQuantizeAndTheSparkJob() {
    String recipe = EXAMPLES.resolve("cbq-vq-mlp-d4k8.properties").toString();
    QuantizeOptions quantize = QuantizeOptions.parse(new String[] {"--recipe", recipe});
    assertEquals("cbq", quantize.method());
    assertEquals("mlp.*:d4k8", quantize.cbq().vq());
    assertEquals(4, quantize.cbq().vqRecipe().training().candidates());
    assertEquals(List.of(new QuantizationScheme(2, 64)), quantize.schemes(),
        "the layers no rule matches: attention at W2 g64");
    CalibrateOptions job = CalibrateOptions.parse(new String[] {"--recipe", recipe});
    assertEquals(quantize.cbq().vqRecipe(), job.vqRecipe());
    assertEquals(quantize.cbq().recipe(new QuantizationScheme(2, 64)), job.recipe());
  }

  @Test
  void theCommandLineOverridesTheFileWhereverItStands() throws IOException {
    Path recipe = write("method = cbq\nbits = 3\nepochs = 4\nno-cfp = true\n");
    CbqRecipe before = CalibrateOptions.parse(new String[] {"--epochs", "1", "--recipe",
        recipe.toString()}).recipe();
    CbqRecipe after = CalibrateOptions.parse(new String[] {"--recipe", recipe.toString(),
        "--epochs", "1"}).recipe();
    assertEquals(1, before.epochs());
    assertEquals(before, after);
    assertEquals(3, after.scheme().bits());
    assertFalse(after.truncateWeightOutliers(), "no-cfp = true is the flag --no-cfp");
  }

  @Test
  void aFalseFlagIsLeftOut() throws IOException {
    Path recipe = write("method = rtn\nquantize-lm-head = false\n");
    assertFalse(QuantizeOptions.parse(new String[] {"--recipe", recipe.toString()})
        .quantizeLmHead());
    Path on = write("method = rtn\nquantize-lm-head = TRUE\n");
    assertTrue(QuantizeOptions.parse(new String[] {"--recipe", on.toString()}).quantizeLmHead());
  }

  @Test
  void theSparkJobRefusesRoundToNearestAndSaysWhereItRuns() {
    String recipe = EXAMPLES.resolve("rtn-w4g32.properties").toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrateOptions.parse(new String[] {"--recipe", recipe}));
    assertTrue(e.getMessage().contains("calibra quantize --method rtn"), e.getMessage());
  }

  @Test
  void mistakesNameTheFileAndTheKey() throws IOException {
    Path data = write("method = cbq\nmodel = ../shared/models/stories260K\n");
    assertMessage("the recipe " + data + " sets 'model', which is not a recipe setting",
        "--recipe", data.toString());
    Path noMethod = write("bits = 4\n");
    assertMessage("the recipe " + noMethod + " names no method", "--recipe", noMethod.toString());
    Path badFlag = write("method = cbq\nno-lwc = yes\n");
    assertMessage("sets the flag 'no-lwc' to 'yes': a flag is true or false", "--recipe",
        badFlag.toString());
    assertMessage("cannot read the recipe " + directory.resolve("absent.properties"),
        "--recipe", directory.resolve("absent.properties").toString());
    assertMessage("--recipe needs a value", "--recipe");
  }

  @Test
  void aRecipeKeyTheCommandLacksIsRefused() throws IOException {
    Path recipe = write("method = cbq\nquantize-lm-head = true\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrateOptions.parse(new String[] {"--recipe", recipe.toString()}));
    assertTrue(e.getMessage().contains("sets 'quantize-lm-head', which is not a recipe setting "
        + "of this command"), e.getMessage());
  }

  private Path write(String text) throws IOException {
    return Files.writeString(Files.createTempFile(directory, "recipe", ".properties"), text);
  }

  private static void assertMessage(String expected, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizeOptions.parse(args));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
