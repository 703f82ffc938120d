package dev.calibra.model.cpu;

/**
 * A GEMM operand as the product sees it, op(X), with the transposition folded into the strides:
 * element (row, col) lives at {@code data[offset + row * rowStride + col * colStride]}. One of
 * the two strides is always 1, which {@link GemmPacking} relies on.
 */
record StridedMatrix(float[] data, int offset, int rowStride, int colStride) {

  /** op(X) for a row-major array X with row stride {@code ld}, transposed or not. */
  static StridedMatrix of(float[] data, int offset, int ld, boolean transposed) {
    return transposed
        ? new StridedMatrix(data, offset, 1, ld)
        : new StridedMatrix(data, offset, ld, 1);
  }

  int index(int row, int col) {
    return offset + row * rowStride + col * colStride;
  }
}
