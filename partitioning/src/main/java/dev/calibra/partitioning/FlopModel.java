package dev.calibra.partitioning;

/**
 * Estimates the floating-point operations of CBQ calibration. With P = Σ out·in over the seven
 * linear layers, S = seqLen, N = samples·S calibration tokens, r = LoRA rank:
 *
 * <pre>
 *   forward per token   F = 2·P + 4·S·headDim·heads
 *   one block, trained in one window
 *                       (3·epochs + 2)·N·F + steps·6·r·P,   steps = epochs·⌈samples/batch⌉
 * </pre>
 *
 * 2·P is a multiply-add per weight; 4·S·headDim·heads is the scores q·kᵀ and the weighted sum
 * of v over the full S×S matrix, as PaLM's utilisation accounting counts it (a causal kernel
 * skips about half, so attention is slightly overestimated). Backward costs twice the forward
 * (gradients of inputs and of weights), hence 3 per training pass. The + 2 passes are the float
 * forward that makes the window's targets and the quantized forward that makes the next window's
 * inputs. Each optimizer step also forms every layer's rounding offsets A·B (2·r·P) and their two
 * gradient products (4·r·P). Element-wise work (norms, rotary, SwiGLU, softmax, quantizers) is
 * O(h) per token against O(h²) and left out.
 */
public final class FlopModel {

  private final ModelShape model;
  private final RecipeShape recipe;

  public FlopModel(ModelShape model, RecipeShape recipe) {
    this.model = model;
    this.recipe = recipe;
  }

  /** F: one block's forward FLOPs per token. */
  public double forwardPerToken() {
    return 2.0 * model.linearWeights()
        + 4.0 * recipe.seqLen() * model.headDim() * model.numHeads();
  }

  /** FLOPs of calibrating one block as part of one window. */
  public double blockInWindow() {
    double passes = 3.0 * recipe.epochs() + 2;
    double rounding = 6.0 * recipe.loraRank() * model.linearWeights() * recipe.optimizerSteps();
    return passes * recipe.calibrationTokens() * forwardPerToken() + rounding;
  }
}
