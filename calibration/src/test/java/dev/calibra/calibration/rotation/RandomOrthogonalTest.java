package dev.calibra.calibration.rotation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RandomOrthogonalTest {

  /** Widths of real models and their odd parts: 64 and 8 (stories260K), 288 = 9·32, 96 = 3·32. */
  @ParameterizedTest
  @ValueSource(ints = {1, 8, 64, 96, 288, 384})
  void isOrthogonalAndDense(int n) {
    float[] q = RandomOrthogonal.of(n, 3);
    double worst = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double dot = 0;
        for (int k = 0; k < n; k++) {
          dot += (double) q[k * n + i] * q[k * n + j];
        }
        worst = Math.max(worst, Math.abs(dot - (i == j ? 1 : 0)));
      }
    }
    assertTrue(worst < 1e-6, "QᵀQ differs from I by " + worst + " at width " + n);
    // Every input reaches every output: no entry is zero.
    for (float v : q) {
      assertTrue(v != 0f, "a zero entry at width " + n);
    }
  }

  @Test
  void theSameSeedGivesTheSameMatrixAndAnotherSeedAnother() {
    assertArrayEquals(RandomOrthogonal.of(288, 5), RandomOrthogonal.of(288, 5));
    assertFalse(Arrays.equals(RandomOrthogonal.of(288, 5), RandomOrthogonal.of(288, 6)));
    assertEquals(64 * 64, RandomOrthogonal.of(64, 0).length);
  }

  @Test
  void refusesAnEmptyWidth() {
    assertThrows(IllegalArgumentException.class, () -> RandomOrthogonal.of(0, 1));
  }
}
