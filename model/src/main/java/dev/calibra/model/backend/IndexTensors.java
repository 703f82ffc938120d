package dev.calibra.model.backend;

/**
 * Index tensors: int32 values (codeword indices, positions) kept in a tensor's float32 storage as
 * their raw bits, so that indices of any size survive exactly (a float holds integers only up to
 * 2^24). Only the ops that take indices read them; nothing does arithmetic on them as floats.
 * Non-negative ints below 2^31 − 2^23 are never NaN patterns, so every copy keeps their bits.
 */
public final class IndexTensors {

  private IndexTensors() {}

  public static Tensor upload(Backend backend, int[] values, int rows, int cols) {
    float[] bits = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0) {
        throw new IllegalArgumentException("index " + values[i] + " at " + i + " is negative");
      }
      bits[i] = Float.intBitsToFloat(values[i]);
    }
    return backend.upload(bits, rows, cols);
  }

  public static int[] download(Backend backend, Tensor tensor) {
    float[] bits = backend.download(tensor);
    int[] values = new int[bits.length];
    for (int i = 0; i < bits.length; i++) {
      values[i] = Float.floatToRawIntBits(bits[i]);
    }
    return values;
  }
}
