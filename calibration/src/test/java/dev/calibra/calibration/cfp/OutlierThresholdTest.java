package dev.calibra.calibration.cfp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OutlierThresholdTest {

  @Test
  void plantedOutliersAreSeparatedFromTheGaussianTail() {
    Random random = new Random(3);
    float[] values = new float[10_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.abs(random.nextGaussian());
    }
    float tail = 0;
    for (float v : values) {
      tail = Math.max(tail, v);
    }
    values[17] = 20f;
    values[4242] = 25f;
    values[9000] = 31f;
    assertEquals(tail, OutlierThreshold.of(values), 0f, "everything up to the tail is kept");
    WeightOutlierTruncation.Truncated t = WeightOutlierTruncation.apply(signed(values));
    assertEquals(3, t.truncated());
    assertEquals(-tail, t.weights()[4242], 0f, "sign kept, magnitude cut to the threshold");
  }

  @Test
  void aPlainGaussianHasNoOutliers() {
    Random random = new Random(5);
    float[] values = new float[10_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.abs(random.nextGaussian());
    }
    assertEquals(Float.POSITIVE_INFINITY, OutlierThreshold.of(values), 0f);
    assertEquals(0, WeightOutlierTruncation.apply(values).truncated());
  }

  @Test
  void tinyInputsHaveNoOutliers() {
    assertEquals(Float.POSITIVE_INFINITY, OutlierThreshold.of(new float[] {1f, 100f}), 0f);
  }

  private static float[] signed(float[] values) {
    float[] out = values.clone();
    for (int i = 0; i < out.length; i += 2) {
      out[i] = -out[i];
    }
    return out;
  }
}
