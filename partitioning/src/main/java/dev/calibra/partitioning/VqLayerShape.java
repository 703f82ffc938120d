package dev.calibra.partitioning;

import java.io.Serializable;

/**
 * The cost-relevant part of a vector-quantized layer (calibration/VQ.md): how many sub-vectors
 * and candidates it trains, and how large its codebooks are.
 *
 * @param dim columns per sub-vector
 * @param indexBits bits of an assignment index: 2^indexBits entries per codebook
 * @param codebookRows rows sharing a codebook, or 0 for one codebook per layer
 * @param candidates codewords each sub-vector chooses among while calibrating (learnable logits)
 * @param trainedCodebook whether the window trains the codebooks (then with gradient and Adam
 *     moments)
 */
public record VqLayerShape(int dim, int indexBits, int codebookRows, int candidates,
    boolean trainedCodebook) implements Serializable {

  private static final long serialVersionUID = 1L;

  public VqLayerShape {
    if (dim < 1 || indexBits < 1 || indexBits > 16 || codebookRows < 0 || candidates < 1) {
      throw new IllegalArgumentException("not a VQ layer shape: dim " + dim + ", " + indexBits
          + "-bit indices, " + codebookRows + " rows per codebook, " + candidates + " candidates");
    }
  }

  /** Sub-vectors of a layer of out × in weights. */
  public long subVectors(int out, int in) {
    return (long) out * (in / dim);
  }

  /** Codebook values (entries × dim, all codebooks) of a layer of {@code out} rows. */
  public long codebookValues(int out) {
    long codebooks = codebookRows == 0 ? 1 : (out + codebookRows - 1) / codebookRows;
    return codebooks * (1L << indexBits) * dim;
  }
}
