package dev.calibra.calibration.cfp;

import dev.calibra.calibration.LinearInputStatistics;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import java.util.List;

/**
 * The largest |activation| of every channel at the four places a block's linear layers read
 * from, over a set of calibration inputs: the normed input (q, k, v), the attention output
 * (o_proj), the normed residual (gate, up) and the SwiGLU output (down_proj).
 */
public record ChannelMaxima(float[] attentionInput, float[] outputProjectionInput,
    float[] mlpInput, float[] downProjectionInput) {

  /** Runs the float block over {@code inputs} (batches of whole samples) and keeps the maxima. */
  public static ChannelMaxima collect(DecoderBlock block, BlockWeights weights,
      List<Tensor> inputs, int seqLen) {
    float[][] maxima = LinearInputStatistics.collect(block, weights, inputs, seqLen,
        Backend::columnAbsMax);
    return new ChannelMaxima(maxima[0], maxima[1], maxima[2], maxima[3]);
  }
}
