package dev.calibra.model.backend;

/**
 * A row-major float32 matrix owned by one {@link Backend}. Vectors are 1×n or n×1 matrices.
 *
 * <p>Everything the decoder computes is a 2-D matrix: activations are [tokens, features] with
 * the tokens of a batch of equal-length sequences stacked, and weights keep the Hugging Face
 * [out, in] layout. Keeping one shape kind keeps every backend op simple to state and to port.
 */
public interface Tensor {

  int rows();

  int cols();

  default long size() {
    return (long) rows() * cols();
  }

  /** "rows×cols", for error messages. */
  default String shapeText() {
    return rows() + "×" + cols();
  }
}
