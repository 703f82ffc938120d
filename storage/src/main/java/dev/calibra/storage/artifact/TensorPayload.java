package dev.calibra.storage.artifact;

/** The stored values of one artifact tensor, one implementation per {@link TensorKind}. */
public sealed interface TensorPayload permits UniformPayload, VqPayload, FloatPayload {

  TensorKind kind();

  /**
   * Checks that the payload's arrays have the sizes a tensor of this shape needs.
   *
   * @throws IllegalArgumentException saying which array is wrong and what was expected
   */
  void checkShape(int rows, int cols);
}
