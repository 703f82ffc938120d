package dev.calibra.calibration.cbq;

import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * End-to-end tuning of a finished uniform layer in which codes may still move (quantization-aware
 * training on the windows' grid, EfficientQAT's Block-AP carried into the whole-model pass): the
 * layer keeps a latent float weight w′, rounded to nearest on the grid its windows chose, ŵ =
 * s·exp(θ)·(clamp(round(w′/s) + z, 0, 2^b − 1) − z), and learns w′ with a straight-through
 * gradient (dL/dw′ = dL/dŵ) and each group's step factor θ as {@link GroupScaleTuner} does.
 *
 * <p>w′ starts 45% of the way from the windows' weight to the float weight (0.45 of a step at
 * most), so that the start is exactly the windows' result and a code moves once its latent
 * weight has crossed the middle between two grid points.
 */
final class LatentWeightTuner implements LayerQuantizer {

  /**
   * Where a latent weight starts: this share of the way from the windows' weight to the float
   * weight, the distance between them capped at one step.
   */
  private static final float START_OFFSET = 0.45f;

  private final Backend backend;
  private final QuantizedMatrix start;
  private final Parameter latent;
  private final Parameter logScale;
  private final LearnedWeightQuantization grid;
  private final Tensor rounded;
  private final Tensor weight;

  /**
   * @param floatWeight the layer's float weight, rows × cols, row-major
   * @param stepLearningRate Adam learning rate of the step factors θ
   * @param weightLearningRate Adam learning rate of the latent weights, in steps: each layer
   *     takes it times its mean step
   */
  LatentWeightTuner(Backend backend, QuantizedMatrix start, float[] floatWeight,
      float stepLearningRate, float weightLearningRate) {
    this.backend = backend;
    this.start = start;
    int rows = start.rows();
    int cols = start.cols();
    int groups = start.scheme().groupsPerRow(cols);
    float[] windowed = start.dequantize();
    float[] latentStart = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int i = r * cols + c;
        float s = start.scales()[start.groupIndex(r, c)];
        float towardsFloat = Math.max(-1f, Math.min(1f, (floatWeight[i] - windowed[i]) / s));
        latentStart[i] = windowed[i] + START_OFFSET * towardsFloat * s;
      }
    }
    double stepSum = 0;
    for (float s : start.scales()) {
      stepSum += s;
    }
    float meanStep = (float) (stepSum / start.scales().length);
    this.latent = new Parameter(backend, backend.upload(latentStart, rows, cols),
        weightLearningRate * meanStep);
    this.logScale = new Parameter(backend, backend.zeros(rows, groups), stepLearningRate);
    GroupRanges windowsGrid = GroupRanges.ofGrid(start);
    this.grid = new LearnedWeightQuantization(latent.value(),
        backend.upload(windowsGrid.min(), rows, groups),
        backend.upload(windowsGrid.max(), rows, groups), null, null, null, 1f,
        start.scheme().bits(), groupWidth());
    this.rounded = backend.zeros(rows, cols);
    this.weight = backend.zeros(rows, cols);
  }

  private int groupWidth() {
    return start.scheme().groupWidth(start.cols());
  }

  @Override
  public Tensor fakeQuantize(float temperature) {
    backend.fakeQuantizeWeights(grid, false, rounded, null, null);
    backend.scaleGroups(rounded, logScale.value(), groupWidth(), weight);
    return weight;
  }

  @Override
  public double backward(Tensor weightGradient, float regularizerWeight, float beta) {
    backend.scaleGroupsBackward(weightGradient, weight, groupWidth(), logScale.gradient());
    backend.add(latent.gradient(), weightGradient, latent.gradient());
    return 0;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(latent, logScale);
  }

  /** The latent weights' codes on the windows' grid, with the tuned steps. */
  @Override
  public FinishedLayer finish() {
    int rows = start.rows();
    int cols = start.cols();
    Tensor scalesOut = backend.zeros(rows, start.scheme().groupsPerRow(cols));
    Tensor zerosOut = backend.zeros(rows, start.scheme().groupsPerRow(cols));
    backend.fakeQuantizeWeights(grid, true, rounded, scalesOut, zerosOut);
    float[] values = backend.download(rounded);
    float[] steps = backend.download(scalesOut);
    float[] zeroPoints = backend.download(zerosOut);
    scalesOut.close();
    zerosOut.close();
    byte[] codes = new byte[rows * cols];
    int[] zeros = new int[steps.length];
    for (int g = 0; g < steps.length; g++) {
      zeros[g] = Math.round(zeroPoints[g]);
    }
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = start.groupIndex(r, c);
        codes[r * cols + c] = (byte) (Math.rint(values[r * cols + c] / steps[g]) + zeros[g]);
      }
    }
    QuantizedMatrix tuned = new QuantizedMatrix(start.scheme(), rows, cols, codes,
        GroupScaleTuner.tunedSteps(steps, backend.download(logScale.value())), zeros);
    return new FinishedLayer(backend.upload(tuned.dequantize(), rows, cols), tuned, null);
  }

  @Override
  public QuantizerState learnedState() {
    return QuantizerState.latentWeights(latent.state(), logScale.state());
  }

  @Override
  public void restore(QuantizerState state) {
    if (state.latentWeight() == null || state.groupLogScale() == null) {
      throw new IllegalArgumentException("the saved state holds no latent weights to restore");
    }
    latent.restore(state.latentWeight());
    logScale.restore(state.groupLogScale());
  }

  @Override
  public void close() {
    grid.groupMin().close();
    grid.groupMax().close();
    rounded.close();
    weight.close();
    latent.close();
    logScale.close();
  }
}
