package dev.calibra.calibration.cfp;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;

/**
 * Per-channel scales at the four places a block's linear layers read from, and how to fold them
 * into the block so that its float function stays the same: channel c of an input is divided by
 * s[c] where it is produced and the weight columns that read it are multiplied by s[c].
 *
 * <ul>
 *   <li>q/k/v input and gate/up input: the RMSNorm weight before them (a per-channel factor);
 *   <li>o_proj input: the rows of v_proj (and its bias), since attention output is linear in v.
 *       Under grouped-query attention a value channel feeds one o_proj column per query head of
 *       its group, so the scale is per value channel ({@code value}, kv width wide);
 *   <li>down_proj input: the rows of up_proj, since SwiGLU output is linear in it.
 * </ul>
 *
 * Dividing an input channel down makes it cheaper to quantize as an activation; multiplying the
 * weight columns up gives that channel a larger share of each weight group's grid.
 */
public record ChannelScales(float[] attention, float[] value, float[] mlp, float[] down) {

  /** Scales of 1 everywhere: the block unchanged. */
  public static ChannelScales identity(LlamaConfig config) {
    return new ChannelScales(ones(config.hiddenSize()), ones(config.keyValueWidth()),
        ones(config.hiddenSize()), ones(config.intermediateSize()));
  }

  /** The block with these scales folded in. */
  public BlockWeights fold(BlockWeights w, LlamaConfig config, Backend backend) {
    BlockWeights out = w.withNorms(divideColumns(w.inputNorm(), attention, backend),
        divideColumns(w.postAttentionNorm(), mlp, backend));
    for (Linear linear : new Linear[] {Linear.Q, Linear.K, Linear.V}) {
      out = out.withLinear(linear, multiplyColumns(out.weight(linear), attention, backend));
    }
    for (Linear linear : new Linear[] {Linear.GATE, Linear.UP}) {
      out = out.withLinear(linear, multiplyColumns(out.weight(linear), mlp, backend));
    }
    // v_proj and up_proj are rescaled twice: their intermediate copies are closed at once.
    Tensor scaledValue = out.weight(Linear.V);
    out = out.withLinear(Linear.V, divideRows(scaledValue, value, backend));
    scaledValue.close();
    if (out.bias(Linear.V) != null) {
      out = out.withBias(Linear.V, divideColumns(out.bias(Linear.V), value, backend));
    }
    out = out.withLinear(Linear.O, multiplyColumns(out.weight(Linear.O),
        perQueryColumn(value, config), backend));
    Tensor scaledUp = out.weight(Linear.UP);
    out = out.withLinear(Linear.UP, divideRows(scaledUp, down, backend));
    scaledUp.close();
    return out.withLinear(Linear.DOWN, multiplyColumns(out.weight(Linear.DOWN), down, backend));
  }

  /** How many channels at each site are scaled (factor other than 1). */
  public int[] scaledChannels() {
    return new int[] {count(attention), count(value), count(mlp), count(down)};
  }

  /** Per value channel, the largest of the o_proj input columns (query heads) that read it. */
  static float[] valueChannelMaxima(float[] queryColumns, LlamaConfig config) {
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

  private static float[] ones(int n) {
    float[] values = new float[n];
    java.util.Arrays.fill(values, 1f);
    return values;
  }

  private static int count(float[] scales) {
    int n = 0;
    for (float s : scales) {
      n += s != 1f ? 1 : 0;
    }
    return n;
  }
}
