package dev.calibra.calibration.vq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
    assertEquals(Optional.of(new VqSettings(2, 4, true, 0)), recipe.settingsFor(0, Linear.DOWN));
    assertEquals(Optional.of(new VqSettings(4, 8, false, 0)), recipe.settingsFor(3, Linear.DOWN));
    assertEquals(Optional.empty(), recipe.settingsFor(3, Linear.Q));
    assertEquals("layers.0.*:d2k4,mlp.*:d4k8-unscaled", recipe.label());
  }

  @Test
  void codebooksPerGroupOfRowsAreWrittenWithR() {
    VqSettings settings = VqSettings.parse("d4k6r96-unscaled");
    assertEquals(new VqSettings(4, 6, false, 96), settings);
    assertEquals("d4k6r96-unscaled", settings.label());
    assertEquals(96, settings.codebookRowsOf(288));
    assertEquals(64, settings.codebookRowsOf(64), "a layer smaller than a group has one codebook");
    assertEquals(288, VqSettings.parse("d4k6").codebookRowsOf(288));
    assertThrows(IllegalArgumentException.class, () -> VqSettings.parse("d4k6r0"));
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
    VqMatrix m = new VqMatrix(rows, cols, 8, 16, rows, new short[65536 * 8],
        new int[rows * cols / 8], new float[rows]);
    assertEquals(2.0 * rows * cols + 16.0 * 65536 * 8 + 16.0 * rows, m.storedBits());
    assertEquals(2.1875, (double) m.storedBits() / ((long) rows * cols), 1e-3);
  }

  /** Three rows, two per codebook: the last row indexes the second, shorter group's codebook. */
  @Test
  void eachGroupOfRowsDequantizesFromItsOwnCodebook() {
    short[] books = {Float16.fromFloat(1f), Float16.fromFloat(2f), Float16.fromFloat(3f),
        Float16.fromFloat(4f)};
    VqMatrix m = new VqMatrix(3, 1, 1, 1, 2, books, new int[] {1, 0, 1}, null);
    assertEquals(2, m.codebooks());
    assertEquals(2, m.entries());
    assertArrayEquals(new float[] {2f, 1f, 4f}, m.dequantize());
    assertEquals(3 + 16 * 4, m.storedBits());
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
