package dev.calibra.storage.artifact;

import java.util.Arrays;

/**
 * One row of the artifact: a named tensor, the decoder block it belongs to ({@link #NO_BLOCK}
 * for embeddings, the final norm and the output projection) and its stored values.
 *
 * @param shape [rows, cols] for a matrix, [n] for a vector
 */
public record ArtifactTensor(String name, int block, int[] shape, TensorPayload payload) {

  public static final int NO_BLOCK = -1;

  /**
   * @throws IllegalArgumentException when the payload's sizes do not fit the shape, naming the
   *     tensor
   */
  public ArtifactTensor {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("a tensor needs a name");
    }
    if (block < NO_BLOCK) {
      throw new IllegalArgumentException(name + ": block index " + block + " is negative");
    }
    if (shape.length < 1 || shape.length > 2 || Arrays.stream(shape).anyMatch(d -> d <= 0)) {
      throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape)
          + " is not a vector or matrix of positive sizes");
    }
    shape = shape.clone();
    if (payload.kind() != TensorKind.FLOAT && shape.length != 2) {
      throw new IllegalArgumentException(name + ": a " + payload.kind().columnValue()
          + " tensor must be a matrix, got shape " + Arrays.toString(shape));
    }
    try {
      payload.checkShape(rows(shape), cols(shape));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + " " + Arrays.toString(shape) + ": "
          + e.getMessage(), e);
    }
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  public TensorKind kind() {
    return payload.kind();
  }

  /** Rows of the matrix the tensor is read as; a vector [n] is one row. */
  public int rows() {
    return rows(shape);
  }

  public int cols() {
    return cols(shape);
  }

  private static int rows(int[] shape) {
    return shape.length == 1 ? 1 : shape[0];
  }

  private static int cols(int[] shape) {
    return shape[shape.length - 1];
  }
}
