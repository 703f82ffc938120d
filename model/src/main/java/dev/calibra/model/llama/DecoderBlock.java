package dev.calibra.model.llama;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;

/**
 * One Llama decoder block, forward and backward, written once against {@link Backend}:
 *
 * <pre>
 *   h = x + o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),  n1 = rmsnorm(x)
 *   y = h + down_proj(silu(gate_proj(n2)) ⊙ up_proj(n2)),                       n2 = rmsnorm(h)
 * </pre>
 *
 * The block holds no weights: the same instance runs float and quantized weights alike.
 */
public final class DecoderBlock {

  private final LlamaConfig config;
  private final Backend backend;
  private final RotaryTables rotary;

  public DecoderBlock(LlamaConfig config, Backend backend, RotaryTables rotary) {
    this.config = config;
    this.backend = backend;
    this.rotary = rotary;
  }

  public Backend backend() {
    return backend;
  }

  /** The attention layout for {@code batch} sequences of {@code seqLen} tokens. */
  public AttentionShape shape(int batch, int seqLen) {
    if (seqLen > rotary.positions()) {
      throw new IllegalArgumentException("sequence length " + seqLen
          + " exceeds the rotary tables' " + rotary.positions() + " positions");
    }
    return new AttentionShape(batch, seqLen, config.numHeads(), config.numKeyValueHeads(),
        config.headDim());
  }

  /** Runs the block on x (batch·seqLen × hidden), keeping what {@link #backward} needs. */
  public BlockActivations forward(BlockWeights w, Tensor x, AttentionShape shape) {
    return forward(w, x, shape, LinearInputQuantizer.NONE);
  }

  /** As {@link #forward(BlockWeights, Tensor, AttentionShape)}, with quantized linear inputs. */
  public BlockActivations forward(BlockWeights w, Tensor x, AttentionShape shape,
      LinearInputQuantizer inputs) {
    int tokens = shape.tokens();
    if (x.rows() != tokens || x.cols() != config.hiddenSize()) {
      throw new IllegalArgumentException("block input is " + x.shapeText() + ", expected "
          + tokens + "×" + config.hiddenSize());
    }
    Tensor invRms1 = backend.zeros(tokens, 1);
    Tensor normed1 = backend.zeros(tokens, config.hiddenSize());
    backend.rmsNorm(x, w.inputNorm(), config.rmsNormEps(), normed1, invRms1);
    normed1 = quantizeInput(inputs, normed1, Linear.Q);

    Tensor q = project(w, Linear.Q, normed1);
    Tensor k = project(w, Linear.K, normed1);
    Tensor v = project(w, Linear.V, normed1);
    backend.rotary(q, config.headDim(), shape.seqLen(), rotary.cos(), rotary.sin(), false);
    backend.rotary(k, config.headDim(), shape.seqLen(), rotary.cos(), rotary.sin(), false);
    Tensor attention = backend.zeros(tokens, config.queryWidth());
    Tensor logSumExp = backend.zeros(tokens, config.numHeads());
    backend.causalAttention(q, k, v, shape, attention, logSumExp);

    // The attention output itself stays float: its backward needs the exact values.
    Tensor outputProjectionInput = inputs.quantize(attention, Linear.O);
    Tensor residual = project(w, Linear.O, outputProjectionInput);
    backend.add(residual, x, residual);

    Tensor invRms2 = backend.zeros(tokens, 1);
    Tensor normed2 = backend.zeros(tokens, config.hiddenSize());
    backend.rmsNorm(residual, w.postAttentionNorm(), config.rmsNormEps(), normed2, invRms2);
    normed2 = quantizeInput(inputs, normed2, Linear.GATE);
    Tensor gate = project(w, Linear.GATE, normed2);
    Tensor up = project(w, Linear.UP, normed2);
    Tensor hidden = backend.zeros(tokens, config.intermediateSize());
    backend.swiglu(gate, up, hidden);
    hidden = quantizeInput(inputs, hidden, Linear.DOWN);
    Tensor output = project(w, Linear.DOWN, hidden);
    backend.add(output, residual, output);

    return new BlockActivations(shape, x, invRms1, normed1, q, k, v, attention, logSumExp,
        outputProjectionInput, residual, invRms2, normed2, gate, up, hidden, output);
  }

  /**
   * The tensor the layers after {@code input} multiply. When the quantizer made a copy, the float
   * input is closed: nothing else reads it, the backward pass included (unlike the attention
   * output, which stays).
   */
  private static Tensor quantizeInput(LinearInputQuantizer inputs, Tensor input, Linear consumer) {
    Tensor quantized = inputs.quantize(input, consumer);
    if (quantized != input) {
      input.close();
    }
    return quantized;
  }

