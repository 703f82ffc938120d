package dev.calibra.calibration.cbq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The logit loss's gradient through the output head, against central differences. */
class LogitDistillationTest {

  private final CpuBackend backend = new CpuBackend();
  private final Random random = new Random(3);

  private float[] gaussian(int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  @Test
  void gradientMatchesFiniteDifferencesAndTheLossVanishesOnTheTarget() {
    int tokens = 6;
    int hidden = 16;
    int vocab = 20;
    Tensor norm = backend.upload(gaussian(hidden), 1, hidden);
    Tensor head = backend.upload(gaussian(vocab * hidden), vocab, hidden);
    LogitDistillation distillation = new LogitDistillation(backend, norm, head, 1e-5f);
    float[] out = gaussian(tokens * hidden);
    Tensor target = backend.upload(gaussian(tokens * hidden), tokens, hidden);
    Tensor dOutput = backend.zeros(tokens, hidden);
    distillation.addLoss(backend.upload(out, tokens, hidden), target, 2f, dOutput);
    float[] analytic = backend.download(dOutput);

    double errorSquares = 0;
    double normSquares = 0;
    double step = 1e-2;
    for (int i = 0; i < out.length; i += 3) {
      float saved = out[i];
      out[i] = (float) (saved + step);
      double plus = 2 * distillation.addLoss(backend.upload(out, tokens, hidden), target, 0f,
          backend.zeros(tokens, hidden));
      out[i] = (float) (saved - step);
      double minus = 2 * distillation.addLoss(backend.upload(out, tokens, hidden), target, 0f,
          backend.zeros(tokens, hidden));
      out[i] = saved;
      double numeric = (plus - minus) / (2 * step);
      errorSquares += Math.pow(numeric - analytic[i], 2);
      normSquares += numeric * numeric;
    }
    double relative = Math.sqrt(errorSquares / normSquares);
    assertTrue(normSquares > 0 && relative < 2e-3, "relative error " + relative);
    assertEquals(0.0, distillation.addLoss(target, target, 1f, backend.zeros(tokens, hidden)),
        1e-9);
  }
}
