package dev.calibra.model.llama;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;

/**
 * Per-token dynamic fake quantization of every linear layer's input (the "A8" of W4A8). During
 * calibration a QDrop probability lets some activations stay float, which keeps the loss smooth
 * while the weights adapt to quantized inputs; evaluation uses probability 0.
 *
 * <p>Each quantized tensor gets its own random stream: the seed is mixed with a counter of the
 * calls made through this instance, so one instance per forward pass gives reproducible masks.
 */
public final class ActivationFakeQuantizer implements LinearInputQuantizer {

  private final Backend backend;
  private final int bits;
  private final float dropProbability;
  private final long seed;
  private long calls;

  public ActivationFakeQuantizer(Backend backend, int bits, float dropProbability, long seed) {
    if (bits < 2 || bits > 16) {
      throw new IllegalArgumentException("activation bits must be in 2..16, got " + bits);
    }
    this.backend = backend;
    this.bits = bits;
    this.dropProbability = dropProbability;
    this.seed = seed;
  }

  /** Evaluation-time quantization: every activation quantized, nothing random. */
  public static ActivationFakeQuantizer forEvaluation(Backend backend, int bits) {
    return new ActivationFakeQuantizer(backend, bits, 0f, 0L);
  }

  @Override
  public Tensor quantize(Tensor input, Linear firstConsumer) {
    Tensor out = backend.zeros(input.rows(), input.cols());
    long streamSeed = seed * 0x9E3779B97F4A7C15L + (++calls);
    backend.fakeQuantizeActivations(input, bits, dropProbability, streamSeed, out);
    return out;
  }
}
