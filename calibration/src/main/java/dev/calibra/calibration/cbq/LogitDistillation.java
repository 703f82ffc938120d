package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;

/**
 * The model's own output head (final RMSNorm and output projection) as a loss for the window
 * that ends at the last block: KL(softmax(logits of the target) ‖ softmax(logits of the output)),
 * averaged over tokens. Hidden-state error weighs every direction alike; the logits weigh them as
 * the next-token distribution does, which is what perplexity measures.
 */
final class LogitDistillation implements AutoCloseable {

  private final Backend backend;
  private final Tensor finalNorm;
  private final Tensor lmHead;
  private final float eps;

  LogitDistillation(Backend backend, Tensor finalNorm, Tensor lmHead, float eps) {
    this.backend = backend;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.eps = eps;
  }

  /**
   * Adds {@code weight} times the mean KL's gradient with respect to {@code output} into
   * {@code dOutput} and returns the mean KL.
   */
  double addLoss(Tensor output, Tensor target, float weight, Tensor dOutput) {
    int tokens = output.rows();
    Tensor outputInvRms = backend.zeros(tokens, 1);
    Tensor outputLogits = logits(output, outputInvRms);
    Tensor targetInvRms = backend.zeros(tokens, 1);
    Tensor targetLogits = logits(target, targetInvRms);
    targetInvRms.close();
    Tensor dLogits = backend.zeros(tokens, lmHead.rows());
    double kl = backend.softmaxKlDivergence(targetLogits, outputLogits, 1f, weight / tokens, dLogits);
    outputLogits.close();
    targetLogits.close();
    Tensor dNormed = backend.zeros(tokens, output.cols());
    backend.matmul(dLogits, false, lmHead, false, dNormed, false);
    dLogits.close();
    Tensor dInput = backend.zeros(tokens, output.cols());
    backend.rmsNormBackward(dNormed, output, finalNorm, outputInvRms, dInput, null);
    backend.add(dOutput, dInput, dOutput);
    dNormed.close();
    dInput.close();
    outputInvRms.close();
    return kl / tokens;
  }

  /** The mean KL alone, without gradients: how a window's hard-quantized result is judged. */
  double loss(Tensor output, Tensor target) {
    int tokens = output.rows();
    Tensor invRms = backend.zeros(tokens, 1);
    Tensor outputLogits = logits(output, invRms);
    Tensor targetLogits = logits(target, invRms);
    Tensor unusedGradient = backend.zeros(tokens, lmHead.rows());
    double kl = backend.softmaxKlDivergence(targetLogits, outputLogits, 1f, 0f, unusedGradient);
    for (Tensor t : new Tensor[] {invRms, outputLogits, targetLogits, unusedGradient}) {
      t.close();
    }
    return kl / tokens;
  }

  /** Releases the head's weights, which were loaded for this window alone. */
  @Override
  public void close() {
    finalNorm.close();
    lmHead.close();
  }

  private Tensor logits(Tensor hidden, Tensor invRms) {
    Tensor normed = backend.zeros(hidden.rows(), hidden.cols());
    backend.rmsNorm(hidden, finalNorm, eps, normed, invRms);
    Tensor logits = backend.zeros(hidden.rows(), lmHead.rows());
    backend.matmul(normed, false, lmHead, true, logits, false);
    normed.close();
    return logits;
  }
}
