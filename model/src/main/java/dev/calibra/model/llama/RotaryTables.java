package dev.calibra.model.llama;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;

/** The cosine and sine of every rotary angle, [positions, headDim/2] each, on one backend. */
public record RotaryTables(Tensor cos, Tensor sin) {

  /** Tables for positions 0 … positions−1; angles are computed in double, then rounded once. */
  public static RotaryTables of(LlamaConfig config, int positions, Backend backend) {
    int half = config.headDim() / 2;
    float[] cos = new float[positions * half];
    float[] sin = new float[positions * half];
    for (int i = 0; i < half; i++) {
      double frequency = config.rope().inverseFrequency(i, config.headDim());
      for (int p = 0; p < positions; p++) {
        double angle = p * frequency;
        cos[p * half + i] = (float) Math.cos(angle);
        sin[p * half + i] = (float) Math.sin(angle);
      }
    }
    return new RotaryTables(backend.upload(cos, positions, half), backend.upload(sin, positions, half));
  }

  public int positions() {
    return cos.rows();
  }
}
