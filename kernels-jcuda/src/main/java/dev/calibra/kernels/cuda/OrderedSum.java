package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;

import jcuda.Pointer;

/**
 * The last step of the sums the calibration ops return: adds partial sums (one double per block
 * of the op's kernel) on the GPU, always in the same order, and brings the total to the host. So
 * a loss or regulariser is the same from run to run, which float atomics would not give.
 */
final class OrderedSum {

  /** One block of this many threads adds all the partial sums. */
  private static final int THREADS = 1024;

  private OrderedSum() {}

  /** Σ parts[0 … count), then releases {@code parts}; waits for the GPU. */
  static double ofAndRelease(CudaBackend backend, DeviceBlock parts, long count) {
    DeviceBlock total = backend.scratch(Double.BYTES);
    backend.kernel("sum_in_order").grid(1, 1, 1).block(THREADS, 1, 1).arg(parts).arg(count)
        .arg(total).run();
    double[] result = new double[1];
    // A synchronous copy on the default stream, which waits for the backend's blocking stream.
    CudaException.check(cuMemcpyDtoH(Pointer.to(result), total.pointer, Double.BYTES),
        "downloading a sum");
    backend.release(total);
    backend.release(parts);
    return result[0];
  }
}
