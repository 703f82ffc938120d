package dev.calibra.model.backend;

/**
 * A row-major float32 matrix owned by one {@link Backend}. Vectors are 1×n or n×1 matrices.
 *
 * <p>Everything the decoder computes is a 2-D matrix: activations are [tokens, features] with
 * the tokens of a batch of equal-length sequences stacked, and weights keep the Hugging Face
 * [out, in] layout. Keeping one shape kind keeps every backend op simple to state and to port.
 */
public interface Tensor extends AutoCloseable {

  int rows();

  int cols();

  default long size() {
    return (long) rows() * cols();
  }

  /**
   * Gives the tensor's memory back now, where a backend keeps it outside the Java heap (GPU
   * memory knows nothing of the garbage collector); using the tensor afterwards is an error.
   * Code that makes temporaries in a loop closes them. A no-op on the CPU backend. Closing a
   * closed tensor does nothing, so that references that may be one tensor (an activation
   * quantizer that handed back its input) can each be closed.
   */
  @Override
  default void close() {}

  /** "rows×cols", for error messages. */
  default String shapeText() {
    return rows() + "×" + cols();
  }
}
