package dev.calibra.partitioning;

import dev.calibra.model.llama.Linear;

/**
 * Estimates the memory CBQ calibration needs, in bytes. Everything is float32 (4 bytes) except
 * the packed result. With h = hidden size, i = intermediate size, qw = heads·headDim, kvw = kv
 * heads·headDim, P = Σ out·in over the seven linear layers, G = Σ out·⌈in/group⌉ (quantization
 * groups), r = LoRA rank, T = tokens per batch = min(batch, samples)·seqLen:
 *
 * <pre>
 * per block
 *   float weights       4·(P + 2h + q/k/v biases)
 *   quantized weights   4·P
 *   weight gradients    4·P
 *   quantizer state     4·2G                          group min and max
 *   learnable           16·(r·Σ(out + in) + 2G)       value, gradient, Adam m and v
 *   activations         4·T·(4h + 2qw + 2kvw + 3i + heads + 2 [+ qw with activation quantization])
 *   packed result       ⌈P·bits/8⌉ + 8G               codes, float32 scale and zero per group
 * per vector-quantized layer (out × in, S = out·in/d sub-vectors, n candidates, V codebook
 * values, k index bits), instead of its uniform terms
 *   quantizer state     4·(2·S·n + out + V/d + 1)     candidates and their per-codeword lists,
 *                                                     row scales; a fixed codebook adds 4·V
 *   learnable           16·(S·n + V)                  logits, and codebooks when trained
 *   packed result       ⌈S·k/8⌉ + 2·(V + out)         indices, float16 codebooks and scales
 * per window
 *   calibration data    3·4·samples·seqLen·h
 *   batch tensors       3·4·T·h
 *   backward scratch    4·T·(5h + 2qw + 2kvw + 3i + heads + 2)
 *   rounding scratch    2·4·max(out·in)
 * end-to-end pass (the whole model, L blocks, as one window; V = vocabulary size)
 *   blocks              L·(float weights + 4·P + training + 20·P + packed result)
 *   calibration data    (L + 1)·4·samples·seqLen·h
 *   batch tensors, backward scratch    as a window's
 *   output head         4·V·h + 3·4·T·V               lm_head; both logits and their gradient
 * </pre>
 *
 * Activations are {@code BlockActivations}' tensors less its input, which is the previous block's
 * output (or, for the window's first block, the batch input counted with the window). Activation
 * quantization can rewrite in place the linear inputs that are kept anyway, except the attention
 * output, which the attention backward also reads: that one needs a quantized copy.
 *
 * <p>Fitting a VQ layer's codebooks, when its block enters its first window, takes a float copy
 * of its weights, an assignment and a distance per sub-vector (4·out·in + 8·S bytes, at most
 * 8·out·in for d ≥ 2): within the rounding scratch, which it runs before.
 *
 * <p>Three sets of the calibration data are enough: before training, one float forward from the
 * window's float inputs yields both its float targets (at its last block) and the next window's
 * float inputs (after w − o blocks), so the float inputs can be dropped; after training, the next
 * window's quantized inputs overwrite this one's batch by batch.
 *
 * <p>The end-to-end pass (calibration/CBQ.md) trains every block at once: each layer's weight is
 * there three times (float, the windows' result it starts from, the tuned copy in training),
 * the float input of every block for all samples stays for the whole window (the first is also
 * the quantized stream), and the logit loss holds the output projection and a batch's logits.
 * Each uniform layer also learns a latent weight (value, gradient, Adam m and v) and keeps its
 * rounded copy: the 20·P. Its learnable steps (or codebooks) and their state are far fewer than a
 * window's clip factors and LoRA-Rounding factors, which the estimate counts instead; and a recipe
 * that keeps the windows' codes, or vector-quantizes layers, has no latent weights: an upper
 * bound.
 */
public final class MemoryModel {

  private static final long FLOAT = Float.BYTES;

  private final ModelShape model;
  private final RecipeShape recipe;
  private final BlockMemory block;
  private final WindowMemory window;

  public MemoryModel(ModelShape model, RecipeShape recipe) {
    this.model = model;
    this.recipe = recipe;
    this.block = blockOf(model, recipe);
    this.window = windowOf(model, recipe);
  }

  public BlockMemory block() {
    return block;
  }

  public WindowMemory window() {
    return window;
  }

  /** Peak of training a window of {@code blocks} blocks, float weights aside. */
  public long windowTrainingBytes(int blocks) {
    return blocks * block.training() + window.total();
  }

  /** Peak of the end-to-end pass: the whole model as one window, with its output head. */
  public long endToEndBytes() {
    long blocks = model.blocks();
    long latentWeights = 5 * FLOAT * model.linearWeights();
    long perBlock = block.floatWeights() + block.quantizedWeights() + block.training()
        + latentWeights + block.packedResult();
    long calibrationData = (blocks + 1) * FLOAT * recipe.calibrationTokens() * model.hiddenSize();
    long head = FLOAT * model.vocabSize() * model.hiddenSize()
        + 3 * FLOAT * recipe.tokensPerBatch() * model.vocabSize();
    return blocks * perBlock + calibrationData + window.batchTensors() + window.backwardScratch()
        + head;
  }

  private static BlockMemory blockOf(ModelShape model, RecipeShape recipe) {
    long linearWeights = model.linearWeights();
    long state = 0;
    long learnable = 0;
    long packed = 0;
    for (Linear linear : Linear.values()) {
      int out = model.rows(linear);
      int in = model.cols(linear);
      VqLayerShape vq = recipe.vectorQuantized().get(linear);
      if (vq == null) {
        long groups = out * recipe.groupsPerRow(in);
        state += FLOAT * 2 * groups;
        learnable += 4 * FLOAT * ((long) recipe.loraRank() * (out + in) + 2 * groups);
        packed += ceilDiv((long) out * in * recipe.bits(), 8) + 2 * FLOAT * groups;
      } else {
        long logits = vq.subVectors(out, in) * vq.candidates();
        long codebook = vq.codebookValues(out);
        state += FLOAT * (2 * logits + out + codebook / vq.dim() + 1)
            + (vq.trainedCodebook() ? 0 : FLOAT * codebook);
        learnable += 4 * FLOAT * (logits + (vq.trainedCodebook() ? codebook : 0));
        packed += ceilDiv(vq.subVectors(out, in) * vq.indexBits(), 8) + 2 * (codebook + out);
      }
    }
    // The block's input is the previous block's output, already counted there.
    long keptPerToken = KeptActivation.perToken(model) - KeptActivation.INPUT.width(model)
        + (recipe.activationQuantization() ? model.queryWidth() : 0);
    return new BlockMemory(
        FLOAT * model.blockParameters(),
        FLOAT * linearWeights,
        FLOAT * linearWeights,
        state,
        learnable,
        FLOAT * recipe.tokensPerBatch() * keptPerToken,
        packed);
  }

  private static WindowMemory windowOf(ModelShape model, RecipeShape recipe) {
    long hidden = model.hiddenSize();
    long largestLinear = 0;
    for (Linear linear : Linear.values()) {
      largestLinear = Math.max(largestLinear, (long) model.rows(linear) * model.cols(linear));
    }
    return new WindowMemory(
        3 * FLOAT * recipe.calibrationTokens() * hidden,
        3 * FLOAT * recipe.tokensPerBatch() * hidden,
        FLOAT * recipe.tokensPerBatch() * KeptActivation.perToken(model),
        2 * FLOAT * largestLinear);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