  /** input · Wᵀ (+ bias): the Hugging Face nn.Linear convention. */
  private Tensor project(BlockWeights w, Linear linear, Tensor input) {
    Tensor weight = w.weight(linear);
    Tensor out = backend.zeros(input.rows(), weight.rows());
    backend.matmul(input, false, weight, true, out, false);
    Tensor bias = w.bias(linear);
    if (bias != null) {
      backend.addRowVector(out, bias);
    }
    return out;
  }

  /**
   * Back-propagates dOutput (the loss gradient at the block output) through the block: returns
   * the gradient at the block input and adds parameter gradients into {@code gradients}.
   */
  public Tensor backward(BlockWeights w, BlockActivations a, Tensor dOutput, BlockGradients gradients) {
    int tokens = a.shape().tokens();
    // Temporaries are closed as soon as they are spent: a GPU backend's memory does not wait for
    // the garbage collector.
    // MLP branch; the residual connection passes dOutput straight through to dResidual.
    Tensor dHidden = backProject(w, Linear.DOWN, dOutput, a.hidden(), gradients);
    Tensor dGate = backend.zeros(tokens, config.intermediateSize());
    Tensor dUp = backend.zeros(tokens, config.intermediateSize());
    backend.swigluBackward(dHidden, a.gate(), a.up(), dGate, dUp);
    dHidden.close();
    Tensor dNormed2 = backProject(w, Linear.GATE, dGate, a.normedResidual(), gradients);
    backProjectInto(w, Linear.UP, dUp, a.normedResidual(), gradients, dNormed2, true);
    dGate.close();
    dUp.close();
    Tensor dResidual = backend.zeros(tokens, config.hiddenSize());
    backend.rmsNormBackward(dNormed2, a.residual(), w.postAttentionNorm(), a.residualInvRms(),
        dResidual, gradients.postAttentionNorm());
    dNormed2.close();
    backend.add(dResidual, dOutput, dResidual);

    // Attention branch.
    Tensor dAttention = backProject(w, Linear.O, dResidual, a.outputProjectionInput(), gradients);
    Tensor dq = backend.zeros(tokens, config.queryWidth());
    Tensor dk = backend.zeros(tokens, config.keyValueWidth());
    Tensor dv = backend.zeros(tokens, config.keyValueWidth());
    backend.causalAttentionBackward(dAttention, a.queries(), a.keys(), a.values(), a.attention(),
        a.attentionLogSumExp(), a.shape(), dq, dk, dv);
    dAttention.close();
    backend.rotary(dq, config.headDim(), a.shape().seqLen(), rotary.cos(), rotary.sin(), true);
    backend.rotary(dk, config.headDim(), a.shape().seqLen(), rotary.cos(), rotary.sin(), true);
    Tensor dNormed1 = backProject(w, Linear.Q, dq, a.normedInput(), gradients);
    backProjectInto(w, Linear.K, dk, a.normedInput(), gradients, dNormed1, true);
    backProjectInto(w, Linear.V, dv, a.normedInput(), gradients, dNormed1, true);
    dq.close();
    dk.close();
    dv.close();
    Tensor dInput = backend.zeros(tokens, config.hiddenSize());
    backend.rmsNormBackward(dNormed1, a.input(), w.inputNorm(), a.inputInvRms(), dInput,
        gradients.inputNorm());
    dNormed1.close();
    backend.add(dInput, dResidual, dInput);
    dResidual.close();
    return dInput;
  }

  /**
   * Backward of y = x·Wᵀ + b: returns dx = dy·W and adds dW = dyᵀ·x and db = Σ dy where asked.
   */
  private Tensor backProject(BlockWeights w, Linear linear, Tensor dOut, Tensor input,
      BlockGradients gradients) {
    Tensor dInput = backend.zeros(dOut.rows(), w.weight(linear).cols());
    backProjectInto(w, linear, dOut, input, gradients, dInput, false);
    return dInput;
  }

  /**
   * {@link #backProject} into {@code dInput}; with {@code accumulate} dx is added to it, which is
   * how the layers that share an input sum their gradients: in the product, with no temporary and
   * no separate pass.
   */
  private void backProjectInto(BlockWeights w, Linear linear, Tensor dOut, Tensor input,
      BlockGradients gradients, Tensor dInput, boolean accumulate) {
    backend.matmul(dOut, false, w.weight(linear), false, dInput, accumulate);
    Tensor dWeight = gradients.weight(linear);
    if (dWeight != null) {
      backend.matmul(dOut, true, input, false, dWeight, true);
    }
    Tensor dBias = gradients.bias(linear);
    if (dBias != null) {
      backend.accumulateColumnSums(dOut, dBias);
    }
  }
}
