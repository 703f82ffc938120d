package dev.calibra.storage.artifact;

/**
 * Vector quantization of a rows×cols matrix: each row is cut into cols / dim sub-vectors of
 * {@code dim} consecutive columns, each replaced by an entry of its row's codebook: weight
 * (r, j·dim + t) = codebook[(c(r)·entries + index(r, j))·dim + t] · rowScale[r], where c(r) =
 * floor(r / codebookRows) (0 when one codebook serves every row).
 *
 * @param indexBits width of an assignment index, 1 to {@link BitPacking#MAX_BITS}
 * @param dim columns per sub-vector; must divide cols
 * @param codebook the codebooks one after another, each entries × dim values as float16 bits,
 *     row-major
 * @param packedIndices the rows·(cols / dim) indices, row-major, packed by {@link BitPacking};
 *     each indexes its row's codebook
 * @param rowScales null (scale 1), or one scale per row
 * @param codebookRows null when one codebook serves every row, else how many consecutive rows
 *     share each codebook (the last codebook may serve fewer)
 */
public record VqPayload(int indexBits, int dim, short[] codebook, byte[] packedIndices,
    float[] rowScales, Integer codebookRows) implements TensorPayload {

  public VqPayload {
    if (indexBits < 1 || indexBits > BitPacking.MAX_BITS) {
      throw new IllegalArgumentException("assignment indices must have 1 to " + BitPacking.MAX_BITS
          + " bits, got " + indexBits);
    }
    if (dim <= 0) {
      throw new IllegalArgumentException("sub-vector dimension must be positive, got " + dim);
    }
    if (codebookRows != null && codebookRows <= 0) {
      throw new IllegalArgumentException("rows per codebook must be positive, got "
          + codebookRows);
    }
  }

  @Override
  public TensorKind kind() {
    return TensorKind.VQ;
  }

  /** How many codebooks a matrix of {@code rows} rows has: ceil(rows / codebookRows), or 1. */
  public int codebooks(int rows) {
    return codebookRows == null ? 1 : (rows + codebookRows - 1) / codebookRows;
  }

  /** Entries of each codebook of a matrix of {@code rows} rows. */
  public int entries(int rows) {
    return codebook.length / dim / codebooks(rows);
  }

  /** The codebook row r's indices point into. */
  public int codebookOf(int row) {
    return codebookRows == null ? 0 : row / codebookRows;
  }

  @Override
  public void checkShape(int rows, int cols) {
    if (cols % dim != 0) {
      throw new IllegalArgumentException("rows of " + cols + " cannot be cut into sub-vectors of "
          + dim);
    }
    long perCodebook = (long) codebooks(rows) * dim;
    if (codebook.length == 0 || codebook.length % perCodebook != 0) {
      throw new IllegalArgumentException("codebook of " + codebook.length + " values is not "
          + codebooks(rows) + " codebook(s) of whole entries of " + dim);
    }
    long indices = (long) rows * (cols / dim);
    if (packedIndices.length != BitPacking.packedBytes(indices, indexBits)) {
      throw new IllegalArgumentException("packed indices are " + packedIndices.length
          + " bytes, expected " + BitPacking.packedBytes(indices, indexBits) + " for " + indices
          + " indices of " + indexBits + " bits");
    }
    if (rowScales != null) {
      UniformPayload.requireLength("row scales", rowScales.length, rows);
    }
  }
}
