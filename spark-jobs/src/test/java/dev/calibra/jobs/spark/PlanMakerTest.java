package dev.calibra.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.model.llama.Linear;
import dev.calibra.partitioning.RecipeShape;
import dev.calibra.partitioning.VqLayerShape;
import org.junit.jupiter.api.Test;

/** The planner's view of a recipe with VQ rules. */
class PlanMakerTest {

  private static final CbqRecipe RECIPE = CbqRecipe.defaults(new QuantizationScheme(2, 64));

  @Test
  void vqLayersAreBoundedOverTheBlocksAndOthersStayUniform() throws Exception {
    VqRecipe vq = VqRecipe.parse("layers.0.mlp.*:d2k6,mlp.*:d4k8r96,self_attn.o_proj:d4k8");
    RecipeShape shape = PlanMaker.shape(RECIPE, vq, 6, 128, 512);
    int candidates = vq.training().candidates();
    // Block 0's d2k6 and the other blocks' d4k8r96: the smaller sub-vectors, the larger and more
    // numerous codebooks.
    assertEquals(new VqLayerShape(2, 8, 96, candidates, true),
        shape.vectorQuantized().get(Linear.GATE));
    assertEquals(new VqLayerShape(4, 8, 0, candidates, true),
        shape.vectorQuantized().get(Linear.O));
    assertTrue(!shape.vectorQuantized().containsKey(Linear.Q), "q_proj stays uniform");
    assertEquals(4, shape.vectorQuantized().size());
    // The plan file keeps them.
    String json = JsonFiles.JSON.writeValueAsString(shape);
    assertEquals(shape, JsonFiles.JSON.readValue(json, RecipeShape.class));
    assertEquals(RecipeShape.builder().build().vectorQuantized(), PlanMaker.shape(RECIPE, null, 6,
        128, 512).vectorQuantized());
  }
}
