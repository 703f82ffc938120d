package dev.calibra.model.backend;

/**
 * A weight matrix cut into sub-vectors for vector quantization, with the weights of the k-means
 * objective: the tensors the codebook-fitting ops read, all on one backend.
 *
 * <p>Each row is cut into {@link #perRow()} sub-vectors of {@code dim} consecutive columns;
 * sub-vector (r, j) covers columns j·dim … j·dim + dim − 1 of row r and is numbered
 * i = r·perRow + j. Its weighted squared distance to a codeword c is
 *
 * <pre>
 *   D(i, c) = f[r] · Σ_t h[j·dim + t] · (x[r, j·dim + t] − c[t])²
 * </pre>
 *
 * with h the per-column weights (the diagonal of the layer input's second-moment matrix XᵀX,
 * which makes D the output error the sub-vector's rounding causes, channel by channel) and f the
 * per-row weights (null: 1; with per-row scales s, x = w/s and f = s², so that D is measured on
 * the unscaled weights).
 *
 * <p><b>How the ops compute D</b>, so that every backend gets the same bits: for the sub-vectors
 * of one column j, h is shared, and D(i, c) = f[r]·(‖x‖²_h + score(i, c)) with
 *
 * <pre>
 *   q(c)       = Σ_t fma(h[t]·c[t], c[t], ·)              (t ascending, from 0)
 *   m[t]       = (−2·h[t])·x[t]
 *   score(i,c) = Σ_t fma(m[t], c[t], ·)                    (t ascending, from q(c))
 *   ‖x‖²_h     = Σ_t fma(h[t]·x[t], x[t], ·)               (t ascending, from 0)
 * </pre>
 *
 * in float32 with fused multiply-adds: a product with the codebook whose inner dimension is dim,
 * which is what lets the GPU compute all distances as a matrix product with a fused arg-min.
 *
 * <p>Sums the ops return or accumulate across sub-vectors are taken in <b>fixed point</b>: each
 * term v becomes the 64-bit integer rint(v·2^e) for an exponent e the caller picks
 * ({@link #fixedPointExponent}), and integer sums do not depend on their order. So a centroid or
 * an objective is the same on every backend, however its threads are scheduled.
 *
 * @param weight the (scaled) weights x, rows × cols
 * @param dim columns per sub-vector; divides cols
 * @param channelWeights h, 1 × cols, each ≥ 0
 * @param rowWeights f, rows × 1, each ≥ 0, or null for 1
 */
public record WeightedSubVectors(Tensor weight, int dim, Tensor channelWeights,
    Tensor rowWeights) {

  /** The widest sub-vector the ops take. */
  public static final int MAX_DIM = 8;

  public WeightedSubVectors {
    if (dim < 1 || dim > MAX_DIM || weight.cols() % dim != 0) {
      throw new IllegalArgumentException("sub-vectors of " + dim + " columns do not cut rows of "
          + weight.cols() + " (dim must divide the row and be 1 to " + MAX_DIM + ")");
    }
    if (channelWeights.rows() != 1 || channelWeights.cols() != weight.cols()) {
      throw new IllegalArgumentException("channel weights are " + channelWeights.shapeText()
          + ", expected 1×" + weight.cols());
    }
    if (rowWeights != null && (rowWeights.rows() != weight.rows() || rowWeights.cols() != 1)) {
      throw new IllegalArgumentException("row weights are " + rowWeights.shapeText()
          + ", expected " + weight.rows() + "×1");
    }
  }

  public int rows() {
    return weight.rows();
  }

  public int cols() {
    return weight.cols();
  }

  /** Sub-vectors per row. */
  public int perRow() {
    return weight.cols() / dim;
  }

  /** Sub-vectors in the matrix. */
  public int count() {
    return weight.rows() * perRow();
  }

  /**
   * The largest fixed-point exponent e at which a sum of non-negative terms adding up to at most
   * {@code bound} cannot overflow a signed 64-bit integer, rounding of each term included (a
   * margin of 2^61 against 2^63 covers up to 2^62 terms rounded up by ½).
   */
  public static int fixedPointExponent(double bound) {
    if (!(bound > 0) || Double.isInfinite(bound)) {
      throw new IllegalArgumentException("a fixed-point sum needs a finite positive bound, got "
          + bound);
    }
    return Math.min(MAX_EXPONENT, 60 - Math.getExponent(bound));
  }

  /** Bounds e, so that 2^e stays a finite double for every exponent an op is given. */
  private static final int MAX_EXPONENT = 1000;
}
