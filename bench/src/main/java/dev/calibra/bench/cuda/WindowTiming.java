package dev.calibra.bench.cuda;

import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.kernels.cuda.PoolStats;
import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockGradients;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.BlockWindow;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.RopeScaling;
import dev.calibra.model.llama.RotaryTables;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training step of a window of decoder blocks with random weights in the workload's shape:
 * forward through the window, backward with gradients for the input and every parameter, as
 * DecoderBlock computes them (the step that calibration repeats).
 */
public final class WindowTiming {

  /**
   * @param driverAllocations cuMemAlloc calls during the timed steps: 0 when the pool works
   * @param breakdown GPU time per kernel in one profiled step, longest first
   */
  public record Measured(double medianSeconds, double bestSeconds, int steps, long driverAllocations,
      List<CudaBackend.KernelTime> breakdown) {}

  private static final String GEMM_SETTING = "calibra.cuda.gemm";

  private WindowTiming() {}

  /** The choice under which {@link #run} also times steps that rewrite the weights first. */
  public static final String REWRITTEN_WEIGHTS = "auto, weights rewritten every step";

  /**
   * Times the step once per GEMM kernel choice ("auto", "wgmma", ...), on the same weights, and
   * once more ({@link #REWRITTEN_WEIGHTS}) with every weight rewritten before the step by the
   * backend's weight fake-quantization, as calibration rewrites them ({@link
   * FakeQuantizedWeights}): the backend then cannot reuse the weights' bf16 copies from the step
   * before, which it does when the weights stay unchanged, and the products read the copies the
   * fake quantization wrote. Its kernel, fake_quantize_weights in the breakdown, is
   * calibration's own work, not the step's: the caller may subtract its GPU time. It runs right
   * after "auto" (which must be among the choices) and leaves the weights fake-quantized for the
   * other choices.
   */
  public static Map<String, Measured> run(CudaBackend gpu, Workload.Window w, int steps,
      List<String> choices) {
    LlamaConfig config = new LlamaConfig("llama", w.hidden(), w.intermediate(), w.blocks(), w.heads(),
        w.kvHeads(), w.headDim(), 32000, w.seqLen(), (float) w.rmsNormEps(),
        RopeScaling.standard(w.ropeTheta()), false, false, 1, 2);
    DecoderBlock block = new DecoderBlock(config, gpu, RotaryTables.of(config, w.seqLen(), gpu));
    List<BlockWeights> weights = new ArrayList<>();
    List<BlockGradients> gradients = new ArrayList<>();
    for (int b = 0; b < w.blocks(); b++) {
      weights.add(randomBlock(config, gpu, 100 + b));
      gradients.add(BlockGradients.forAllParameters(weights.get(b), gpu));
    }
    BlockWindow window = new BlockWindow(block, weights);
    AttentionShape shape = block.shape(w.batch(), w.seqLen());
    Tensor x = gpu.upload(RandomFill.uniform(w.tokens() * w.hidden(), 3, 1), w.tokens(), w.hidden());
    Tensor dOutput = gpu.upload(RandomFill.uniform(w.tokens() * w.hidden(), 4, 1e-2), w.tokens(),
        w.hidden());
    Runnable step = () -> {
      List<BlockActivations> activations = window.forward(x, shape);
      window.backward(activations, dOutput, gradients).close();
      activations.forEach(BlockActivations::close);
    };
    FakeQuantizedWeights quantized = new FakeQuantizedWeights(gpu, weights);
    Runnable rewritingStep = () -> {
      quantized.rewrite();
      step.run();
    };
    Map<String, Measured> results = new LinkedHashMap<>();
    String setting = System.getProperty(GEMM_SETTING, "auto");
    try {
      for (String choice : choices) {
        System.setProperty(GEMM_SETTING, choice);
        results.put(choice, measure(gpu, step, steps));
        if (choice.equals("auto")) {
          // Right after the plain "auto" steps: blocks of steps timed far apart drift by 1–2 ms
          // (the clock after the slow mma.sync block), more than the two differ by.
          results.put(REWRITTEN_WEIGHTS, measure(gpu, rewritingStep, steps));
        }
      }
    } finally {
      System.setProperty(GEMM_SETTING, setting);
    }
    return results;
  }

  private static Measured measure(CudaBackend gpu, Runnable step, int steps) {
    step.run();
    step.run();
    PoolStats before = gpu.poolStats();
    double[] seconds = new double[steps];
    for (int i = 0; i < steps; i++) {
      gpu.synchronize();
      long start = System.nanoTime();
      step.run();
      gpu.synchronize();
      seconds[i] = (System.nanoTime() - start) / 1e9;
    }
    long allocations = gpu.poolStats().driverAllocations() - before.driverAllocations();
    gpu.profileKernels(true);
    step.run();
    List<CudaBackend.KernelTime> breakdown = gpu.kernelProfile();
    gpu.profileKernels(false);
    Arrays.sort(seconds);
    return new Measured(seconds[steps / 2], seconds[0], steps, allocations, breakdown);
  }

  /** Linear weights uniform with variance 1/in (about what training leaves), norms 1. */
  private static BlockWeights randomBlock(LlamaConfig config, CudaBackend gpu, long seed) {
    Map<Linear, Tensor> linears = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      int[] shape = config.weightShape(linear);
      linears.put(linear, gpu.upload(RandomFill.uniform(shape[0] * shape[1], seed * 10 + linear.ordinal(),
          Math.sqrt(3.0 / shape[1])), shape[0], shape[1]));
    }
    float[] ones = new float[config.hiddenSize()];
    Arrays.fill(ones, 1f);
    return new BlockWeights(config, gpu.upload(ones, 1, ones.length), gpu.upload(ones, 1, ones.length),
        linears, Map.of());
  }
}
