package dev.calibra.calibration.cbq;

import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockGradients;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.BlockWindow;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LinearInputQuantizer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Trains the quantizers of one window of consecutive blocks: each step fake-quantizes the
 * window's weights, runs the window on a batch of its inputs (the outputs of the already
 * quantized blocks before it), compares the result with the float model's output there, and
 * takes one Adam step on every quantizer parameter.
 *
 * <p>Loss = ‖y − t‖² / (n · mean(t²)) (the squared error relative to the targets' energy, so
 * that learning rates carry across models and depths) + klWeight · mean over tokens of
 * KL(softmax(t/T) ‖ softmax(y/T)) + the annealed rounding regulariser. Learning rates follow a
 * cosine decay over the window's steps.
 */
final class WindowCalibrator {

  private static final float ADAM_BETA1 = 0.9f;
  private static final float ADAM_BETA2 = 0.999f;
  private static final float ADAM_EPSILON = 1e-8f;

  private final Backend backend;
  private final DecoderBlock block;
  private final CbqRecipe recipe;

  WindowCalibrator(Backend backend, DecoderBlock block, CbqRecipe recipe) {
    this.backend = backend;
    this.block = block;
    this.recipe = recipe;
  }

  /**
   * Calibrates the quantizers of the window's blocks in place.
   *
   * @param floatWeights the window's blocks, whose linear weights get replaced by fake-quantized ones
   * @param quantizers per block of the window, the quantizer of each linear layer
   * @param inputs batches of window inputs; targets the float outputs for the same batches
   * @param seqLen tokens per calibration sample
   * @param seed this window's seed (sample order and QDrop masks)
   * @param head the model's output head when this window ends at the last block and the recipe
   *     adds a logit loss, else null
   */
  WindowLosses calibrate(List<BlockWeights> floatWeights,
      List<? extends Map<Linear, ? extends LayerQuantizer>> quantizers, List<Tensor> inputs,
      List<Tensor> targets, int seqLen, long seed, LogitDistillation head) {
    int steps = recipe.epochs() * inputs.size();
    double targetEnergy = meanSquare(targets);
    long roundingElements = 0;
    List<Parameter> parameters = new ArrayList<>();
    List<BlockGradients> gradients = new ArrayList<>();
    for (int b = 0; b < quantizers.size(); b++) {
      for (LayerQuantizer q : quantizers.get(b).values()) {
        parameters.addAll(q.parameters());
        roundingElements += q.roundingElements();
      }
      gradients.add(BlockGradients.forLinearWeights(floatWeights.get(b), backend,
          quantizers.get(b).keySet().toArray(Linear[]::new)));
    }
    WindowLosses losses = new WindowLosses(recipe.epochs());
    List<Map<Linear, QuantizerState>> startStates = states(quantizers);
    Evaluation start = evaluate(floatWeights, quantizers, inputs, targets, seqLen, targetEnergy,
        head);
    losses.setStart(start.reconstruction());
    Random order = new Random(seed);
    int step = 0;
    for (int epoch = 0; epoch < recipe.epochs(); epoch++) {
      for (int batch : shuffled(inputs.size(), order)) {
        float progress = (float) step / steps;
        float regularizerWeight = progress < recipe.warmupFraction() || roundingElements == 0 ? 0f
            : (float) (recipe.regularizerWeight() / roundingElements);
        float beta = beta(progress);
        float temperature = temperature(progress);
        BlockWindow window = new BlockWindow(block,
            fakeQuantized(floatWeights, quantizers, temperature));
        Tensor input = inputs.get(batch);
        Tensor target = targets.get(batch);
        AttentionShape shape = block.shape(input.rows() / seqLen, seqLen);
        List<BlockActivations> activations = window.forward(input, shape,
            activationQuantizer(seed, step));
        Tensor output = activations.get(activations.size() - 1).output();
        Tensor dOutput = backend.zeros(output.rows(), output.cols());
        double norm = (double) output.size() * targetEnergy;
        double loss = backend.squaredError(output, target, (float) (1 / norm), dOutput) / norm;
        if (recipe.klWeight() > 0) {
          loss += recipe.klWeight() / output.rows() * backend.softmaxKlDivergence(target, output,
              recipe.klTemperature(), recipe.klWeight() / output.rows(), dOutput);
        }
        if (head != null) {
          loss += recipe.logitLossWeight()
              * head.addLoss(output, target, recipe.logitLossWeight(), dOutput);
        }
        for (BlockGradients g : gradients) {
          zero(g);
        }
        // The step's tensors are closed as soon as they are spent: on a GPU backend they would
        // otherwise hold device memory until the garbage collector finds them.
        window.backward(activations, dOutput, gradients).close();
        activations.forEach(BlockActivations::close);
        dOutput.close();
        double regularizer = 0;
        for (int b = 0; b < quantizers.size(); b++) {
          for (Map.Entry<Linear, ? extends LayerQuantizer> e : quantizers.get(b).entrySet()) {
            regularizer += e.getValue().backward(gradients.get(b).weight(e.getKey()),
                regularizerWeight, beta);
          }
        }
        float learningRateScale = (float) (0.5 * (1 + Math.cos(Math.PI * step / steps)));
        for (Parameter p : parameters) {
          p.update(ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, learningRateScale);
          p.zeroGradient();
        }
        losses.add(epoch, loss, regularizer * regularizerWeight);
        step++;
      }
    }
    Evaluation end = evaluate(floatWeights, quantizers, inputs, targets, seqLen, targetEnergy,
        head);
    if (end.objective() > start.objective()) {
      // Training made the hard-quantized window worse on its own data and objective (soft and
      // hard weights part ways, as with few samples or a high final temperature): the window
      // keeps the parameters it started with, so that calibration never ends below its starting
      // point, e.g. below nearest-codeword assignment for vector-quantized layers.
      for (int b = 0; b < quantizers.size(); b++) {
        Map<Linear, QuantizerState> saved = startStates.get(b);
        quantizers.get(b).forEach((linear, q) -> q.restore(saved.get(linear)));
      }
      losses.keepStart();
    } else {
      losses.setEnd(end.reconstruction());
    }
    for (BlockGradients g : gradients) {
      forEachWeightGradient(g, Tensor::close);
    }
    return losses;
  }

