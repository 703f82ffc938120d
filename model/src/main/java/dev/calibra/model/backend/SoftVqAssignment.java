package dev.calibra.model.backend;

/**
 * A vector-quantized weight whose sub-vectors each choose softly among a few candidate codewords
 * (VQ4DiT's assignment calibration): the tensors the soft-assignment ops read, all on one backend.
 *
 * <p>Sub-vector i = r·perRow + j (columns j·dim … j·dim + dim − 1 of row r) has {@code n}
 * candidates, codebook rows cand[i, 0 … n−1], with learnable logits l[i, ·]. With
 * p = softmax(l[i, ·] / T), computed as
 *
 * <pre>
 *   z_c = (l_c − max_c' l_c') / T          (float)
 *   p_c = (float) (exp(z_c) / Σ_c' exp(z_c'))    (exp and the sum in double, c' ascending)
 * </pre>
 *
 * the soft weight is ŵ[r, j·dim + t] = s[r] · Σ_c p_c · C[cand[i, c], t] (the sum in float,
 * c ascending, without fused multiply-adds; s the per-row scale, 1 when null). As T falls, p
 * sharpens into the one-hot choice of the largest logit, which is what finishing keeps.
 *
 * <p>The codebook's gradient gathers, for every codeword, the sub-vectors that have it as a
 * candidate. {@code useOffsets} and {@code uses} list them codeword by codeword (see
 * {@link #codewordUses}), so that the gradient is a segmented sum in a fixed order instead of a
 * scatter with atomic additions: the same on every backend.
 *
 * @param rows rows of the weight
 * @param cols columns of the weight
 * @param dim columns per sub-vector
 * @param candidates index tensor ({@link IndexTensors}), (rows·cols/dim) × n
 * @param logits the learnable logits, (rows·cols/dim) × n
 * @param temperature T
 * @param codebook entries × dim
 * @param rowScales rows × 1, or null for 1
 * @param useOffsets index tensor 1 × (entries + 1): codeword e's uses are
 *     uses[useOffsets[e] … useOffsets[e+1]); null when no codebook gradient is wanted
 * @param uses index tensor 1 × (rows·cols/dim·n) of candidate slots i·n + c, ascending within
 *     each codeword; null with useOffsets
 */
public record SoftVqAssignment(int rows, int cols, int dim, Tensor candidates, Tensor logits,
    float temperature, Tensor codebook, Tensor rowScales, Tensor useOffsets, Tensor uses) {

  /** The most candidates a sub-vector may have. */
  public static final int MAX_CANDIDATES = 8;

  public SoftVqAssignment {
    if (dim < 1 || dim > WeightedSubVectors.MAX_DIM || cols % dim != 0) {
      throw new IllegalArgumentException("sub-vectors of " + dim + " columns do not cut rows of "
          + cols);
    }
    long count = (long) rows * (cols / dim);
    int n = candidates.cols();
    if (candidates.rows() != count || n < 1 || n > MAX_CANDIDATES) {
      throw new IllegalArgumentException("candidates are " + candidates.shapeText() + ", expected "
          + count + " rows of 1 to " + MAX_CANDIDATES);
    }
    if (logits.rows() != candidates.rows() || logits.cols() != n) {
      throw new IllegalArgumentException("logits are " + logits.shapeText() + ", candidates "
          + candidates.shapeText());
    }
    if (codebook.cols() != dim || codebook.rows() < 1) {
      throw new IllegalArgumentException("codebook is " + codebook.shapeText()
          + ", expected entries × " + dim);
    }
    if (rowScales != null && (rowScales.rows() != rows || rowScales.cols() != 1)) {
      throw new IllegalArgumentException("row scales are " + rowScales.shapeText()
          + ", expected " + rows + "×1");
    }
    if ((useOffsets == null) != (uses == null)) {
      throw new IllegalArgumentException("codeword uses need both their offsets and their list");
    }
    if (useOffsets != null && (useOffsets.size() != codebook.rows() + 1
        || uses.size() != count * n)) {
      throw new IllegalArgumentException("codeword uses " + useOffsets.shapeText() + " and "
          + uses.shapeText() + " do not fit " + codebook.rows() + " entries and " + count * n
          + " candidate slots");
    }
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be positive, got " + temperature);
    }
  }

  /** Candidates per sub-vector. */
  public int candidateCount() {
    return candidates.cols();
  }

  public int perRow() {
    return cols / dim;
  }

  public int count() {
    return rows * perRow();
  }

  /** The shape of the soft weight it produces. */
  public void requireOutput(Tensor out) {
    ShapeChecks.requireShape("soft VQ weight", out, rows, cols);
  }

  /** The shapes of its backward pass's tensors; the codebook gradient may be null. */
  public void requireGradients(Tensor dOut, Tensor dLogits, Tensor dCodebook) {
    ShapeChecks.requireShape("soft VQ weight gradient", dOut, rows, cols);
    ShapeChecks.requireSameShape("logit gradient", logits, dLogits);
    if (dCodebook != null) {
      ShapeChecks.requireSameShape("codebook gradient", codebook, dCodebook);
      if (uses == null) {
        throw new IllegalArgumentException("a codebook gradient needs the codeword uses");
      }
    }
  }

  public SoftVqAssignment withTemperature(float value) {
    return new SoftVqAssignment(rows, cols, dim, candidates, logits, value, codebook, rowScales,
        useOffsets, uses);
  }

  /**
   * The uses of each codeword among the candidate slots (i·n + c, ascending), as CSR arrays:
   * element 0 holds the entries + 1 offsets, element 1 the slots.
   */
  public static int[][] codewordUses(int[] candidates, int entries) {
    int[] offsets = new int[entries + 1];
    for (int e : candidates) {
      if (e < 0 || e >= entries) {
        throw new IllegalArgumentException("candidate " + e + " is outside the codebook of "
            + entries + " entries");
      }
      offsets[e + 1]++;
    }
    for (int e = 0; e < entries; e++) {
      offsets[e + 1] += offsets[e];
    }
    int[] next = offsets.clone();
    int[] slots = new int[candidates.length];
    for (int slot = 0; slot < candidates.length; slot++) {
      slots[next[candidates[slot]]++] = slot;
    }
    return new int[][] {offsets, slots};
  }
}
