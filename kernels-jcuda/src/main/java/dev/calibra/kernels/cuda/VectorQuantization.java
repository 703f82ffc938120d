package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.WeightedSubVectors;
import jcuda.Pointer;

/**
 * The vector-quantization ops of {@link CudaBackend} (kernels in vector_quantization.cu): the
 * same results as the CPU backend's, bit for bit up to the last bit of a double exp in the soft
 * assignment, because the kernels repeat the CPU's float operations in its order and sum across
 * sub-vectors in fixed point.
 */
final class VectorQuantization {

  /** Rows of one column of sub-vectors a block of the nearest-codeword kernels scores. */
  private static final int NEAREST_ROWS = 1024;
  private static final int NEAREST_THREADS = 256;
  /** Threads of the k-means++ kernel's blocks, and the most blocks it spreads over. */
  private static final int KMEANSPP_THREADS = 256;
  private static final int KMEANSPP_MAX_BLOCKS = 2048;

  private final CudaBackend backend;

  VectorQuantization(CudaBackend backend) {
    this.backend = backend;
  }

  void columnSquares(CudaTensor x, CudaTensor sum) {
    if (x.cols() == 0) {
      return;
    }
    backend.kernel("column_squares").grid((x.cols() + 255) / 256, 1, 1).block(256, 1, 1)
        .input(x).arg((long) x.rows()).arg(x.cols()).arg(sum).run();
  }

  /**
   * The n nearest codewords of each sub-vector: one kernel, the distances as a product with the
   * codebook and the arg-min (or the n best) fused into it; the objective a fixed-point sum.
   */
  double nearest(WeightedSubVectors v, CudaTensor codebook, CudaTensor indices, int exponent) {
    int n = indices.cols();
    if (n > codebook.rows() || n > SoftVqAssignment.MAX_CANDIDATES) {
      throw new IllegalArgumentException(n + " nearest codewords asked of a codebook of "
          + codebook.rows() + " (at most " + SoftVqAssignment.MAX_CANDIDATES + ")");
    }
    if (v.count() == 0) {
      return 0;
    }
    DeviceBlock objective = zeroedScratch(Long.BYTES);
    KernelLaunch launch = backend.kernel((n == 1 ? "nearest_codeword_d" : "nearest_codewords_d")
            + v.dim())
        .grid(v.perRow(), (v.rows() + NEAREST_ROWS - 1) / NEAREST_ROWS, 1)
        .block(NEAREST_THREADS, 1, 1)
        .input(backend.tensor(v.weight())).arg((long) v.rows()).arg(v.cols())
        .input(backend.tensor(v.channelWeights())).inputOrNull(backend.tensorOrNull(v.rowWeights()))
        .input(codebook).arg(codebook.rows());
    if (n > 1) {
      launch.arg(n);
    }
    launch.output(indices).arg(Math.scalb(1.0, exponent)).arg(objective).run();
    long[] sum = new long[1];
    CudaException.check(cuMemcpyDtoH(Pointer.to(sum), objective.pointer, Long.BYTES),
        "downloading the k-means objective");
    backend.release(objective);
    return Math.scalb((double) sum[0], -exponent);
  }

  /** Lloyd's update: fixed-point sums per codebook value (integer atomics), then quotients. */
  void updateCentroids(WeightedSubVectors v, CudaTensor assignment, CudaTensor codebook,
      int exponent) {
    long values = codebook.size();
    DeviceBlock numerator = zeroedScratch(values * Long.BYTES);
    DeviceBlock denominator = zeroedScratch(values * Long.BYTES);
    DeviceBlock badIndex = backend.scratch(Integer.BYTES);
    CudaException.check(cuMemsetD32Async(badIndex.pointer, Integer.MAX_VALUE, 1, backend.stream()),
        "cuMemsetD32Async");
    long elements = (long) v.rows() * v.cols();
    backend.kernel("centroid_sums").gridFor(elements).input(backend.tensor(v.weight()))
        .arg((long) v.rows()).arg(v.cols()).arg(v.dim()).input(backend.tensor(v.channelWeights()))
        .inputOrNull(backend.tensorOrNull(v.rowWeights())).input(assignment)
        .arg(codebook.rows()).arg(Math.scalb(1.0, exponent)).arg(numerator).arg(denominator)
        .arg(badIndex).run();
    backend.kernel("centroid_divide").gridFor(values).arg(numerator).arg(denominator).arg(values)
        .arg(codebook).run();
    int[] bad = new int[1];
    CudaException.check(cuMemcpyDtoH(Pointer.to(bad), badIndex.pointer, Integer.BYTES),
        "downloading the assignment check");
    backend.release(numerator);
    backend.release(denominator);
    backend.release(badIndex);
    if (bad[0] != Integer.MAX_VALUE) {
      throw new IllegalArgumentException("the assignment of sub-vector " + bad[0]
          + " is outside the codebook of " + codebook.rows() + " entries");
    }
  }

