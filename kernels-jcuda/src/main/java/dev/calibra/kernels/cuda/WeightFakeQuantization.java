package dev.calibra.kernels.cuda;

import dev.calibra.model.backend.LearnedWeightQuantization;

/**
 * The learned weight fake-quantization ops (weight_quantization.cu): the soft or hard forward
 * pass, its straight-through gradients and the rounding regulariser. Each kernel gives one warp
 * to one group of a row, so that a group's grid is worked out once and its gradient sums are a
 * warp reduction in a fixed order. Shapes are checked by the caller and by
 * {@link LearnedWeightQuantization} itself.
 */
final class WeightFakeQuantization {

  private static final int THREADS = 256;
  private static final int WARPS_PER_BLOCK = THREADS / 32;

  private final CudaBackend backend;

  WeightFakeQuantization(CudaBackend backend) {
    this.backend = backend;
  }

  void forward(LearnedWeightQuantization q, boolean hard, CudaTensor out, CudaTensor scales,
      CudaTensor zeros) {
    if (groupCount(q) == 0) {
      return;
    }
    // ŵ feeds the products of the next step: written in bf16 too, it needs no packing pass.
    DeviceBlock copy = backend.matmulKernels().rowsCopyTarget(out);
    quantization(launch("fake_quantize_weights", q), q).arg(hard ? 1 : 0).output(out)
        .outputOrNull(scales).outputOrNull(zeros).argOrNull(copy).run();
    backend.matmulKernels().adoptRowsCopy(out, copy);
  }

  void backward(LearnedWeightQuantization q, CudaTensor dOut, CudaTensor dRounding,
      CudaTensor dClipLower, CudaTensor dClipUpper) {
    if (groupCount(q) == 0) {
      return;
    }
    quantization(launch("fake_quantize_weights_backward", q), q).input(dOut)
        .outputOrNull(dRounding).argOrNull(dClipLower).argOrNull(dClipUpper).run();
  }

  double roundingRegularizer(LearnedWeightQuantization q, float beta, float weight,
      CudaTensor dRounding) {
    if (groupCount(q) == 0) {
      return 0;
    }
    KernelLaunch launch = launch("rounding_regularizer", q);
    DeviceBlock partial = backend.scratch((long) launch.blocks() * Double.BYTES);
    quantization(launch, q).arg(beta).arg(weight).arg(dRounding).arg(partial).run();
    return OrderedSum.ofAndRelease(backend, partial, launch.blocks());
  }

  private static long groupCount(LearnedWeightQuantization q) {
    return (long) q.weight().rows() * q.groups();
  }

  private KernelLaunch launch(String kernel, LearnedWeightQuantization q) {
    long blocks = (groupCount(q) + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
    return backend.kernel(kernel).grid(Math.toIntExact(blocks), 1, 1).block(THREADS, 1, 1);
  }

  /** The leading parameters every kernel of weight_quantization.cu takes, in its order. */
  private KernelLaunch quantization(KernelLaunch launch, LearnedWeightQuantization q) {
    return launch.input(backend.tensor(q.weight())).input(backend.tensor(q.groupMin()))
        .input(backend.tensor(q.groupMax())).inputOrNull(backend.tensorOrNull(q.clipLower()))
        .inputOrNull(backend.tensorOrNull(q.clipUpper()))
        .inputOrNull(backend.tensorOrNull(q.rounding())).arg(q.roundingTemperature())
        .arg(q.weight().rows()).arg(q.weight().cols()).arg(q.groupSize()).arg(q.bits());
  }
}