  private static List<Map<Linear, QuantizerState>> states(
      List<? extends Map<Linear, ? extends LayerQuantizer>> quantizers) {
    List<Map<Linear, QuantizerState>> states = new ArrayList<>(quantizers.size());
    for (Map<Linear, ? extends LayerQuantizer> block : quantizers) {
      Map<Linear, QuantizerState> saved = new EnumMap<>(Linear.class);
      block.forEach((linear, q) -> saved.put(linear, q.learnedState()));
      states.add(saved);
    }
    return states;
  }

  /** β stays at its start value through the warm-up, then falls linearly to its end value. */
  private float beta(float progress) {
    if (progress < recipe.warmupFraction()) {
      return recipe.betaStart();
    }
    float t = (progress - recipe.warmupFraction()) / (1 - recipe.warmupFraction());
    return recipe.betaStart() + t * (recipe.betaEnd() - recipe.betaStart());
  }

  /** The rounding temperature falls geometrically from 1 to its end value over the window. */
  private float temperature(float progress) {
    return (float) Math.pow(recipe.roundingTemperatureEnd(), progress);
  }

  private LinearInputQuantizer activationQuantizer(long seed, int step) {
    return recipe.activationBits() == 0 ? LinearInputQuantizer.NONE
        : new ActivationFakeQuantizer(backend, recipe.activationBits(), recipe.dropProbability(),
            seed * 31 + step);
  }

