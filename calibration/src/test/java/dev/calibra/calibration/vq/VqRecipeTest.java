package dev.calibra.calibration.vq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.llama.Linear;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Rules of mixed recipes, layer patterns and the stored size of a VQ layer. */
class VqRecipeTest {

  @Test
  void firstMatchingRuleWinsAndOthersStayUniform() {
    VqRecipe recipe = VqRecipe.parse("layers.0.*:d2k4, mlp.*:d4k8-unscaled");
    assertEquals(Optional.of(new VqSettings(2, 4, true)), recipe.settingsFor(0, Linear.DOWN));
    assertEquals(Optional.of(new VqSettings(4, 8, false)), recipe.settingsFor(3, Linear.DOWN));
    assertEquals(Optional.empty(), recipe.settingsFor(3, Linear.Q));
    assertEquals("layers.0.*:d2k4,mlp.*:d4k8-unscaled", recipe.label());
  }

  @Test
  void patternsMatchNamesWithAndWithoutTheBlock() {
    assertTrue(new LayerPattern("self_attn.*").matches(4, Linear.O));
    assertTrue(new LayerPattern("layers.4.mlp.up_proj").matches(4, Linear.UP));
    assertFalse(new LayerPattern("layers.4.mlp.up_proj").matches(14, Linear.UP));
  }

  @Test
  void badRulesFailWithTheirText() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> VqRecipe.parse("mlp.*:d4"))
        .getMessage().contains("d4"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> VqRecipe.parse("mpl.*:d4k8"))
        .getMessage().contains("mpl.*"));
    assertThrows(IllegalArgumentException.class, () -> VqRecipe.parse("*:d9k8"));
    assertThrows(IllegalArgumentException.class, () -> VqRecipe.parse("*:d4k17"));
  }

  /**
   * A 4096×11008 layer at d8 k16 with row scales: 2 bits per index, a 65536×8 float16 codebook
   * (0.19 bits per weight) and a float16 scale per row (0.0015): 2.19 bits per weight.
   */
  @Test
  void storedBitsCountCodebookAndScales() {
    int rows = 4096;
    int cols = 11008;
    VqMatrix m = new VqMatrix(rows, cols, 8, 16, new short[65536 * 8],
        new int[rows * cols / 8], new float[rows]);
    assertEquals(2.0 * rows * cols + 16.0 * 65536 * 8 + 16.0 * rows, m.storedBits());
    assertEquals(2.1875, (double) m.storedBits() / ((long) rows * cols), 1e-3);
  }

  /** Every float16 value survives a round trip; halfway values round to even. */
  @Test
  void float16RoundTripsAndRoundsToEven() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short half = (short) bits;
      float value = Float16.toFloat(half);
      if (!Float.isNaN(value)) {
        assertEquals(half, Float16.fromFloat(value), "half 0x" + Integer.toHexString(bits));
      }
    }
    assertEquals(1f, Float16.round(1f + 0x1p-11f), "halfway between 1 and its successor: even");
    assertEquals(1f + 0x1p-9f, Float16.round(1f + 0x1p-10f + 0x1p-11f), "halfway: up to even");
    assertEquals(Float.POSITIVE_INFINITY, Float16.round(65520f));
    assertEquals(65504f, Float16.round(65519f));
  }
}
