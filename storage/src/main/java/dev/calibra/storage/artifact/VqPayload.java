package dev.calibra.storage.artifact;

/**
 * Vector quantization of a rows×cols matrix: each row is cut into cols / dim sub-vectors of
 * {@code dim} consecutive columns, each replaced by an entry of one codebook shared by the
 * tensor: weight (r, j·dim + t) = codebook[index(r, j)·dim + t] · rowScale[r].
 *
 * @param indexBits width of an assignment index, 1 to {@link BitPacking#MAX_BITS}
 * @param dim columns per sub-vector; must divide cols
 * @param codebook entries × dim values as float16 bits, row-major
 * @param packedIndices the rows·(cols / dim) indices, row-major, packed by {@link BitPacking}
 * @param rowScales null (scale 1), or one scale per row
 */
public record VqPayload(int indexBits, int dim, short[] codebook, byte[] packedIndices,
    float[] rowScales) implements TensorPayload {

  public VqPayload {
    if (indexBits < 1 || indexBits > BitPacking.MAX_BITS) {
      throw new IllegalArgumentException("assignment indices must have 1 to " + BitPacking.MAX_BITS
          + " bits, got " + indexBits);
    }
    if (dim <= 0) {
      throw new IllegalArgumentException("sub-vector dimension must be positive, got " + dim);
    }
  }

  @Override
  public TensorKind kind() {
    return TensorKind.VQ;
  }

  public int entries() {
    return codebook.length / dim;
  }

  @Override
  public void checkShape(int rows, int cols) {
    if (cols % dim != 0) {
      throw new IllegalArgumentException("rows of " + cols + " cannot be cut into sub-vectors of "
          + dim);
    }
    if (codebook.length % dim != 0 || codebook.length == 0) {
      throw new IllegalArgumentException("codebook of " + codebook.length
          + " values is not a whole number of entries of " + dim);
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