  private List<BlockWeights> fakeQuantized(List<BlockWeights> floatWeights,
      List<? extends Map<Linear, ? extends LayerQuantizer>> quantizers, float temperature) {
    List<BlockWeights> weights = new ArrayList<>(floatWeights.size());
    for (int b = 0; b < floatWeights.size(); b++) {
      BlockWeights w = floatWeights.get(b);
      for (Map.Entry<Linear, ? extends LayerQuantizer> e : quantizers.get(b).entrySet()) {
        w = w.withLinear(e.getKey(), e.getValue().fakeQuantize(temperature));
      }
      weights.add(w);
    }
    return weights;
  }

  /**
   * The window with hard-rounded weights, over all batches and with float activations but for
   * the evaluation-time activation quantization: what the finished window will do.
   */
  private Evaluation evaluate(List<BlockWeights> floatWeights,
      List<? extends Map<Linear, ? extends LayerQuantizer>> quantizers, List<Tensor> inputs,
      List<Tensor> targets, int seqLen, double targetEnergy, LogitDistillation head) {
    List<BlockWeights> weights = new ArrayList<>(floatWeights.size());
    for (int b = 0; b < floatWeights.size(); b++) {
      BlockWeights w = floatWeights.get(b);
      for (Map.Entry<Linear, ? extends LayerQuantizer> e : quantizers.get(b).entrySet()) {
        w = w.withLinear(e.getKey(), e.getValue().finish().dequantized());
      }
      weights.add(w);
    }
    BlockWindow window = new BlockWindow(block, weights);
    double squares = 0;
    long count = 0;
    double logitLoss = 0;
    for (int i = 0; i < inputs.size(); i++) {
      Tensor input = inputs.get(i);
      LinearInputQuantizer activations = recipe.activationBits() == 0 ? LinearInputQuantizer.NONE
          : ActivationFakeQuantizer.forEvaluation(backend, recipe.activationBits());
      List<BlockActivations> a = window.forward(input, block.shape(input.rows() / seqLen, seqLen),
          activations);
      Tensor output = a.get(a.size() - 1).output();
      Tensor unusedGradient = backend.zeros(output.rows(), output.cols());
      squares += backend.squaredError(output, targets.get(i), 0f, unusedGradient);
      count += output.size();
      if (head != null) {
        logitLoss += head.loss(output, targets.get(i)) / inputs.size();
      }
      unusedGradient.close();
      a.forEach(BlockActivations::close);
    }
    // The hard-rounded weights finish() made for this evaluation alone.
    for (int b = 0; b < weights.size(); b++) {
      weights.get(b).closeAllBut(floatWeights.get(b));
    }
    double reconstruction = squares / (count * targetEnergy);
    return new Evaluation(reconstruction, reconstruction + recipe.logitLossWeight() * logitLoss);
  }

  /**
   * A window with hard-quantized weights: its relative reconstruction error, and the objective it
   * trains on (plus the weighted logit loss in a window that has one).
   */
  private record Evaluation(double reconstruction, double objective) {}

  private void zero(BlockGradients gradients) {
    forEachWeightGradient(gradients, g -> backend.fill(g, 0f));
  }

  private static void forEachWeightGradient(BlockGradients gradients, Consumer<Tensor> action) {
    for (Linear linear : Linear.values()) {
      Tensor g = gradients.weight(linear);
      if (g != null) {
        action.accept(g);
      }
    }
  }

  private double meanSquare(List<Tensor> tensors) {
    double squares = 0;
    long count = 0;
    for (Tensor t : tensors) {
      Tensor zero = backend.zeros(t.rows(), t.cols());
      Tensor unusedGradient = backend.zeros(t.rows(), t.cols());
      squares += backend.squaredError(t, zero, 0f, unusedGradient);
      count += t.size();
      zero.close();
      unusedGradient.close();
    }
    return squares / count;
  }

  private static int[] shuffled(int n, Random random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
