package dev.calibra.calibration.cbq;

import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * End-to-end step-size tuning of a finished uniform layer (EfficientQAT's E2E-QP): the integer
 * codes and zero points the windows decided stay, and each group's step s learns a factor,
 * s·exp(θ) with θ starting at 0. The weight is then ŵ = s·(code − zero)·exp(θ), so the gradient
 * dL/dθ = Σ over the group of dL/dŵ · ŵ is exact: no straight-through estimate, and no rounding
 * decision moves while the step does (learning the clip range of {@link LearnableLinearQuantizer}
 * instead re-rounds every weight whose w/s crosses a boundary, which the straight-through
 * gradient cannot see: measured on stories260K, it made the whole-model loss worse at every
 * learning rate tried). The pass uses it when the recipe's end-to-end weight learning rate is 0;
 * otherwise {@link LatentWeightTuner} lets codes move on the same grid as well.
 */
final class GroupScaleTuner implements LayerQuantizer {

  private final Backend backend;
  private final QuantizedMatrix start;
  private final Tensor startWeight;
  private final Parameter logScale;
  private final Tensor weight;

  GroupScaleTuner(Backend backend, QuantizedMatrix start, float learningRate) {
    this.backend = backend;
    this.start = start;
    this.startWeight = backend.upload(start.dequantize(), start.rows(), start.cols());
    this.logScale = new Parameter(backend,
        backend.zeros(start.rows(), start.scheme().groupsPerRow(start.cols())), learningRate);
    this.weight = backend.zeros(start.rows(), start.cols());
  }

  private int groupWidth() {
    return start.scheme().groupWidth(start.cols());
  }

  @Override
  public Tensor fakeQuantize(float temperature) {
    backend.scaleGroups(startWeight, logScale.value(), groupWidth(), weight);
    return weight;
  }

  @Override
  public double backward(Tensor weightGradient, float regularizerWeight, float beta) {
    backend.scaleGroupsBackward(weightGradient, weight, groupWidth(), logScale.gradient());
    return 0;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(logScale);
  }

  /** The same codes and zero points with the tuned steps; dequantized as the artifact will be. */
  @Override
  public FinishedLayer finish() {
    QuantizedMatrix tuned = new QuantizedMatrix(start.scheme(), start.rows(), start.cols(),
        start.codes(), tunedSteps(start.scales(), backend.download(logScale.value())),
        start.zeros());
    return new FinishedLayer(backend.upload(tuned.dequantize(), tuned.rows(), tuned.cols()),
        tuned, null);
  }

  /** Each group's step times the exponential of its learned factor. */
  static float[] tunedSteps(float[] steps, float[] logFactors) {
    float[] tuned = new float[steps.length];
    for (int g = 0; g < steps.length; g++) {
      tuned[g] = steps[g] * (float) Math.exp(logFactors[g]);
    }
    return tuned;
  }

  @Override
  public QuantizerState learnedState() {
    return QuantizerState.groupScales(logScale.state());
  }

  @Override
  public void restore(QuantizerState state) {
    if (state.groupLogScale() == null) {
      throw new IllegalArgumentException("the saved state holds no group steps to restore");
    }
    logScale.restore(state.groupLogScale());
  }

  @Override
  public void close() {
    startWeight.close();
    weight.close();
    logScale.close();
  }
}
