package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;

/**
 * A learnable tensor with its gradient accumulator and Adam moments, all on one backend. It
 * counts its own Adam steps, so that a parameter carried from one calibration window into the
 * next keeps a correct bias correction.
 */
final class Parameter {

  private final Backend backend;
  private final Tensor value;
  private final Tensor gradient;
  private final Tensor firstMoment;
  private final Tensor secondMoment;
  private final float learningRate;
  private int steps;

  Parameter(Backend backend, Tensor value, float learningRate) {
    this.backend = backend;
    this.value = value;
    this.gradient = backend.zeros(value.rows(), value.cols());
    this.firstMoment = backend.zeros(value.rows(), value.cols());
    this.secondMoment = backend.zeros(value.rows(), value.cols());
    this.learningRate = learningRate;
  }

  Tensor value() {
    return value;
  }

  Tensor gradient() {
    return gradient;
  }

  long size() {
    return value.size();
  }

  void zeroGradient() {
    backend.fill(gradient, 0f);
  }

  /** Value, moments and step count, copied out. */
  ParameterState state() {
    return new ParameterState(value.rows(), value.cols(), backend.download(value),
        backend.download(firstMoment), backend.download(secondMoment), steps);
  }

  /** Takes over a state saved by {@link #state()} from a parameter of the same shape. */
  void restore(ParameterState state) {
    if (state.rows() != value.rows() || state.cols() != value.cols()) {
      throw new IllegalArgumentException("parameter is " + value.shapeText() + ", saved state is "
          + state.rows() + "×" + state.cols());
    }
    copyInto(state.value(), value);
    copyInto(state.firstMoment(), firstMoment);
    copyInto(state.secondMoment(), secondMoment);
    steps = state.steps();
  }

  private void copyInto(float[] values, Tensor destination) {
    Tensor uploaded = backend.upload(values, destination.rows(), destination.cols());
    backend.copy(uploaded, destination);
    uploaded.close();
  }

  /** Releases the value, gradient and moments. */
  void close() {
    value.close();
    gradient.close();
    firstMoment.close();
    secondMoment.close();
  }

  /** One Adam update from the accumulated gradient, with the recipe's moments and epsilon. */
  void update(float beta1, float beta2, float epsilon, float learningRateScale) {
    steps++;
    backend.adamUpdate(value, gradient, firstMoment, secondMoment,
        new AdamStep(learningRate * learningRateScale, beta1, beta2, epsilon, steps));
  }
}
