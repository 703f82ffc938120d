package dev.calibra.calibration.cbq;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The learnable quantization of one linear layer's weight, as CBQ trains it inside a window:
 *
 * <ul>
 *   <li><b>Learnable clipping</b> (OmniQuant's LWC): per group, the range [min, max] is shrunk
 *       to [σ(γl)·min, σ(γu)·max]; the step size s = (upper − lower)/(2^bits − 1) follows from
 *       it, so learning the two logits learns the clipping and the step size together.
 *   <li><b>LoRA-Rounding</b>: each weight is floor(w/s) plus a rounding offset h ∈ [0, 1]
 *       whose logit is the anchor a(w/s) (at which h = frac(w/s)) plus R = A·B, with A
 *       (out × r) and B (r × in) learned; B starts at 0. The anchor is recomputed from the
 *       current step at every use, so training starts from the float weights (soft) and from
 *       round-to-nearest (hard), and a learned step never leaves the rounding offsets behind.
 *       A rank-r product alone cannot express nearest rounding: it would start every weight at
 *       the middle of its interval.
 * </ul>
 *
 * Only A and B carry gradients and Adam moments: r·(out + in) values instead of out·in.
 */
final class LearnableLinearQuantizer {

  private final Backend backend;
  private final QuantizationScheme scheme;
  private final Tensor weight;
  private final Tensor groupMin;
  private final Tensor groupMax;
  private final Parameter clipLower;
  private final Parameter clipUpper;
  private final Parameter loraA;
  private final Parameter loraB;
  private final Tensor rounding;
  private final Tensor roundingGradient;
  private final Tensor quantized;
  private float temperature = 1f;

  private LearnableLinearQuantizer(Backend backend, QuantizationScheme scheme, Tensor weight,
      Tensor groupMin, Tensor groupMax, Parameter clipLower, Parameter clipUpper,
      Parameter loraA, Parameter loraB) {
    this.backend = backend;
    this.scheme = scheme;
    this.weight = weight;
    this.groupMin = groupMin;
    this.groupMax = groupMax;
    this.clipLower = clipLower;
    this.clipUpper = clipUpper;
    this.loraA = loraA;
    this.loraB = loraB;
    this.rounding = loraA == null ? null : backend.zeros(weight.rows(), weight.cols());
    this.roundingGradient = loraA == null ? null : backend.zeros(weight.rows(), weight.cols());
    this.quantized = backend.zeros(weight.rows(), weight.cols());
  }

  /**
   * Sets up the quantizer of {@code weight} (already pre-processed): group ranges, clip logits
   * starting at each group's best round-to-nearest factor no smaller than
   * {@code minInitialClip} (null: no learnable clipping; see {@link InitialClipSearch}) and,
   * when {@code loraRank} > 0, the LoRA-Rounding factors: A Gaussian with standard deviation
   * 1/√r, B zero, so that R starts at 0 (round to nearest).
   */
  static LearnableLinearQuantizer create(Backend backend, Tensor weight, QuantizationScheme scheme,
      Float minInitialClip, int loraRank, LearningRates rates, Random random) {
    int rows = weight.rows();
    int cols = weight.cols();
    int groupSize = scheme.groupWidth(cols);
    GroupRanges ranges = GroupRanges.of(backend.download(weight), rows, cols, groupSize);
    Tensor groupMin = backend.upload(ranges.min(), rows, ranges.groups());
    Tensor groupMax = backend.upload(ranges.max(), rows, ranges.groups());
    Parameter clipLower = null;
    Parameter clipUpper = null;
    if (minInitialClip != null) {
      float[] initialClip = InitialClipSearch.factors(backend, new LearnedWeightQuantization(
          weight, groupMin, groupMax, null, null, null, 1f, scheme.bits(), groupSize),
          minInitialClip);
      float[] logits = new float[initialClip.length];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = ClipFactors.logit(initialClip[i]);
      }
      clipLower = new Parameter(backend, backend.upload(logits, rows, ranges.groups()), rates.clip());
      clipUpper = new Parameter(backend, backend.upload(logits, rows, ranges.groups()), rates.clip());
    }
    Parameter loraA = null;
    Parameter loraB = null;
    if (loraRank > 0) {
      float[] a = new float[rows * loraRank];
      double std = 1.0 / Math.sqrt(loraRank);
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (random.nextGaussian() * std);
      }
      loraA = new Parameter(backend, backend.upload(a, rows, loraRank), rates.rounding());
      loraB = new Parameter(backend, backend.zeros(loraRank, cols), rates.rounding());
    }
    return new LearnableLinearQuantizer(backend, scheme, weight, groupMin, groupMax, clipLower,
        clipUpper, loraA, loraB);
  }

  private LearnedWeightQuantization quantization() {
    return new LearnedWeightQuantization(weight, groupMin, groupMax,
        clipLower == null ? null : clipLower.value(), clipUpper == null ? null : clipUpper.value(),
        rounding, temperature, scheme.bits(), scheme.groupWidth(weight.cols()));
  }

  /**
   * The soft fake-quantized weight for the next forward pass, valid until the next call. The
   * rounding logits are divided by {@code temperature}: as it falls from 1 towards 0 during a
   * window, h sharpens into a step and the soft weights into the hard ones, so that the loss
   * the window ends on is the loss of the weights it will keep. (The low-rank product cannot
   * push every h to 0 or 1 by itself: the regulariser and the temperature together close the
   * gap between soft and hard rounding.)
   */
  Tensor fakeQuantize(float roundingTemperature) {
    temperature = roundingTemperature;
    if (rounding != null) {
      backend.matmul(loraA.value(), false, loraB.value(), false, rounding, false);
    }
    backend.fakeQuantizeWeights(quantization(), false, quantized, null, null);
    return quantized;
  }

  /**
   * Accumulates the gradients of the loss into the parameters, given dŴ for the weight
   * {@link #fakeQuantize} last returned, plus {@code regularizerWeight} times the rounding
   * regulariser at exponent {@code beta}. Returns the regulariser's unweighted sum.
   */
  double backward(Tensor weightGradient, float regularizerWeight, float beta) {
    LearnedWeightQuantization state = quantization();
    backend.fakeQuantizeWeightsBackward(state, weightGradient, roundingGradient,
        clipLower == null ? null : clipLower.gradient(),
        clipUpper == null ? null : clipUpper.gradient());
    if (rounding == null) {
      return 0;
    }
    double regularizer = regularizerWeight == 0f ? 0
        : backend.roundingRegularizer(state, beta, regularizerWeight, roundingGradient);
    backend.matmul(roundingGradient, false, loraB.value(), true, loraA.gradient(), true);
    backend.matmul(loraA.value(), true, roundingGradient, false, loraB.gradient(), true);
    return regularizer;
  }

  /** Number of rounding decisions this layer learns (0 without LoRA-Rounding). */
  long roundingElements() {
    return rounding == null ? 0 : rounding.size();
  }

  /** The learned parameters, for handing the layer to another part of the calibration. */
  QuantizerState learnedState() {
    return new QuantizerState(stateOf(clipLower), stateOf(clipUpper), stateOf(loraA),
        stateOf(loraB));
  }

  /** Takes over the parameters of a quantizer made by the same recipe for the same weight. */
  void restore(QuantizerState state) {
    restore(clipLower, state.clipLower(), "lower clip");
    restore(clipUpper, state.clipUpper(), "upper clip");
    restore(loraA, state.loraA(), "LoRA A");
    restore(loraB, state.loraB(), "LoRA B");
  }

  private static ParameterState stateOf(Parameter p) {
    return p == null ? null : p.state();
  }

  private static void restore(Parameter p, ParameterState state, String what) {
    if ((p == null) != (state == null)) {
      throw new IllegalArgumentException("the carried " + what + " state does not fit this recipe");
    }
    if (p != null) {
      p.restore(state);
    }
  }

  List<Parameter> parameters() {
    List<Parameter> parameters = new ArrayList<>(4);
    for (Parameter p : new Parameter[] {clipLower, clipUpper, loraA, loraB}) {
      if (p != null) {
        parameters.add(p);
      }
    }
    return parameters;
  }

  /**
   * The finished layer: rounding decided (h ∈ {0, 1}), integer codes with each group's scale and
   * zero point, and the clip range each group ended with.
   */
  FinishedLinear finish() {
    if (rounding != null) {
      backend.matmul(loraA.value(), false, loraB.value(), false, rounding, false);
    }
    int rows = weight.rows();
    int groups = LearnedWeightQuantization.groups(weight.cols(), scheme.groupWidth(weight.cols()));
    Tensor scales = backend.zeros(rows, groups);
    Tensor zeros = backend.zeros(rows, groups);
    Tensor hard = backend.zeros(rows, weight.cols());
    backend.fakeQuantizeWeights(quantization(), true, hard, scales, zeros);
    float[] values = backend.download(hard);
    float[] step = backend.download(scales);
    float[] zero = backend.download(zeros);
    scales.close();
    zeros.close();
    int[] zeroPoints = new int[zero.length];
    for (int i = 0; i < zero.length; i++) {
      zeroPoints[i] = (int) zero[i];
    }
    byte[] codes = new byte[values.length];
    int cols = weight.cols();
    int groupSize = scheme.groupWidth(cols);
    for (int i = 0; i < values.length; i++) {
      int g = (i / cols) * groups + (i % cols) / groupSize;
      // ŵ = s·(c − z) exactly, so ŵ/s lands within an ulp of the integer c − z.
      codes[i] = (byte) (Math.rint(values[i] / step[g]) + zeroPoints[g]);
    }
    QuantizedMatrix matrix = new QuantizedMatrix(scheme, rows, cols, codes, step, zeroPoints);
    return new FinishedLinear(matrix, hard, clipFactors(clipLower), clipFactors(clipUpper));
  }

  /**
   * Releases every tensor of this quantizer, its weight included (a truncated copy, or the float
   * weight the finished block no longer needs); the weights {@link #finish} handed out stay.
   */
  void close() {
    for (Tensor t : new Tensor[] {weight, groupMin, groupMax, rounding, roundingGradient,
        quantized}) {
      if (t != null) {
        t.close();
      }
    }
    parameters().forEach(Parameter::close);
  }

  private float[] clipFactors(Parameter logits) {
    if (logits == null) {
      return null;
    }
    float[] values = backend.download(logits.value());
    for (int i = 0; i < values.length; i++) {
      values[i] = ClipFactors.sigmoid(values[i]);
    }
    return values;
  }

  /**
   * A layer after calibration.
   *
   * @param dequantized the hard-quantized weight on the backend, equal to matrix.dequantize()
   * @param lowerClip σ(γl) per group, or null without learnable clipping
   * @param upperClip σ(γu) per group, or null without learnable clipping
   */
  record FinishedLinear(QuantizedMatrix matrix, Tensor dequantized, float[] lowerClip,
      float[] upperClip) {}

  /** Adam learning rates of the two kinds of parameter. */
  record LearningRates(float clip, float rounding) {}
}
