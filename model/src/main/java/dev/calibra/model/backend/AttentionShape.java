package dev.calibra.model.backend;

/**
 * How the rows and columns of attention inputs are laid out: {@code batch} sequences of
 * {@code seqLen} tokens stacked into batch·seqLen rows; queries have {@code numHeads} heads and
 * keys/values {@code numKeyValueHeads} heads (grouped-query attention), each {@code headDim} wide.
 */
public record AttentionShape(int batch, int seqLen, int numHeads, int numKeyValueHeads, int headDim) {

  public AttentionShape {
    if (batch <= 0 || seqLen <= 0 || numHeads <= 0 || numKeyValueHeads <= 0 || headDim <= 0) {
      throw new IllegalArgumentException("attention dimensions must be positive: " + this);
    }
    if (numHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException("query heads " + numHeads
          + " are not a multiple of key/value heads " + numKeyValueHeads);
    }
  }

  public int tokens() {
    return batch * seqLen;
  }

  /** Query heads that share one key/value head. */
  public int groupSize() {
    return numHeads / numKeyValueHeads;
  }

  public float scale() {
    return (float) (1.0 / Math.sqrt(headDim));
  }
}
