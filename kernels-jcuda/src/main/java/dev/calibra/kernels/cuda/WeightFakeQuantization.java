package dev.calibra.kernels.cuda;

import dev.calibra.model.backend.LearnedWeightQuantization;

/**
 * The learned weight fake-quantization ops (weight_quantization.cu): the soft or hard forward
 * pass, its straight-through gradients and the rounding regulariser. The gradient kernels give
 * one warp to one group of a row, so that its gradient sums are a warp reduction in a fixed
 * order; the forward pass gives a block a tile of rows × columns, so that it can write ŵ's
 * transposed bf16 copy as well as its untransposed one. Shapes are checked by the caller and by
 * {@link LearnedWeightQuantization} itself.
 */
final class WeightFakeQuantization {

  private static final int THREADS = 256;
  private static final int WARPS_PER_BLOCK = THREADS / 32;
  /** The forward kernel's tile of rows × columns (TILE_ROWS, TILE_COLS there; THREADS threads). */
  private static final int TILE_ROWS = 32;
  private static final int TILE_COLS = 128;
  /** A group's step and zero point, as the forward kernel keeps them (float2). */
  private static final int GRID_BYTES = 8;

  private final CudaBackend backend;

  WeightFakeQuantization(CudaBackend backend) {
    this.backend = backend;
  }

  void forward(LearnedWeightQuantization q, boolean hard, CudaTensor out, CudaTensor scales,
      CudaTensor zeros) {
    if (groupCount(q) == 0) {
      return;
    }
    // ŵ feeds the products of the next step, X·ŵᵀ and dY·ŵ: written in bf16 as both read it,
    // untransposed and transposed, it needs no packing pass.
    Matmul matmul = backend.matmulKernels();
    DeviceBlock copy = matmul.rowsCopyTarget(out);
    DeviceBlock transposed = matmul.transposedCopyTarget(out);
    int pitch = Matmul.transposedPitch(out);
    // With the transposed copy the tiles cover its zero padding past the last row too.
    long rowTiles = ceilDiv(transposed != null ? pitch : out.rows(), TILE_ROWS);
    long blocks = rowTiles * ceilDiv(out.cols(), TILE_COLS);
    KernelLaunch launch = backend.kernel("fake_quantize_weights")
        .grid(Math.toIntExact(blocks), 1, 1).block(THREADS, 1, 1)
        .sharedBytes(TILE_ROWS * tileGroups(q.groupSize()) * GRID_BYTES);
    quantization(launch, q).arg(hard ? 1 : 0).output(out).outputOrNull(scales)
        .outputOrNull(zeros).argOrNull(copy).argOrNull(transposed).arg(pitch).run();
    matmul.adoptRowsCopy(out, copy);
    matmul.adoptTransposedCopy(out, transposed);
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

  /**
   * The most groups a tile's row can hold: its TILE_COLS columns may start anywhere in a group.
   * The forward kernel keeps each one's grid in shared memory.
   */
  private static int tileGroups(int groupSize) {
    return Math.min(TILE_COLS, TILE_COLS / groupSize + 2);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
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
