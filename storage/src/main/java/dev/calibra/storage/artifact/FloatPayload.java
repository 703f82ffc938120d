package dev.calibra.storage.artifact;

/** A tensor kept in float32, row-major. */
public record FloatPayload(float[] values) implements TensorPayload {

  @Override
  public TensorKind kind() {
    return TensorKind.FLOAT;
  }

  @Override
  public void checkShape(int rows, int cols) {
    if (values.length != (long) rows * cols) {
      throw new IllegalArgumentException(values.length + " float values, expected " + rows + "×"
          + cols + " = " + (long) rows * cols);
    }
  }
}
