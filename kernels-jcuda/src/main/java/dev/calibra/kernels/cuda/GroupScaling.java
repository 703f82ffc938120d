package dev.calibra.kernels.cuda;

import dev.calibra.model.backend.LearnedWeightQuantization;

/**
 * The kernels of group_scaling.cu ({@code Backend.scaleGroups} and its gradient): the forward
 * pass one thread per weight, the gradient one warp per group.
 */
final class GroupScaling {

  private static final int THREADS = 256;
  private static final int WARPS_PER_BLOCK = THREADS / 32;

  private GroupScaling() {}

  static void forward(CudaBackend backend, CudaTensor w, CudaTensor logScale, int groupSize,
      CudaTensor out) {
    if (w.size() == 0) {
      return;
    }
    backend.kernel("scale_groups").gridFor(w.size()).input(w).input(logScale).output(out)
        .arg(w.rows()).arg(w.cols()).arg(groupSize)
        .arg(LearnedWeightQuantization.groups(w.cols(), groupSize)).run();
  }

  static void backward(CudaBackend backend, CudaTensor dOut, CudaTensor out, int groupSize,
      CudaTensor dLogScale) {
    long groups = (long) out.rows() * LearnedWeightQuantization.groups(out.cols(), groupSize);
    if (groups == 0) {
      return;
    }
    int blocks = Math.toIntExact((groups + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    backend.kernel("scale_groups_backward").grid(blocks, 1, 1).block(THREADS, 1, 1).input(dOut)
        .input(out).arg(dLogScale).arg(out.rows()).arg(out.cols()).arg(groupSize)
        .arg(LearnedWeightQuantization.groups(out.cols(), groupSize)).run();
  }
}
