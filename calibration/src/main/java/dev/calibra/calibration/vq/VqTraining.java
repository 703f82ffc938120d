package dev.calibra.calibration.vq;

import dev.calibra.model.backend.SoftVqAssignment;

/**
 * How vector-quantized layers are fitted and then calibrated inside CBQ's windows.
 *
 * @param kMeans iterations and tolerance of the codebook's k-means fit
 * @param candidates codewords each sub-vector may choose among during assignment calibration
 *     (its nearest ones); 1 calibrates the codebook alone
 * @param initialLogit the logit the nearest candidate starts with, the others starting at 0: the
 *     soft weight starts close to the nearest codeword, while the others still get gradient
 * @param logitLearningRate Adam learning rate of the candidates' logits
 * @param codebookLearningRate Adam learning rate of the codebook; 0 keeps the fitted codebook
 */
public record VqTraining(CodebookFitter.Limits kMeans, int candidates, float initialLogit,
    float logitLearningRate, float codebookLearningRate) {

  public VqTraining {
    if (candidates < 1 || candidates > SoftVqAssignment.MAX_CANDIDATES) {
      throw new IllegalArgumentException("candidates must be 1 to "
          + SoftVqAssignment.MAX_CANDIDATES + ", got " + candidates);
    }
    if (logitLearningRate < 0 || codebookLearningRate < 0) {
      throw new IllegalArgumentException("learning rates must be ≥ 0");
    }
  }

  public VqTraining withCandidates(int value) {
    return new VqTraining(kMeans, value, initialLogit, logitLearningRate, codebookLearningRate);
  }

  /** The documented defaults (calibration/VQ.md explains them). */
  public static VqTraining defaults() {
    return new VqTraining(new CodebookFitter.Limits(50, 1e-4), 4, 3f, 5e-2f, 1e-3f);
  }
}
