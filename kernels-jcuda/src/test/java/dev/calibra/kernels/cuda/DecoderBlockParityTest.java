package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
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
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The real models of ../shared/models through a window of their first two decoder blocks, forward
 * and backward, on the CPU and the GPU: the window output, the gradient at its input and every
 * parameter gradient. Inputs are the models' own embeddings of token ids (stories260K: its
 * calibration sequences; dict-llama-15M: random ids, as its tokenizer is not at hand here).
 *
 * <p>Tolerances (relative error over each tensor): fp32 1e-4 (summation order only). bf16: every
 * matrix product rounds its inputs to 8 significant bits, and two blocks compound them: 2e-2 for
 * the output, 5e-2 for gradients, which pass through more products than the output.
 */
class DecoderBlockParityTest {

  @Test
  void stories260kWindowMatchesTheCpu() throws IOException {
    compareWindow("stories260K", 4, 256, 7);
  }

  @Test
  void dictLlama15mWindowMatchesTheCpu() throws IOException {
    compareWindow("dict-llama-15M", 2, 200, 8);
  }

  private static void compareWindow(String name, int batch, int seqLen, long seed) throws IOException {
    Gpu.assumeAvailable();
    Assumptions.assumeTrue(SharedModel.exists(name), () -> "no " + SharedModel.directory(name));
    SharedModel model = SharedModel.open(name);
    LlamaConfig config = model.config();
    Random random = new Random(seed);
    int[] ids = random.ints(batch * seqLen, 0, config.vocabSize()).toArray();
    float[] input = model.embed(ids);
    float[] dOutput = gaussian(random, input.length, 1e-2);
    Map<String, float[]> expected = runWindow(new CpuBackend(), model, batch, seqLen, input, dOutput);
    List<String> failures = new ArrayList<>();
    for (MatmulPrecision precision : MatmulPrecision.values()) {
      Map<String, float[]> actual = runWindow(Gpu.backend(precision), model, batch, seqLen, input, dOutput);
      boolean bf16 = precision == MatmulPrecision.BF16;
      for (String key : expected.keySet()) {
        double tolerance = bf16 ? (key.equals("output") ? 2e-2 : 5e-2) : 1e-4;
        try {
          Parity.check("decoder window", name + " " + precision.label() + " " + key,
              actual.get(key), expected.get(key), tolerance);
        } catch (AssertionError e) {
          failures.add(e.getMessage());
        }
      }
    }
    Parity.failIfAny(failures);
  }

  /** Output, input gradient and parameter gradients of blocks 0 and 1, by name. */
  private static Map<String, float[]> runWindow(Backend backend, SharedModel model, int batch,
      int seqLen, float[] input, float[] dOutput) {
    LlamaConfig config = model.config();
    DecoderBlock block = new DecoderBlock(config, backend, RotaryTables.of(config, seqLen, backend));
    List<BlockWeights> weights = List.of(model.block(0, backend), model.block(1, backend));
    List<BlockGradients> gradients = new ArrayList<>();
    for (BlockWeights w : weights) {
      gradients.add(BlockGradients.forAllParameters(w, backend));
    }
    BlockWindow window = new BlockWindow(block, weights);
    AttentionShape shape = block.shape(batch, seqLen);
    Tensor x = backend.upload(input, batch * seqLen, config.hiddenSize());
    List<BlockActivations> activations = window.forward(x, shape);
    Map<String, float[]> results = new LinkedHashMap<>();
    results.put("output", backend.download(activations.get(1).output()));
    Tensor dInput = window.backward(activations,
        backend.upload(dOutput, batch * seqLen, config.hiddenSize()), gradients);
    results.put("dInput", backend.download(dInput));
    for (int b = 0; b < 2; b++) {
      BlockGradients g = gradients.get(b);
      for (Linear linear : Linear.values()) {
        results.put("block " + b + " d" + linear.hfName(), backend.download(g.weight(linear)));
      }
      results.put("block " + b + " dinput_layernorm", backend.download(g.inputNorm()));
      results.put("block " + b + " dpost_attention_layernorm", backend.download(g.postAttentionNorm()));
    }
    activations.forEach(BlockActivations::close);
    return results;
  }
}
