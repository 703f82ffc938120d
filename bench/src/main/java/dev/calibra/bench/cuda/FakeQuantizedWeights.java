package dev.calibra.bench.cuda;

import dev.calibra.calibration.cbq.GroupRanges;
import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The window's linear weights rewritten as calibration rewrites them before every step: each is
 * the output of the backend's soft weight fake-quantization (learned clipping and rounding, 4-bit
 * groups of 128, CBQ's form) of a float source weight. The step then reads weights that changed
 * since the step before, so no bf16 copy survives from it; whatever copy the products find was
 * made by the fake quantization itself, as in calibration.
 */
final class FakeQuantizedWeights {

  private static final int BITS = 4;
  private static final int GROUP_SIZE = 128;
  /** Clip logit of σ⁻¹(0.95): every group's range clipped to 95%. */
  private static final float CLIP_LOGIT = (float) Math.log(0.95 / 0.05);

  private final CudaBackend gpu;
  private final List<LearnedWeightQuantization> quantizations = new ArrayList<>();
  private final List<Tensor> outputs = new ArrayList<>();

  /** Sources are copies of the current weights, which become the outputs. */
  FakeQuantizedWeights(CudaBackend gpu, List<BlockWeights> weights) {
    this.gpu = gpu;
    long seed = 1000;
    for (BlockWeights block : weights) {
      for (Linear linear : Linear.values()) {
        Tensor out = block.weight(linear);
        quantizations.add(quantization(out, seed++));
        outputs.add(out);
      }
    }
  }

  /** Every weight fake-quantized afresh (kernel fake_quantize_weights in the profile). */
  void rewrite() {
    for (int i = 0; i < outputs.size(); i++) {
      gpu.fakeQuantizeWeights(quantizations.get(i), false, outputs.get(i), null, null);
    }
  }

  private LearnedWeightQuantization quantization(Tensor weight, long seed) {
    int rows = weight.rows();
    int cols = weight.cols();
    float[] values = gpu.download(weight);
    GroupRanges ranges = GroupRanges.of(values, rows, cols, GROUP_SIZE);
    int groups = ranges.groups();
    float[] clip = new float[rows * groups];
    Arrays.fill(clip, CLIP_LOGIT);
    return new LearnedWeightQuantization(gpu.upload(values, rows, cols),
        gpu.upload(ranges.min(), rows, groups), gpu.upload(ranges.max(), rows, groups),
        gpu.upload(clip, rows, groups), gpu.upload(clip, rows, groups),
        gpu.upload(RandomFill.uniform(rows * cols, seed, 1), rows, cols), 1f, BITS, GROUP_SIZE);
  }
}
