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
  /** The rewrite alone, timed in turn with the two steps of {@link #REWRITTEN_WEIGHTS}. */
  public static final String REWRITE_ALONE = "weights rewritten, no step";

  /**
   * Times the step once per GEMM kernel choice ("auto", "wgmma", ...), on the same weights, and
   * once more ({@link #REWRITTEN_WEIGHTS}) with every weight rewritten before the step by the
   * backend's weight fake-quantization, as calibration rewrites them ({@link
   * FakeQuantizedWeights}): the backend then cannot reuse the weights' bf16 copies from the step
   * before, which it does when the weights stay unchanged, and the products read the copies the
   * fake quantization wrote. Its kernel, fake_quantize_weights in the breakdown, is
   * calibration's own work, not the step's: the caller may subtract its GPU time. Its steps
   * alternate with those of "auto" (which must be among the choices), since blocks of steps timed
   * one after the other drift by 1–2 ms, more than the two differ by; the plain steps then run
   * on the fake-quantized weights too, whose copies the last rewrite left, as do the other
   * choices. The rewrite alone ({@link #REWRITE_ALONE}) takes its turn with them, a wall-clock
   * counterpart to its kernels' GPU time.
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
        if (choice.equals("auto")) {
          List<Measured> alternated =
              measure(gpu, List.of(step, rewritingStep, quantized::rewrite), steps);
          results.put(choice, alternated.get(0));
          results.put(REWRITTEN_WEIGHTS, alternated.get(1));
          results.put(REWRITE_ALONE, alternated.get(2));
        } else {
          results.put(choice, measure(gpu, List.of(step), steps).get(0));
        }
      }
    } finally {
      System.setProperty(GEMM_SETTING, setting);
    }
    return results;
  }

  /**
   * Times {@code steps} runs of each kind of step, the kinds taking turns (one run each per
   * round), after two warm-up rounds; then profiles one more run of each. The driver
   * allocations are those of all the timed runs.
   */
  private static List<Measured> measure(CudaBackend gpu, List<Runnable> kinds, int steps) {
    for (int warmUp = 0; warmUp < 2; warmUp++) {
      kinds.forEach(Runnable::run);
    }
    PoolStats before = gpu.poolStats();
    double[][] seconds = new double[kinds.size()][steps];
    for (int i = 0; i < steps; i++) {
      for (int k = 0; k < kinds.size(); k++) {
        gpu.synchronize();
        long start = System.nanoTime();
        kinds.get(k).run();
        gpu.synchronize();
        seconds[k][i] = (System.nanoTime() - start) / 1e9;
      }
    }
    long allocations = gpu.poolStats().driverAllocations() - before.driverAllocations();
    List<Measured> measured = new ArrayList<>();
    for (int k = 0; k < kinds.size(); k++) {
      gpu.profileKernels(true);
      kinds.get(k).run();
      List<CudaBackend.KernelTime> breakdown = gpu.kernelProfile();
      gpu.profileKernels(false);
      Arrays.sort(seconds[k]);
      measured.add(new Measured(seconds[k][steps / 2], seconds[k][0], steps, allocations,
          breakdown));
    }
    return measured;
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
