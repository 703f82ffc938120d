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
}
