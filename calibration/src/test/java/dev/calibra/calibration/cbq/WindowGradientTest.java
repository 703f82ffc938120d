package dev.calibra.calibration.cbq;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockGradients;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.BlockWindow;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.RotaryTables;
import dev.calibra.storage.hf.ModelDirectory;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * The gradient of a window's reconstruction loss with respect to the LoRA-Rounding factors A and
 * B, through two real blocks of stories260K with every linear layer fake-quantized, against
 * central finite differences (the loss is smooth in A and B: they only move the soft rounding).
 */
class WindowGradientTest {

  private final CpuBackend backend = new CpuBackend();

  @Test
  void loraRoundingGradientsMatchFiniteDifferencesThroughTwoBlocks() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedModels.model("stories260K").toString())) {
      LlamaConfig config = model.config();
      int seqLen = 24;
      DecoderBlock block = new DecoderBlock(config, backend, RotaryTables.of(config, seqLen, backend));
      Random random = new Random(5);
      List<BlockWeights> floatWeights = List.of(model.weights().block(1, backend),
          model.weights().block(2, backend));
      List<Map<Linear, LearnableLinearQuantizer>> quantizers = new ArrayList<>();
      QuantizationScheme scheme = new QuantizationScheme(4, 32);
      for (BlockWeights w : floatWeights) {
        Map<Linear, LearnableLinearQuantizer> map = new EnumMap<>(Linear.class);
        for (Linear linear : Linear.values()) {
          Tensor weight = w.weight(linear);
          map.put(linear, LearnableLinearQuantizer.create(backend, weight, scheme, 0.8f, 3,
              new LearnableLinearQuantizer.LearningRates(0f, 0f), random));
        }
        quantizers.add(map);
      }
      // Move B off zero so that both factors have gradients.
      for (Map<Linear, LearnableLinearQuantizer> map : quantizers) {
        for (LearnableLinearQuantizer q : map.values()) {
          Tensor b = q.parameters().get(3).value();
          float[] values = new float[(int) b.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 0.3);
          }
          set(b, values);
        }
      }
      float[] x = new float[2 * seqLen * config.hiddenSize()];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      Tensor input = backend.upload(x, 2 * seqLen, config.hiddenSize());
      AttentionShape shape = block.shape(2, seqLen);
      // The float window's output as target, as in calibration: the residual is the
      // quantization error alone, small enough that float32 rounding leaves the differences clean.
      Tensor target = new BlockWindow(block, floatWeights).forward(input, shape).get(1).output();
      float temperature = 0.6f;

      DoubleSupplier loss = () -> {
        BlockWindow window = new BlockWindow(block, fakeQuantized(floatWeights, quantizers, temperature));
        List<BlockActivations> a = window.forward(input, shape);
        Tensor out = a.get(1).output();
        return backend.squaredError(out, target, 0f, backend.zeros(out.rows(), out.cols()));
      };

      BlockWindow window = new BlockWindow(block, fakeQuantized(floatWeights, quantizers, temperature));
      List<BlockActivations> activations = window.forward(input, shape);
      Tensor out = activations.get(1).output();
      Tensor dOut = backend.zeros(out.rows(), out.cols());
      backend.squaredError(out, target, 1f, dOut);
      List<BlockGradients> gradients = List.of(
          BlockGradients.forLinearWeights(floatWeights.get(0), backend, Linear.values()),
          BlockGradients.forLinearWeights(floatWeights.get(1), backend, Linear.values()));
      window.backward(activations, dOut, gradients);
      for (int b = 0; b < 2; b++) {
        for (Linear linear : Linear.values()) {
          quantizers.get(b).get(linear).backward(gradients.get(b).weight(linear), 0f, 2f);
        }
      }
      for (int b = 0; b < 2; b++) {
        for (Linear linear : new Linear[] {Linear.Q, Linear.O, Linear.DOWN}) {
          List<Parameter> p = quantizers.get(b).get(linear).parameters();
          check("block " + b + " " + linear + " A", p.get(2), loss, random);
          check("block " + b + " " + linear + " B", p.get(3), loss, random);
        }
      }
    }
  }

  private static List<BlockWeights> fakeQuantized(List<BlockWeights> floatWeights,
      List<Map<Linear, LearnableLinearQuantizer>> quantizers, float temperature) {
    List<BlockWeights> out = new ArrayList<>();
    for (int b = 0; b < floatWeights.size(); b++) {
      BlockWeights w = floatWeights.get(b);
      for (Map.Entry<Linear, LearnableLinearQuantizer> e : quantizers.get(b).entrySet()) {
        w = w.withLinear(e.getKey(), e.getValue().fakeQuantize(temperature));
      }
      out.add(w);
    }
    return out;
  }

  /**
   * Central differences over a few entries: the step is large enough to rise above float32
   * noise and small enough that few soft roundings cross a clamp.
   */
  private void check(String name, Parameter parameter, DoubleSupplier loss, Random random) {
    Tensor tensor = parameter.value();
    float[] values = backend.download(tensor);
    float[] analytic = backend.download(parameter.gradient());
    double errorSquares = 0;
    double normSquares = 0;
    float step = 1.5e-2f;
    for (int s = 0; s < 16; s++) {
      int i = random.nextInt(values.length);
      float saved = values[i];
      values[i] = saved + step;
      set(tensor, values);
      double plus = loss.getAsDouble();
      values[i] = saved - step;
      set(tensor, values);
      double minus = loss.getAsDouble();
      values[i] = saved;
      set(tensor, values);
      double numeric = (plus - minus) / (2 * step);
      errorSquares += Math.pow(numeric - analytic[i], 2);
      normSquares += numeric * numeric;
    }
    double relative = Math.sqrt(errorSquares / Math.max(normSquares, 1e-30));
    assertTrue(normSquares > 0, name + ": zero gradient, the check proves nothing");
    // The ops' own checks hold 2e-3; through two float32 blocks the loss carries rounding noise
    // of about 1e-5, which limits differences at this step to a few percent.
    assertTrue(relative < 3e-2, name + ": relative error " + relative);
  }

  /** Overwrites a tensor's contents (the backend hands out copies, never its own array). */
  private void set(Tensor tensor, float[] values) {
    backend.copy(backend.upload(values, tensor.rows(), tensor.cols()), tensor);
  }
}
