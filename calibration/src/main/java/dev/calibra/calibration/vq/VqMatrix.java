package dev.calibra.calibration.vq;

/**
 * A weight matrix in vector-quantized form: each row cut into cols / dim sub-vectors, sub-vector
 * j of row r replaced by entry indices[r·(cols/dim) + j] of its row's codebook, times the row's
 * scale. Each group of {@code codebookRows} consecutive rows has a codebook of its own (the last
 * group may be shorter); codebookRows = rows is one codebook for the matrix. This is what the
 * artifact stores (kind "vq"); {@link #dequantize()} computes exactly what its dequantizer does:
 * w = float32(codebook entry) · rowScale in float32.
 *
 * @param codebook the codebooks one after another, each entries × dim float16 values, as bits
 * @param indices each below the number of entries of one codebook
 * @param rowScales one per row, each a float16 value (so a packed layout may store it in 16
 *     bits), or null for 1
 */
public record VqMatrix(int rows, int cols, int dim, int indexBits, int codebookRows,
    short[] codebook, int[] indices, float[] rowScales) {

  public VqMatrix {
    if (cols % dim != 0 || codebookRows < 1 || codebookRows > rows
        || codebook.length % ((long) codebooks(rows, codebookRows) * dim) != 0
        || codebook.length / dim / codebooks(rows, codebookRows) > 1 << indexBits
        || indices.length != rows * (cols / dim)
        || (rowScales != null && rowScales.length != rows)) {
      throw new IllegalArgumentException("inconsistent VQ matrix " + rows + "×" + cols + " (dim "
          + dim + ", " + indexBits + "-bit indices, a codebook per " + codebookRows + " rows, "
          + codebook.length + " codebook values, " + indices.length + " indices)");
    }
  }

  private static int codebooks(int rows, int codebookRows) {
    return (rows + codebookRows - 1) / codebookRows;
  }

  public int codebooks() {
    return codebooks(rows, codebookRows);
  }

  /** Entries of each codebook. */
  public int entries() {
    return codebook.length / dim / codebooks();
  }

  public float[] dequantize() {
    int perRow = cols / dim;
    float[] weights = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      int first = r / codebookRows * entries();
      for (int j = 0; j < perRow; j++) {
        int entry = first + indices[r * perRow + j];
        for (int t = 0; t < dim; t++) {
          float value = Float16.toFloat(codebook[entry * dim + t]);
          weights[r * cols + j * dim + t] = rowScales == null ? value : value * rowScales[r];
        }
      }
    }
    return weights;
  }

  /**
   * Bits this matrix takes stored compactly: an index of {@code indexBits} per sub-vector, the
   * float16 codebooks, and a float16 scale per row when it has them (see VqSettings).
   */
  public long storedBits() {
    return (long) indexBits * indices.length + 16L * codebook.length
        + (rowScales == null ? 0 : 16L * rows);
  }
}
