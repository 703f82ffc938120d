package dev.calibra.calibration.cfp;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.UniformQuantizer;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Chooses per-channel scales for a block's four input sites so that the block loses the least
 * when quantized (the activation side of coarse-to-fine pre-processing, in the general form AWQ
 * and SmoothQuant share). At a site whose channels have maxima m, the scale of channel c is
 * s[c] = (m[c] / m̄)^α, m̄ the geometric mean: α = 0 leaves the block alone, α = 1 evens the
 * channels out completely. α is searched per site, coarse to fine (0, ¼, ½, ¾, 1, then ±⅛ and
 * ±1/16 around the best), minimising the squared error of the block's output with its weights
 * (and activations, when they are quantized) rounded to nearest, against the float block.
 *
 * <p>Raising the columns that read large activations gives the channels that matter most a larger
 * share of each weight group's grid; lowering those activations shrinks the range per-token
 * activation quantization must cover. Either way the float block computes the same function.
 */
public final class ChannelScaleSearch {

  private static final double[] COARSE = {0, 0.25, 0.5, 0.75, 1};
  private static final double[] FINE = {-0.125, 0.125, -0.0625, 0.0625};

  /** Calibration tokens the search scores with: enough for stable errors, cheap to run often. */
  private static final int SEARCH_TOKENS = 4096;

  private final DecoderBlock block;
  private final LlamaConfig config;
  private final Backend backend;
  private final UniformQuantizer quantizer;
  private final int activationBits;
  private final int seqLen;
  private final List<Tensor> inputs = new ArrayList<>();
  private final List<Tensor> targets = new ArrayList<>();

  private ChannelScaleSearch(DecoderBlock block, BlockWeights weights, List<Tensor> allInputs,
      int seqLen, LlamaConfig config, QuantizationScheme scheme, int activationBits) {
    this.block = block;
    this.config = config;
    this.backend = block.backend();
    this.quantizer = new UniformQuantizer(scheme);
    this.activationBits = activationBits;
    this.seqLen = seqLen;
    int tokens = 0;
    for (Tensor x : allInputs) {
      if (tokens >= SEARCH_TOKENS) {
        break;
      }
      inputs.add(x);
      BlockActivations a = block.forward(weights, x, block.shape(x.rows() / seqLen, seqLen));
      a.releaseIntermediates();
      targets.add(a.output());
      tokens += x.rows();
    }
  }

  /**
   * The scales for {@code weights}, searched on the first calibration batches of
   * {@code inputs} (the float model's inputs to this block).
   */
  public static ChannelScales search(DecoderBlock block, BlockWeights weights, List<Tensor> inputs,
      int seqLen, LlamaConfig config, ChannelMaxima maxima, QuantizationScheme scheme,
      int activationBits) {
    ChannelScaleSearch search = new ChannelScaleSearch(block, weights, inputs, seqLen, config,
        scheme, activationBits);
    float[] valueMaxima = ChannelScales.valueChannelMaxima(maxima.outputProjectionInput(), config);
    ChannelScales best = ChannelScales.identity(config);
    double bestError = search.error(weights, best);
    // Sites in the order the block reads them: q/k/v input, o_proj input, gate/up input, down_proj
    // input; each search starts from the scales already chosen for the sites before it.
    for (int site = 0; site < 4; site++) {
      ChannelScales base = best;
      int s = site;
      Function<Double, ChannelScales> at = alpha -> switch (s) {
        case 0 -> new ChannelScales(power(maxima.attentionInput(), alpha), base.value(),
            base.mlp(), base.down());
        case 1 -> new ChannelScales(base.attention(), power(valueMaxima, alpha), base.mlp(),
            base.down());
        case 2 -> new ChannelScales(base.attention(), base.value(),
            power(maxima.mlpInput(), alpha), base.down());
        default -> new ChannelScales(base.attention(), base.value(), base.mlp(),
            power(maxima.downProjectionInput(), alpha));
      };
      double bestAlpha = 0;
      for (double alpha : COARSE) {
        ChannelScales candidate = at.apply(alpha);
        double error = search.error(weights, candidate);
        if (error < bestError) {
          bestError = error;
          best = candidate;
          bestAlpha = alpha;
        }
      }
      double centre = bestAlpha;
      for (double step : FINE) {
        double alpha = centre + step;
        if (alpha <= 0 || alpha > 1) {
          continue;
        }
        ChannelScales candidate = at.apply(alpha);
        double error = search.error(weights, candidate);
        if (error < bestError) {
          bestError = error;
          best = candidate;
        }
      }
    }
    search.targets.forEach(Tensor::close);
    return best;
  }

  /** Squared output error of the block with scales folded in and rounded to nearest. */
  private double error(BlockWeights weights, ChannelScales scales) {
    BlockWeights folded = scales.fold(weights, config, backend);
    BlockWeights quantized = folded;
    for (Linear linear : Linear.values()) {
      Tensor w = quantized.weight(linear);
      float[] restored = quantizer.quantize(backend.download(w), w.rows(), w.cols()).dequantize();
      quantized = quantized.withLinear(linear, backend.upload(restored, w.rows(), w.cols()));
    }
    double squares = 0;
    for (int i = 0; i < inputs.size(); i++) {
      Tensor x = inputs.get(i);
      LinearInputQuantizer activations = activationBits == 0 ? LinearInputQuantizer.NONE
          : ActivationFakeQuantizer.forEvaluation(backend, activationBits);
      BlockActivations a = block.forward(quantized, x, block.shape(x.rows() / seqLen, seqLen),
          activations);
      Tensor out = a.output();
      Tensor unusedGradient = backend.zeros(out.rows(), out.cols());
      squares += backend.squaredError(out, targets.get(i), 0f, unusedGradient);
      unusedGradient.close();
      a.close();
    }
    // Every candidate makes a block's worth of tensors: closed at once, as GPU memory does not
    // wait for the garbage collector. Those the float block holds stay.
    quantized.closeAllBut(weights);
    folded.closeAllBut(weights);
    return squares;
  }

  /** (m / m̄)^α with m̄ the geometric mean of the positive maxima. */
  private static float[] power(float[] maxima, double alpha) {
    double logSum = 0;
    int positive = 0;
    for (float m : maxima) {
      if (m > 0) {
        logSum += Math.log(m);
        positive++;
      }
    }
    double mean = positive == 0 ? 1 : Math.exp(logSum / positive);
    float[] scales = new float[maxima.length];
    for (int c = 0; c < scales.length; c++) {
      scales[c] = maxima[c] > 0 ? (float) Math.pow(maxima[c] / mean, alpha) : 1f;
    }
    return scales;
  }
}
