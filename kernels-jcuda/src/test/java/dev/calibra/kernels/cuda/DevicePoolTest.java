package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The memory pool: bucket sizes, and no driver allocation in the steady state of a training loop. */
class DevicePoolTest {

  @Test
  void bucketsRoundUpByLessThan512BytesOrAnEighth() {
    assertEquals(512, DevicePool.bucket(1));
    assertEquals(1024, DevicePool.bucket(513));
    assertEquals(1L << 20, DevicePool.bucket(1L << 20));
    assertEquals((1L << 20) + (1L << 17), DevicePool.bucket((1L << 20) + 1));
    for (long bytes = 1; bytes < (1L << 40); bytes = bytes * 3 + 7) {
      long bucket = DevicePool.bucket(bytes);
      long slack = bytes <= (1L << 20) ? 511 : bytes / 8;
      assertTrue(bucket >= Math.max(bytes, 512) && bucket <= Math.max(512, bytes + slack),
          bytes + " → " + bucket);
    }
  }

  @Test
  void trainingStepsAllocateNothingOnceWarm() {
    Gpu.assumeAvailable();
    LlamaConfig config = new LlamaConfig("llama", 256, 688, 2, 4, 2, 64, 1000, 512, 1e-5f,
        RopeScaling.standard(10000), true, false, 1, 2);
    try (CudaBackend gpu = CudaBackend.open(CudaOptions.defaults().withCheckEveryLaunch(true))) {
      Random random = new Random(9);
      DecoderBlock block = new DecoderBlock(config, gpu, RotaryTables.of(config, 192, gpu));
      List<BlockWeights> weights = List.of(randomBlock(config, gpu, random), randomBlock(config, gpu, random));
      BlockWindow window = new BlockWindow(block, weights);
      List<BlockGradients> gradients = List.of(BlockGradients.forAllParameters(weights.get(0), gpu),
          BlockGradients.forAllParameters(weights.get(1), gpu));
      AttentionShape shape = block.shape(2, 192);
      Tensor x = gpu.upload(gaussian(random, 384 * 256, 1), 384, 256);
      Tensor dOut = gpu.upload(gaussian(random, 384 * 256, 1), 384, 256);
      Runnable step = () -> {
        List<BlockActivations> activations = window.forward(x, shape);
        window.backward(activations, dOut, gradients).close();
        activations.forEach(BlockActivations::close);
      };
      step.run();
      step.run();
      PoolStats warm = gpu.poolStats();
      step.run();
      step.run();
      PoolStats later = gpu.poolStats();
      Parity.report("device pool", "2 more window steps", "driver allocations",
          later.driverAllocations() - warm.driverAllocations(), 0);
      assertEquals(warm.driverAllocations(), later.driverAllocations(), "cuMemAlloc calls in steady state");
      assertEquals(warm.bytesInUse(), later.bytesInUse(), "bytes held across steps (a leak)");
      assertTrue(later.reuses() > warm.reuses());
    }
  }

  private static BlockWeights randomBlock(LlamaConfig config, CudaBackend gpu, Random random) {
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      int[] shape = config.weightShape(linear);
      weights.put(linear, gpu.upload(gaussian(random, shape[0] * shape[1], 1 / Math.sqrt(shape[1])),
          shape[0], shape[1]));
    }
    float[] ones = new float[config.hiddenSize()];
    java.util.Arrays.fill(ones, 1f);
    return new BlockWeights(config, gpu.upload(ones, 1, ones.length), gpu.upload(ones, 1, ones.length),
        weights, Map.of());
  }
}
