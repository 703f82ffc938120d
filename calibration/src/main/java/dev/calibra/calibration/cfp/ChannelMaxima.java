package dev.calibra.calibration.cfp;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.LlamaConfig;
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
      List<Tensor> inputs, int seqLen, LlamaConfig config) {
    Backend backend = block.backend();
    Tensor attentionInput = backend.zeros(1, config.hiddenSize());
    Tensor outputProjectionInput = backend.zeros(1, config.queryWidth());
    Tensor mlpInput = backend.zeros(1, config.hiddenSize());
    Tensor downProjectionInput = backend.zeros(1, config.intermediateSize());
    for (Tensor x : inputs) {
      BlockActivations a = block.forward(weights, x, block.shape(x.rows() / seqLen, seqLen));
      backend.columnAbsMax(a.normedInput(), attentionInput);
      backend.columnAbsMax(a.attention(), outputProjectionInput);
      backend.columnAbsMax(a.normedResidual(), mlpInput);
      backend.columnAbsMax(a.hidden(), downProjectionInput);
      a.close();
    }
    ChannelMaxima maxima = new ChannelMaxima(backend.download(attentionInput),
        backend.download(outputProjectionInput), backend.download(mlpInput),
        backend.download(downProjectionInput));
    // Closed at once: GPU memory does not wait for the garbage collector.
    for (Tensor t : new Tensor[] {attentionInput, outputProjectionInput, mlpInput,
        downProjectionInput}) {
      t.close();
    }
    return maxima;
  }
}
