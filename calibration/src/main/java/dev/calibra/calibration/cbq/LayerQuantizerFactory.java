package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import java.util.List;
import java.util.Map;

/**
 * Gives some layers another quantizer than the recipe's uniform one: how a mixed recipe gives
 * layers vector quantization (dev.calibra.calibration.vq.VqRecipe). The calibrator asks once per
 * block, when the block enters its first window, and makes the recipe's uniform quantizer for
 * every layer the answer leaves out.
 */
public interface LayerQuantizerFactory {

  /** Every layer uniform. */
  LayerQuantizerFactory NONE = new LayerQuantizerFactory() {
    @Override
    public Map<Linear, LayerQuantizer> create(DecoderBlock block, int blockIndex,
        BlockWeights weights, List<Tensor> floatInputs, int seqLen, long seed) {
      return Map.of();
    }
  };

  /**
   * The quantizers of the block's layers this factory covers.
   *
   * @param block runs the block (its backend is the calibration's)
   * @param weights the block's pre-processed float weights
   * @param floatInputs the float model's inputs to the block: what input statistics come from
   * @param seqLen tokens per calibration sample
   * @param seed the recipe's seed
   */
  Map<Linear, LayerQuantizer> create(DecoderBlock block, int blockIndex, BlockWeights weights,
      List<Tensor> floatInputs, int seqLen, long seed);
}
