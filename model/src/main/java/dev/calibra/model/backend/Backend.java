package dev.calibra.model.backend;

/**
 * The operations the decoder and the calibration algorithms need, implemented once per kind of
 * hardware. The CPU backend is the reference that every other backend is tested against.
 *
 * <p>Conventions shared by all ops: tensors are row-major [rows, cols] matrices; activations hold
 * batch·seqLen token rows; weights keep the Hugging Face [out, in] layout. Backward ops
 * <em>overwrite</em> the gradients of their inputs and <em>add to</em> the gradients of
 * parameters, so that parameter gradients can be summed over several batches.
 */
public interface Backend {

  /** Short name for logs and reports, e.g. "cpu". */
  String name();

  Tensor zeros(int rows, int cols);

  /** Copies {@code values} (row-major, rows·cols long) into a new tensor. */
  Tensor upload(float[] values, int rows, int cols);

  /** Copies a tensor's contents out, row-major. */
  float[] download(Tensor tensor);

  void copy(Tensor source, Tensor destination);

  /** c = (accumulate ? c : 0) + op(a)·op(b), op being the transpose where asked. */
  void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c, boolean accumulate);

  /** out = a + b elementwise; out may be a or b. */
  void add(Tensor a, Tensor b, Tensor out);

  /** Adds the 1×cols {@code bias} to every row of x. */
  void addRowVector(Tensor x, Tensor bias);

  /** sum (1×cols) += the column sums of x: the gradient of a bias. */
  void accumulateColumnSums(Tensor x, Tensor sum);

  /** out = x / rms(x) ⊙ weight per row; invRms (rows×1) receives 1/sqrt(mean(x²) + eps). */
  void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor invRms);

  /** Gradients of {@link #rmsNorm}: dX is overwritten, dWeight (nullable) accumulated. */
  void rmsNormBackward(Tensor dOut, Tensor x, Tensor weight, Tensor invRms, Tensor dX, Tensor dWeight);

  /**
   * Rotates, in place, each head of width {@code headDim} of x by the rotary angles of its
   * position (row index modulo {@code seqLen}), in Hugging Face's half-split pairing (i, i+d/2).
   * {@code cos} and {@code sin} are [positions, headDim/2]. With {@code inverse} it rotates by the
   * opposite angle, which is exactly the backward pass of the forward rotation.
   */
  void rotary(Tensor x, int headDim, int seqLen, Tensor cos, Tensor sin, boolean inverse);

  /**
   * Causal grouped-query attention: out = softmax(q·kᵀ·scale, causal)·v per sequence and head.
   * logSumExp (tokens×numHeads) receives each softmax row's log-normaliser, which is all the
   * backward pass needs to rebuild the probabilities without storing them.
   */
  void causalAttention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp);

  /** Gradients of {@link #causalAttention}; dQ, dK and dV are overwritten. */
  void causalAttentionBackward(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor logSumExp,
      AttentionShape shape, Tensor dQ, Tensor dK, Tensor dV);

  /** out = silu(gate) ⊙ up. */
  void swiglu(Tensor gate, Tensor up, Tensor out);

  /** Gradients of {@link #swiglu}; dGate and dUp are overwritten. */
  void swigluBackward(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp);

  /** out[r] = table[ids[r]]. */
  void embed(Tensor table, int[] ids, Tensor out);

  /** Negative log-likelihood of targets[r] under softmax(logits[r]), for every row r. */
  double[] crossEntropy(Tensor logits, int[] targets);

  // ---- Calibration: learned quantization, losses and the optimizer ----

  /** Sets every entry of x to {@code value}. */
  void fill(Tensor x, float value);

  /** x = alpha · x. */
  void scale(Tensor x, float alpha);

  /**
   * Fake-quantizes a weight matrix as {@link LearnedWeightQuantization} defines, writing ŵ to
   * {@code out}. With {@code hardRounding} the learned rounding is decided (h ∈ {0, 1}), which is
   * what the finished model uses. {@code scales} and {@code zeros} (rows × groups, nullable)
   * receive each group's step s and zero point z.
   */
  void fakeQuantizeWeights(LearnedWeightQuantization q, boolean hardRounding, Tensor out,
      Tensor scales, Tensor zeros);

  /**
   * Straight-through gradients of the soft {@link #fakeQuantizeWeights} given dŵ: dRounding is
   * overwritten, dClipLower and dClipUpper are accumulated; each may be null when not wanted.
   */
  void fakeQuantizeWeightsBackward(LearnedWeightQuantization q, Tensor dOut, Tensor dRounding,
      Tensor dClipLower, Tensor dClipUpper);

  /**
   * AdaRound's rounding regulariser Σ (1 − |2·h − 1|^β) over the soft rounding offsets h of
   * {@code q} (see {@link LearnedWeightQuantization}), which is 0 only when every h is 0 or 1.
   * Adds {@code weight} times its gradient with respect to the rounding tensor into dRounding
   * and returns the unweighted sum.
   */
  double roundingRegularizer(LearnedWeightQuantization q, float beta, float weight,
      Tensor dRounding);

  /** Returns Σ (pred − target)² and overwrites dPred with gradScale · 2 · (pred − target). */
  double squaredError(Tensor pred, Tensor target, float gradScale, Tensor dPred);

  /**
   * Returns Σ over rows of KL(softmax(target/T) ‖ softmax(pred/T)), each row a distribution over
   * its columns, and adds gradScale times its gradient with respect to pred into dPred.
   */
  double softmaxKlDivergence(Tensor target, Tensor pred, float temperature, float gradScale,
      Tensor dPred);

  /** Applies one Adam update to {@code param} from its gradient and moment tensors m, v. */
  void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, AdamStep step);

  /**
   * Per-token dynamic fake quantization of activations: each row is quantized to {@code bits} on
   * the asymmetric grid spanning its own [min, max] (widened to hold 0). With QDrop, each entry
   * keeps its float value instead with probability {@code dropProbability}, decided by
   * {@link CounterRandom#uniform}(seed, row·cols + col). out may be x. Its gradient is the
   * identity (straight-through), so there is no backward op.
   */
  void fakeQuantizeActivations(Tensor x, int bits, float dropProbability, long seed, Tensor out);

  /** runningMax[c] = max(runningMax[c], max over rows |x[r, c]|): activation outlier statistics. */
  void columnAbsMax(Tensor x, Tensor runningMax);

  /**
   * Scales each group of a weight matrix by the exponential of its own factor: out[r, c] =
   * w[r, c] · (float) exp(logScale[r, c / groupSize]) (a last, shorter group when cols is not a
   * multiple of groupSize; logScale is rows × groups). End-to-end step-size tuning scales a
   * quantized layer's dequantized weight s·(code − zero) so: the group's step changes, its
   * integer codes do not. out may be w.
   */
  void scaleGroups(Tensor w, Tensor logScale, int groupSize, Tensor out);

  /**
   * The gradient of {@link #scaleGroups} with respect to logScale given dOut and the op's output:
   * adds Σ over each group of dOut · out into dLogScale.
   */
  void scaleGroupsBackward(Tensor dOut, Tensor out, int groupSize, Tensor dLogScale);

  // ---- Vector quantization: codebook fitting (weighted k-means) and assignment calibration ----

  /**
   * sum[c] += Σ over rows x[r, c]² (in double): per-channel second moments, the diagonal of XᵀX
   * that weights the k-means objective of the layer reading x.
   */
  void accumulateColumnSquares(Tensor x, Tensor sum);

  /**
   * The nearest codewords of every sub-vector of {@code v} (see {@link WeightedSubVectors} for
   * the distance and how it is computed): {@code indices}, an index tensor
   * ({@link IndexTensors}) of count × n, receives for each sub-vector the n = indices.cols()
   * codewords with the smallest distance, nearest first, the lower index first on ties. Returns
   * the objective Σ_i D(i, nearest) (each term clamped at 0, summed in fixed point at
   * {@code fixedPointExponent}).
   */
  double nearestCodewords(WeightedSubVectors v, Tensor codebook, Tensor indices,
      int fixedPointExponent);

  /**
   * Lloyd's update: every codeword becomes the weighted mean of the sub-vectors assigned to it,
   * dimension by dimension: c[e, t] = Σ f[r]·h[j·dim+t]·x / Σ f[r]·h[j·dim+t] over the
   * sub-vectors with assignment e (an index tensor of count × 1). Both sums are taken in fixed
   * point at {@code fixedPointExponent} (terms (f·h)·x and f·h in float), the quotient in double;
   * an entry whose denominator is 0 (no sub-vector, or only zero weights) keeps its value.
   */
  void updateCentroids(WeightedSubVectors v, Tensor assignment, Tensor codebook,
      int fixedPointExponent);

  /**
   * One step of k-means++ seeding. minDistance[i] (count × 1) becomes
   * min(minDistance[i], D(i, sub-vector {@code chosen})), with D computed directly as
   * f·Σ_t fma(h·(x − c), x − c, ·); then, with the distances in fixed point at
   * {@code fixedPointExponent} and T their total, returns the first sub-vector i whose running
   * sum exceeds floor(uniform · T): a draw proportional to the distance. Returns −1 when T = 0
   * (every sub-vector coincides with a chosen one).
   */
  int kMeansPlusPlusStep(WeightedSubVectors v, int chosen, Tensor minDistance,
      int fixedPointExponent, double uniform);

  /** Writes the soft weight of {@code a} (see {@link SoftVqAssignment}) to out (rows × cols). */
  void softVqWeights(SoftVqAssignment a, Tensor out);

  /**
   * Gradients of {@link #softVqWeights} given dŵ: dLogits (count × n) and dCodebook
   * (entries × dim, nullable; needs the assignment's codeword uses) are accumulated. Per
   * sub-vector, g_c = s·Σ_t C[cand_c, t]·dŵ_t (float, t ascending) and
   * dl_c += p_c·(g_c − Σ_c' p_c'·g_c')/T; per codeword, dC[e, t] += Σ over its uses, in their
   * order, of (s·p)·dŵ, summed in double.
   */
  void softVqWeightsBackward(SoftVqAssignment a, Tensor dOut, Tensor dLogits, Tensor dCodebook);
}
