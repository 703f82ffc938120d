package dev.calibra.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.partitioning.ExecutorSpec;
import dev.calibra.partitioning.ModelShape;
import dev.calibra.partitioning.Schedule;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whether the job runs the end-to-end pass: only where the plan says the whole model fits. */
class EndToEndStageTest {

  /** dict-llama-15M: 6 blocks, hidden 288, MLP 768, 6 heads (2 key-value), vocabulary 32 000. */
  private static final ModelShape MODEL = new ModelShape(6, 288, 768, 6, 2, 48, 32000, false,
      true);
  private static final CbqRecipe RECIPE = CbqRecipe.defaults(new QuantizationScheme(4, 128));

  private static CalibrationPlan plan(long slotBytes) {
    return CalibrationPlan.create(MODEL, PlanMaker.shape(RECIPE, null, 6, 32, 512),
        Schedule.SEQUENTIAL, List.of(ExecutorSpec.cpu("a", slotBytes),
            ExecutorSpec.cpu("b", slotBytes)));
  }

  @Test
  void theRecipeKeepsItsPassWhereTheWholeModelFits() {
    assertEquals(RECIPE, EndToEndStage.recipeFor(RECIPE, plan(4L << 30)));
  }

  @Test
  void theRecipeLosesItsPassWhereTheWholeModelDoesNotFit() {
    CalibrationPlan roomy = plan(4L << 30);
    long peak = roomy.endToEndPeakBytes();
    // 6 blocks and 7 sets of 32·512 hidden states: far more than a window of 2 needs.
    assertTrue(peak > 200L << 20 && peak < 1L << 30, "estimated " + peak + " bytes");
    // Slots of exactly the estimate keep a tenth of it free; the windows still fit them.
    CalibrationPlan tight = plan(peak);

    CbqRecipe runs = EndToEndStage.recipeFor(RECIPE, tight);

    assertEquals(RECIPE.withoutEndToEnd(), runs);
    assertEquals(0, runs.endToEndEpochs());
    CbqRecipe none = RECIPE.withoutEndToEnd();
    assertEquals(none, EndToEndStage.recipeFor(none, tight), "no pass asked, none refused");
  }
}
