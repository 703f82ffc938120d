package dev.calibra.calibration.cbq;

import dev.calibra.calibration.uniform.QuantizationScheme;

/**
 * Everything that shapes a CBQ calibration run. {@link #defaults(QuantizationScheme)} gives the
 * documented defaults (calibration/CBQ.md explains each choice); {@link Builder} changes them.
 *
 * @param scheme weight bits and group size
 * @param windowSize blocks reconstructed together (w)
 * @param overlap blocks shared by consecutive windows (o, 0 ≤ o < w)
 * @param loraRank rank r of the LoRA-Rounding factors; 0 rounds to nearest (no learned rounding)
 * @param learnClipping whether the per-group clip factors (and so the step sizes) are learned
 * @param minInitialClip smallest clip factor a group may start from: each group starts at its
 *     best round-to-nearest factor between this and 1 (see {@code InitialClipSearch})
 * @param epochs passes over the calibration samples per window
 * @param batchSize calibration samples per optimisation step
 * @param clipLearningRate Adam learning rate of the clip logits
 * @param roundingLearningRate Adam learning rate of the LoRA-Rounding factors
 * @param klWeight weight of the KL-divergence term of the loss; 0 disables it
 * @param klTemperature temperature of the softmax the KL term compares outputs through
 * @param logitLossWeight weight of a KL loss on the model's logits (final norm and output
 *     projection applied to output and target) in the window that ends at the last block; 0
 *     disables it
 * @param endToEndEpochs passes of end-to-end tuning after the windows (the whole model one
 *     window: every finished uniform layer learns its group steps and, on its windows' grid, its
 *     codes, see {@code LatentWeightTuner}, every VQ layer its codebook with its indices fixed,
 *     see {@code CodebookTuner}); 0 skips it
 * @param endToEndLearningRate Adam learning rate of that tuning for 4-bit layers; a layer of b
 *     bits per weight takes it times 2^(4 − b) (a codebook, relative to its root mean square)
 * @param endToEndWeightLearningRate Adam learning rate of the latent weights that let the
 *     end-to-end pass move codes, in grid steps (each layer takes it times its mean step); 0
 *     keeps the windows' codes and tunes the steps alone ({@code GroupScaleTuner})
 * @param regularizerWeight weight of the rounding regulariser (per rounding decision, relative
 *     to the normalised reconstruction loss)
 * @param betaStart regulariser exponent once the warm-up is over (soft: hardly any pressure)
 * @param betaEnd regulariser exponent at the end of a window (strong pressure towards 0 or 1)
 * @param warmupFraction share of a window's steps before the regulariser starts
 * @param roundingTemperatureEnd temperature the rounding logits are divided by at the end of a
 *     window (it falls geometrically from 1), which sharpens soft rounding into hard rounding
 * @param truncateWeightOutliers coarse-to-fine weight outlier truncation before calibration
 * @param scaleActivationOutliers coarse-to-fine activation outlier scaling (only with
 *     activation quantization)
 * @param searchChannelScales per-site channel scales searched to minimise each block's
 *     round-to-nearest output error before calibration (weight-aware scaling)
 * @param rotate the residual stream and each value head rotated by random orthogonal matrices
 *     before calibration (QuaRot/SpinQuant without online rotations; the float model's output is
 *     unchanged, its embedding and output projection become two tables, see
 *     {@code rotation.RotatedWeightSource})
 * @param activationBits bits of per-token activation quantization; 0 keeps activations float
 * @param dropProbability QDrop: chance that an activation keeps its float value in training
 * @param seed seeds every random choice: sample order, initial factors, QDrop masks
 */
