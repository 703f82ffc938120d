package dev.calibra.calibration.cfp;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;

/**
 * Scales activation outlier channels down before activation quantization (CBQ's coarse-to-fine
 * pre-processing for activations), folding the inverse scale into the weights so that the float
 * block computes exactly the same function.
 *
 * <p>Outlier channels at each input site are those whose maximum lies above the
 * {@link OutlierThreshold} of all the site's channel maxima. A channel with maximum m over a
 * threshold t is divided by s = √(m/t): half of its excess (in log scale) moves into the weight
 * columns that read it, as SmoothQuant's α = 0.5 does, since moving all of it would only make the
 * weights the hard part to quantize. The divisions land where the channel is produced:
 *
 * <ul>
 *   <li>q/k/v input and gate/up input: the RMSNorm weight before them (a per-channel factor);
 *   <li>o_proj input: the rows of v_proj (and its bias), since attention output is linear in v.
 *       Under grouped-query attention a value channel feeds one column per query head of its
 *       group, so the scale is chosen per value channel from the largest of those columns;
 *   <li>down_proj input: the rows of up_proj, since SwiGLU output is linear in it.
 * </ul>
 */
public final class ActivationOutlierScaling {

  private ActivationOutlierScaling() {}

  /** The rescaled block and how many channels were scaled at each of the four sites. */
  public record Scaled(BlockWeights weights, int[] scaledChannels) {}

  public static Scaled apply(BlockWeights w, LlamaConfig config, ChannelMaxima maxima,
      Backend backend) {
    float[] attentionScale = scales(maxima.attentionInput());
    float[] valueScale = scales(valueChannelMaxima(maxima.outputProjectionInput(), config));
    float[] mlpScale = scales(maxima.mlpInput());
    float[] downScale = scales(maxima.downProjectionInput());

    BlockWeights out = w.withNorms(
        divideColumns(w.inputNorm(), attentionScale, backend),
        divideColumns(w.postAttentionNorm(), mlpScale, backend));
    for (Linear linear : new Linear[] {Linear.Q, Linear.K, Linear.V}) {
      out = out.withLinear(linear, multiplyColumns(out.weight(linear), attentionScale, backend));
    }
    for (Linear linear : new Linear[] {Linear.GATE, Linear.UP}) {
      out = out.withLinear(linear, multiplyColumns(out.weight(linear), mlpScale, backend));
    }
    out = out.withLinear(Linear.V, divideRows(out.weight(Linear.V), valueScale, backend));
    if (out.bias(Linear.V) != null) {
      out = out.withBias(Linear.V, divideColumns(out.bias(Linear.V), valueScale, backend));
    }
    out = out.withLinear(Linear.O, multiplyColumns(out.weight(Linear.O),
        perQueryColumn(valueScale, config), backend));
    out = out.withLinear(Linear.UP, divideRows(out.weight(Linear.UP), downScale, backend));
    out = out.withLinear(Linear.DOWN, multiplyColumns(out.weight(Linear.DOWN), downScale, backend));
    return new Scaled(out, new int[] {count(attentionScale), count(valueScale), count(mlpScale),
        count(downScale)});
  }

  /** s = √(m/t) above the outlier threshold t, 1 elsewhere. */
  static float[] scales(float[] channelMaxima) {
    float threshold = OutlierThreshold.of(channelMaxima);
    float[] scales = new float[channelMaxima.length];
    for (int c = 0; c < scales.length; c++) {
      scales[c] = channelMaxima[c] > threshold
          ? (float) Math.sqrt(channelMaxima[c] / threshold) : 1f;
    }
    return scales;
  }

  /** Per value channel, the largest maximum over the query heads that read it. */
  private static float[] valueChannelMaxima(float[] queryColumns, LlamaConfig config) {
    int headDim = config.headDim();
    int group = config.numHeads() / config.numKeyValueHeads();
    float[] maxima = new float[config.keyValueWidth()];
    for (int column = 0; column < queryColumns.length; column++) {
      int head = column / headDim;
      int channel = (head / group) * headDim + column % headDim;
      maxima[channel] = Math.max(maxima[channel], queryColumns[column]);
    }
    return maxima;
  }

  private static float[] perQueryColumn(float[] valueScale, LlamaConfig config) {
    int headDim = config.headDim();
    int group = config.numHeads() / config.numKeyValueHeads();
    float[] scales = new float[config.queryWidth()];
    for (int column = 0; column < scales.length; column++) {
      scales[column] = valueScale[(column / headDim / group) * headDim + column % headDim];
    }
    return scales;
  }

  private static Tensor multiplyColumns(Tensor t, float[] scale, Backend backend) {
    float[] values = backend.download(t);
    for (int i = 0; i < values.length; i++) {
      values[i] *= scale[i % t.cols()];
    }
    return backend.upload(values, t.rows(), t.cols());
  }

  private static Tensor divideColumns(Tensor t, float[] scale, Backend backend) {
    float[] values = backend.download(t);
    for (int i = 0; i < values.length; i++) {
      values[i] /= scale[i % t.cols()];
    }
    return backend.upload(values, t.rows(), t.cols());
  }

  private static Tensor divideRows(Tensor t, float[] scale, Backend backend) {
    float[] values = backend.download(t);
    for (int i = 0; i < values.length; i++) {
      values[i] /= scale[i / t.cols()];
    }
    return backend.upload(values, t.rows(), t.cols());
  }

  private static int count(float[] scales) {
    int n = 0;
    for (float s : scales) {
      n += s != 1f ? 1 : 0;
    }
    return n;
  }
}
