package dev.calibra.calibration.cbq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.uniform.UniformQuantizer;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.backend.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatentWeightTunerTest {

  private static final int ROWS = 6;
  private static final int COLS = 40;
  /** Groups of 16 columns: the last group of each row has 8. */
  private static final QuantizationScheme SCHEME = new QuantizationScheme(3, 16);

  private final CpuBackend backend = new CpuBackend();
  private final float[] floatWeight = randomWeight(new Random(7));

  private static float[] randomWeight(Random random) {
    float[] w = new float[ROWS * COLS];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextGaussian() * 0.1f;
    }
    return w;
  }

  /** Round-to-nearest with every fifth code moved one step the other way, as a window might. */
  private QuantizedMatrix windowed() {
    QuantizedMatrix nearest = new UniformQuantizer(SCHEME).quantize(floatWeight, ROWS, COLS);
    byte[] codes = nearest.codes().clone();
    for (int i = 0; i < codes.length; i += 5) {
      int code = codes[i] & 0xFF;
      codes[i] = (byte) (code == SCHEME.levels() - 1 ? code - 1 : code + 1);
    }
    return new QuantizedMatrix(SCHEME, ROWS, COLS, codes, nearest.scales(), nearest.zeros());
  }

  @Test
  void startsExactlyWhereTheWindowsEnded() {
    QuantizedMatrix start = windowed();
    LatentWeightTuner tuner = new LatentWeightTuner(backend, start, floatWeight, 3e-3f, 0.01f);
    float[] expected = start.dequantize();
    float[] soft = backend.download(tuner.fakeQuantize(1f));
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], soft[i], 1e-6f * Math.abs(expected[i]), "weight " + i);
    }
    QuantizedMatrix finished = tuner.finish().uniform();
    assertArrayEquals(start.codes(), finished.codes());
    assertArrayEquals(start.zeros(), finished.zeros());
    assertArrayEquals(start.scales(), finished.scales(), 1e-6f * start.scales()[0]);
    assertArrayEquals(finished.dequantize(), backend.download(tuner.finish().dequantized()));
  }

  @Test
  void latentGradientIsTheWeightGradientAndStepGradientSumsOverTheGroup() {
    LatentWeightTuner tuner = new LatentWeightTuner(backend, windowed(), floatWeight, 3e-3f, 0.01f);
    float[] weight = backend.download(tuner.fakeQuantize(1f));
    float[] dWeight = randomWeight(new Random(11));
    Tensor gradient = backend.upload(dWeight, ROWS, COLS);
    assertEquals(0, tuner.backward(gradient, 1f, 2f));
    // Straight-through: the latent weight gets dL/dŵ unchanged.
    assertArrayEquals(dWeight, backend.download(tuner.parameters().get(0).gradient()));
    // ŵ = exp(θ)·round(w′): dL/dθ of a group at θ = 0 is Σ over it of dL/dŵ · ŵ.
    float[] stepGradient = backend.download(tuner.parameters().get(1).gradient());
    double[] expected = new double[stepGradient.length];
    for (int r = 0; r < ROWS; r++) {
      for (int c = 0; c < COLS; c++) {
        expected[r * SCHEME.groupsPerRow(COLS) + c / 16] += dWeight[r * COLS + c]
            * weight[r * COLS + c];
      }
    }
    for (int g = 0; g < expected.length; g++) {
      assertEquals(expected[g], stepGradient[g], 1e-5, "group " + g);
    }
  }

  @Test
  void aCodeMovesOnceItsLatentWeightCrossesTheMiddleOfTwoGridPoints() {
    QuantizedMatrix start = windowed();
    // Adam moves a weight by about its learning rate per step: a tenth of the layer's mean step.
    LatentWeightTuner tuner = new LatentWeightTuner(backend, start, floatWeight, 0f, 0.1f);
    int pushed = firstCodeBelowTheTop(start);
    float[] dWeight = new float[ROWS * COLS];
    dWeight[pushed] = -1f;
    Tensor gradient = backend.upload(dWeight, ROWS, COLS);
    Parameter latent = tuner.parameters().get(0);
    int updates = 0;
    byte[] codes = start.codes();
    while (codes[pushed] == start.codes()[pushed] && updates < 100) {
      tuner.fakeQuantize(1f);
      tuner.backward(gradient, 0f, 2f);
      latent.update(0.9f, 0.999f, 1e-8f, 1f);
      latent.zeroGradient();
      updates++;
      codes = tuner.finish().uniform().codes();
    }
    assertEquals(start.codes()[pushed] + 1, codes[pushed], "after " + updates + " updates");
    // It started at most 0.45 of a grid step from its grid point, and steps of about 0.1 of the
    // mean grid step take it over the middle.
    assertTrue(updates >= 1 && updates <= 40, updates + " updates");
    for (int i = 0; i < codes.length; i++) {
      if (i != pushed) {
        assertEquals(start.codes()[i], codes[i], "code " + i);
      }
    }
  }

  private static int firstCodeBelowTheTop(QuantizedMatrix m) {
    for (int i = 0; ; i++) {
      if (m.code(i / COLS, i % COLS) < SCHEME.levels() - 1) {
        return i;
      }
    }
  }
}
