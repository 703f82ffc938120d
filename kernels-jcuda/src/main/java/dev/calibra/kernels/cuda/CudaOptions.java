package dev.calibra.kernels.cuda;

/**
 * How to open a {@link CudaBackend}.
 *
 * @param device the CUDA device ordinal. Inside Spark, pass the GPU address the task was given:
 *     {@code Integer.parseInt(TaskContext.get().resources().get("gpu").addresses()[0])}; outside
 *     Spark, 0. (CUDA_VISIBLE_DEVICES, when set, renumbers the devices the driver shows.)
 * @param precision the inputs of matrix products, see {@link MatmulPrecision}
 * @param checkEveryLaunch wait for every kernel and check its status before returning, so that a
 *     failing kernel is named where it fails; for tests, it costs the overlap of host and GPU
 */
public record CudaOptions(int device, MatmulPrecision precision, boolean checkEveryLaunch) {

  public CudaOptions {
    if (device < 0) {
      throw new IllegalArgumentException("CUDA device ordinals start at 0, got " + device);
    }
    if (precision == null) {
      throw new IllegalArgumentException("a matmul precision is required");
    }
  }

  /** Device 0, bf16 tensor-core products, no per-launch checks. */
  public static CudaOptions defaults() {
    return new CudaOptions(0, MatmulPrecision.BF16, false);
  }

  public CudaOptions withDevice(int ordinal) {
    return new CudaOptions(ordinal, precision, checkEveryLaunch);
  }

  public CudaOptions withPrecision(MatmulPrecision value) {
    return new CudaOptions(device, value, checkEveryLaunch);
  }

  public CudaOptions withCheckEveryLaunch(boolean value) {
    return new CudaOptions(device, precision, value);
  }
}