public record CbqRecipe(
    QuantizationScheme scheme,
    int windowSize,
    int overlap,
    int loraRank,
    boolean learnClipping,
    float minInitialClip,
    int epochs,
    int batchSize,
    float clipLearningRate,
    float roundingLearningRate,
    float klWeight,
    float klTemperature,
    float logitLossWeight,
    int endToEndEpochs,
    float endToEndLearningRate,
    float endToEndWeightLearningRate,
    float regularizerWeight,
    float betaStart,
    float betaEnd,
    float warmupFraction,
    float roundingTemperatureEnd,
    boolean truncateWeightOutliers,
    boolean scaleActivationOutliers,
    boolean searchChannelScales,
    boolean rotate,
    int activationBits,
    float dropProbability,
    long seed) {

  public CbqRecipe {
    require(windowSize >= 1, "window size must be at least 1, got " + windowSize);
    require(overlap >= 0 && overlap < windowSize,
        "overlap must be in [0, window size), got " + overlap + " for windows of " + windowSize);
    require(loraRank >= 0, "LoRA rank must be 0 or more, got " + loraRank);
    require(minInitialClip > 0f && minInitialClip <= 1f,
        "the smallest initial clip factor must be in (0, 1], got " + minInitialClip);
    require(epochs >= 0, "epochs must be 0 or more, got " + epochs);
    require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
    require(clipLearningRate >= 0 && roundingLearningRate >= 0, "learning rates must be ≥ 0");
    require(klWeight >= 0, "KL weight must be ≥ 0, got " + klWeight);
    require(klTemperature > 0, "KL temperature must be > 0, got " + klTemperature);
    require(logitLossWeight >= 0, "logit loss weight must be ≥ 0, got " + logitLossWeight);
    require(endToEndEpochs >= 0, "end-to-end epochs must be 0 or more, got " + endToEndEpochs);
    require(endToEndLearningRate >= 0, "end-to-end learning rate must be ≥ 0, got "
        + endToEndLearningRate);
    require(endToEndWeightLearningRate >= 0, "end-to-end weight learning rate must be ≥ 0, got "
        + endToEndWeightLearningRate);
    require(regularizerWeight >= 0, "regulariser weight must be ≥ 0, got " + regularizerWeight);
    require(betaStart >= betaEnd && betaEnd > 0, "need betaStart ≥ betaEnd > 0");
    require(warmupFraction >= 0 && warmupFraction < 1, "warm-up fraction must be in [0, 1)");
    require(roundingTemperatureEnd > 0 && roundingTemperatureEnd <= 1,
        "rounding temperature end must be in (0, 1], got " + roundingTemperatureEnd);
    require(activationBits == 0 || (activationBits >= 2 && activationBits <= 16),
        "activation bits must be 0 (float) or 2..16, got " + activationBits);
    require(dropProbability >= 0 && dropProbability <= 1, "drop probability must be in [0, 1]");
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /** The defaults for a weight scheme. */
  public static CbqRecipe defaults(QuantizationScheme scheme) {
    return new Builder(scheme).build();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * This recipe without the end-to-end pass: what a calibration that never holds the whole
   * model in one place (a shard of the Spark job) runs.
   */
  public CbqRecipe withoutEndToEnd() {
    return toBuilder().endToEnd(0, endToEndLearningRate).build();
  }

  /** Blocks between the starts of consecutive windows. */
  public int stride() {
    return windowSize - overlap;
  }

  /** "w4 g128 a8" and the like, for logs and reports. */
  public String label() {
    return scheme.label() + (activationBits > 0 ? " a" + activationBits : "");
  }

  /** Changes some fields of a recipe. */
  public static final class Builder {
    private QuantizationScheme scheme;
    private int windowSize = 2;
    private int overlap = 1;
    private int loraRank = 16;
    private boolean learnClipping = true;
    private float minInitialClip = 0.8f;
    private int epochs = 4;
    private int batchSize = 1;
    private float clipLearningRate = 2e-2f;
    private float roundingLearningRate = 5e-3f;
    private float klWeight = 0f;
    private float klTemperature = 1f;
    private float logitLossWeight = 1f;
    private int endToEndEpochs = 4;
    private float endToEndLearningRate = 3e-3f;
    private float endToEndWeightLearningRate = 0.01f;
    private float regularizerWeight = 0.01f;
    private float betaStart = 20f;
    private float betaEnd = 2f;
    private float warmupFraction = 0.2f;
    private float roundingTemperatureEnd = 0.002f;
    private boolean truncateWeightOutliers = true;
    private boolean scaleActivationOutliers = true;
    private boolean searchChannelScales = false;
    private boolean rotate = false;
    private int activationBits = 0;
    private float dropProbability = 0.5f;
    private long seed = 0;

    public Builder(QuantizationScheme scheme) {
      this.scheme = scheme;
    }

    private Builder(CbqRecipe r) {
      scheme = r.scheme;
      windowSize = r.windowSize;
      overlap = r.overlap;
      loraRank = r.loraRank;
      learnClipping = r.learnClipping;
      minInitialClip = r.minInitialClip;
      epochs = r.epochs;
      batchSize = r.batchSize;
      clipLearningRate = r.clipLearningRate;
      roundingLearningRate = r.roundingLearningRate;
      klWeight = r.klWeight;
      klTemperature = r.klTemperature;
      logitLossWeight = r.logitLossWeight;
      endToEndEpochs = r.endToEndEpochs;
      endToEndLearningRate = r.endToEndLearningRate;
      endToEndWeightLearningRate = r.endToEndWeightLearningRate;
      regularizerWeight = r.regularizerWeight;
      betaStart = r.betaStart;
      betaEnd = r.betaEnd;
      warmupFraction = r.warmupFraction;
      roundingTemperatureEnd = r.roundingTemperatureEnd;
      truncateWeightOutliers = r.truncateWeightOutliers;
      scaleActivationOutliers = r.scaleActivationOutliers;
      searchChannelScales = r.searchChannelScales;
      rotate = r.rotate;
      activationBits = r.activationBits;
      dropProbability = r.dropProbability;
      seed = r.seed;
    }

    public Builder scheme(QuantizationScheme value) {
      scheme = value;
      return this;
    }

    public Builder window(int size, int overlapBlocks) {
      windowSize = size;
      overlap = overlapBlocks;
      return this;
    }

    public Builder loraRank(int value) {
      loraRank = value;
      return this;
    }

    public Builder learnClipping(boolean value) {
      learnClipping = value;
      return this;
    }

    public Builder minInitialClip(float value) {
      minInitialClip = value;
      return this;
    }

    public Builder epochs(int value) {
      epochs = value;
      return this;
    }

    public Builder batchSize(int value) {
      batchSize = value;
      return this;
    }

    public Builder learningRates(float clip, float rounding) {
      clipLearningRate = clip;
      roundingLearningRate = rounding;
      return this;
    }

    public Builder kl(float weight, float temperature) {
      klWeight = weight;
      klTemperature = temperature;
      return this;
    }

    public Builder logitLoss(float weight) {
      logitLossWeight = weight;
      return this;
    }

    public Builder endToEnd(int passes, float learningRate) {
      endToEndEpochs = passes;
      endToEndLearningRate = learningRate;
      return this;
    }

    public Builder endToEndWeightLearningRate(float stepsPerUpdate) {
      endToEndWeightLearningRate = stepsPerUpdate;
      return this;
    }

    public Builder regularizer(float weight, float start, float end, float warmup) {
      regularizerWeight = weight;
      betaStart = start;
      betaEnd = end;
      warmupFraction = warmup;
      return this;
    }

    public Builder roundingTemperatureEnd(float value) {
      roundingTemperatureEnd = value;
      return this;
    }

    public Builder preprocessing(boolean weights, boolean activations) {
      truncateWeightOutliers = weights;
      scaleActivationOutliers = activations;
      return this;
    }

    public Builder searchChannelScales(boolean value) {
      searchChannelScales = value;
      return this;
    }

    public Builder rotate(boolean value) {
      rotate = value;
      return this;
    }

    public Builder activations(int bits, float drop) {
      activationBits = bits;
      dropProbability = drop;
      return this;
    }

    public Builder seed(long value) {
      seed = value;
      return this;
    }

    public CbqRecipe build() {
      return new CbqRecipe(scheme, windowSize, overlap, loraRank, learnClipping, minInitialClip,
          epochs, batchSize, clipLearningRate, roundingLearningRate, klWeight, klTemperature,
          logitLossWeight, endToEndEpochs, endToEndLearningRate, endToEndWeightLearningRate,
          regularizerWeight, betaStart, betaEnd, warmupFraction, roundingTemperatureEnd,
          truncateWeightOutliers, scaleActivationOutliers, searchChannelScales, rotate,
          activationBits, dropProbability, seed);
    }
  }
}
