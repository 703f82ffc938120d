package dev.calibra.calibration.cbq;

import dev.calibra.calibration.vq.Float16;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.IndexTensors;
import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * End-to-end tuning of a finished vector-quantized layer, the counterpart of
 * {@link GroupScaleTuner}: every sub-vector keeps the codeword its windows chose, and the
 * codebook values are learned. The layer runs as a soft assignment with a single candidate per
 * sub-vector, so its weight is exactly codeword × row scale and the codebook's gradient is the
 * soft assignment's (a segmented sum over each codeword's uses).
 */
final class CodebookTuner implements LayerQuantizer {

  private final Backend backend;
  private final VqMatrix start;
  private final Tensor candidates;
  private final Tensor logits;
  private final Tensor logitGradient;
  private final Tensor rowScales;
  private final Tensor useOffsets;
  private final Tensor uses;
  private final Parameter codebook;
  private final Tensor weight;

  /**
   * @param learningRate Adam's rate relative to the codebook's root mean square, so that it
   *     means the same for codebooks of row-scaled and of raw weights
   */
  CodebookTuner(Backend backend, VqMatrix start, float learningRate) {
    this.backend = backend;
    this.start = start;
    int perRow = start.cols() / start.dim();
    int[] entries = new int[start.indices().length];
    for (int i = 0; i < entries.length; i++) {
      entries[i] = i / perRow / start.codebookRows() * start.entries() + start.indices()[i];
    }
    int codewords = start.codebooks() * start.entries();
    int[][] csr = SoftVqAssignment.codewordUses(entries, codewords);
    this.candidates = IndexTensors.upload(backend, entries, entries.length, 1);
    this.logits = backend.zeros(entries.length, 1);
    this.logitGradient = backend.zeros(entries.length, 1);
    this.rowScales = start.rowScales() == null ? null
        : backend.upload(start.rowScales(), start.rows(), 1);
    this.useOffsets = IndexTensors.upload(backend, csr[0], 1, codewords + 1);
    this.uses = IndexTensors.upload(backend, csr[1], 1, csr[1].length);
    float[] values = new float[start.codebook().length];
    double squares = 0;
    for (int i = 0; i < values.length; i++) {
      values[i] = Float16.toFloat(start.codebook()[i]);
      squares += (double) values[i] * values[i];
    }
    float rms = (float) Math.sqrt(squares / values.length);
    this.codebook = new Parameter(backend, backend.upload(values, codewords, start.dim()),
        learningRate * (rms > 0 ? rms : 1f));
    this.weight = backend.zeros(start.rows(), start.cols());
  }

  private SoftVqAssignment assignment() {
    return new SoftVqAssignment(start.rows(), start.cols(), start.dim(), candidates, logits, 1f,
        codebook.value(), rowScales, useOffsets, uses);
  }

  @Override
  public Tensor fakeQuantize(float temperature) {
    backend.softVqWeights(assignment(), weight);
    return weight;
  }

  @Override
  public double backward(Tensor weightGradient, float regularizerWeight, float beta) {
    // A single candidate has a constant softmax: its logit gradient is 0 and goes unused.
    backend.softVqWeightsBackward(assignment(), weightGradient, logitGradient,
        codebook.gradient());
    return 0;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(codebook);
  }

  /** The same indices and row scales with the tuned codebook, rounded to float16 as stored. */
  @Override
  public FinishedLayer finish() {
    float[] values = backend.download(codebook.value());
    short[] halves = new short[values.length];
    for (int i = 0; i < values.length; i++) {
      halves[i] = Float16.fromFloat(values[i]);
    }
    VqMatrix tuned = new VqMatrix(start.rows(), start.cols(), start.dim(), start.indexBits(),
        start.codebookRows(), halves, start.indices(), start.rowScales());
    return new FinishedLayer(backend.upload(tuned.dequantize(), tuned.rows(), tuned.cols()), null,
        tuned);
  }

  @Override
  public QuantizerState learnedState() {
    return QuantizerState.vectorQuantized(null, codebook.state());
  }

  @Override
  public void restore(QuantizerState state) {
    if (state.codebook() == null) {
      throw new IllegalArgumentException("the saved state holds no codebook to restore");
    }
    codebook.restore(state.codebook());
  }

  @Override
  public void close() {
    for (Tensor t : new Tensor[] {candidates, logits, logitGradient, rowScales, useOffsets, uses,
        weight}) {
      if (t != null) {
        t.close();
      }
    }
    codebook.close();
  }
}