  /**
   * One k-means++ step: the GPU updates the distances and sums them per block of consecutive
   * sub-vectors; the host finds the block the draw falls in from those sums and the sub-vector
   * inside it from that block's distances, exactly as the CPU's running sum does.
   */
  int kMeansPlusPlusStep(WeightedSubVectors v, int chosen, CudaTensor minDistance, int exponent,
      double uniform) {
    int count = v.count();
    if (chosen < 0 || chosen >= count) {
      throw new IllegalArgumentException("sub-vector " + chosen + " does not exist: there are "
          + count);
    }
    int blocks = Math.max(1, Math.min(KMEANSPP_MAX_BLOCKS, (count + 1023) / 1024));
    int perBlock = (count + blocks - 1) / blocks;
    blocks = (count + perBlock - 1) / perBlock;
    long chosenOffset = (long) (chosen / v.perRow()) * v.cols()
        + (long) (chosen % v.perRow()) * v.dim();
    double scale = Math.scalb(1.0, exponent);
    DeviceBlock partial = backend.scratch((long) blocks * Long.BYTES);
    backend.kernel("kmeanspp_distances").grid(blocks, 1, 1).block(KMEANSPP_THREADS, 1, 1)
        .input(backend.tensor(v.weight())).arg((long) v.rows()).arg(v.cols()).arg(v.dim())
        .input(backend.tensor(v.channelWeights()))
        .inputOrNull(backend.tensorOrNull(v.rowWeights())).arg(chosenOffset).arg(minDistance)
        .arg((long) perBlock).arg(scale).arg(partial).run();
    long[] sums = new long[blocks];
    CudaException.check(cuMemcpyDtoH(Pointer.to(sums), partial.pointer,
        (long) blocks * Long.BYTES), "downloading k-means++ sums");
    backend.release(partial);
    long total = 0;
    for (long s : sums) {
      total += s;
    }
    if (total == 0) {
      return -1;
    }
    long target = Math.min(total - 1, (long) Math.floor(uniform * (double) total));
    long running = 0;
    for (int b = 0; b < blocks; b++) {
      if (running + sums[b] > target) {
        int first = b * perBlock;
        int end = Math.min(count, first + perBlock);
        float[] distances = new float[end - first];
        CudaException.check(cuMemcpyDtoH(Pointer.to(distances),
            minDistance.pointer().withByteOffset((long) first * Float.BYTES),
            (long) distances.length * Float.BYTES), "downloading k-means++ distances");
        for (int i = 0; i < distances.length; i++) {
          running += (long) Math.rint(distances[i] * scale);
          if (running > target) {
            return first + i;
          }
        }
        break;
      }
      running += sums[b];
    }
    throw new IllegalStateException("k-means++: the block sums and the distances disagree");
  }

  void softWeights(SoftVqAssignment a, CudaTensor out) {
    if (a.count() == 0) {
      return;
    }
    backend.kernel("soft_vq_weights").gridFor(a.count()).arg((long) a.count()).arg(a.cols())
        .arg(a.dim()).arg(a.candidateCount()).input(backend.tensor(a.candidates()))
        .input(backend.tensor(a.logits())).arg(a.temperature())
        .input(backend.tensor(a.codebook())).inputOrNull(backend.tensorOrNull(a.rowScales()))
        .output(out).run();
  }

  void softWeightsBackward(SoftVqAssignment a, CudaTensor dOut, CudaTensor dLogits,
      CudaTensor dCodebook) {
    if (a.count() == 0) {
      return;
    }
    int n = a.candidateCount();
    DeviceBlock probabilities = dCodebook == null ? null
        : backend.scratch((long) a.count() * n * Float.BYTES);
    KernelLaunch logits = backend.kernel("soft_vq_logit_gradient").gridFor(a.count())
        .arg((long) a.count()).arg(a.cols()).arg(a.dim()).arg(n)
        .input(backend.tensor(a.candidates())).input(backend.tensor(a.logits()))
        .arg(a.temperature()).input(backend.tensor(a.codebook()))
        .inputOrNull(backend.tensorOrNull(a.rowScales())).input(dOut).arg(dLogits);
    if (probabilities == null) {
      logits.nullArg().run();
      return;
    }
    logits.arg(probabilities).run();
    long values = (long) a.codebook().rows() * a.dim();
    backend.kernel("soft_vq_codebook_gradient").gridFor(values).arg(a.codebook().rows())
        .arg(a.cols()).arg(a.dim()).arg(n).arg(probabilities)
        .inputOrNull(backend.tensorOrNull(a.rowScales())).input(backend.tensor(a.useOffsets()))
        .input(backend.tensor(a.uses())).input(dOut).arg(dCodebook).run();
    backend.release(probabilities);
  }

  private DeviceBlock zeroedScratch(long bytes) {
    DeviceBlock block = backend.scratch(bytes);
    CudaException.check(cuMemsetD32Async(block.pointer, 0, bytes / Integer.BYTES,
        backend.stream()), "cuMemsetD32Async");
    return block;
  }
}
