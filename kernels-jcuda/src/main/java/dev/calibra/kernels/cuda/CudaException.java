package dev.calibra.kernels.cuda;

import jcuda.driver.CUresult;

/** A CUDA driver call failed, or no usable GPU was found; the message says which and why. */
public final class CudaException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public CudaException(String message) {
    super(message);
  }

  /** Throws unless {@code result} is CUDA_SUCCESS; {@code call} names what was attempted. */
  static void check(int result, String call) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(call + " failed: " + CUresult.stringFor(result));
    }
  }
}
