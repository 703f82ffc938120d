package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.driver.CUresult;

/**
 * Whether this JVM can use a GPU at all: the JCuda native library loads, the CUDA driver
 * initialises and shows a device, and the jar carries the compiled kernels. Never throws.
 */
public final class CudaDevices {

  /** The answer, with the reason when there is none. */
  public record Probe(boolean usable, int deviceCount, String reason) {}

  private static Probe probe;

  private CudaDevices() {}

  /** Probes once per JVM: later calls return the first answer. */
  public static synchronized Probe probe() {
    if (probe == null) {
      probe = run();
    }
    return probe;
  }

  /** Initialises the driver; throws CudaException with the reason when no GPU is usable. */
  static void requireUsable() {
    Probe p = probe();
    if (!p.usable()) {
      throw new CudaException("no usable GPU: " + p.reason());
    }
  }

  private static Probe run() {
    if (!KernelModules.shipped()) {
      return new Probe(false, 0, "the compiled kernels (" + KernelModules.INDEX
          + ") are missing from the classpath; build kernels-jcuda with its CUDA step");
    }
    int result;
    try {
      result = cuInit(0);
    } catch (LinkageError e) {  // no libcuda, or no JCuda natives for this platform
      return new Probe(false, 0, whyNotLoaded(e));
    }
    if (result != CUresult.CUDA_SUCCESS) {
      return new Probe(false, 0, "cuInit failed: " + CUresult.stringFor(result));
    }
    int[] count = {0};
    result = cuDeviceGetCount(count);
    if (result != CUresult.CUDA_SUCCESS) {
      return new Probe(false, 0, "cuDeviceGetCount failed: " + CUresult.stringFor(result));
    }
    if (count[0] == 0) {
      return new Probe(false, 0, "the CUDA driver shows no device");
    }
    return new Probe(true, count[0], "");
  }

  /** JCuda's message holds both load attempts' stack traces; one line says enough. */
  private static String whyNotLoaded(LinkageError e) {
    String message = String.valueOf(e.getMessage());
    if (message.contains("libcuda.so")) {
      return "no NVIDIA driver on this machine: libcuda.so.1 cannot be loaded";
    }
    return "the JCuda native library could not be loaded ("
        + message.lines().findFirst().orElse(e.getClass().getSimpleName()) + ")";
  }
}
