package dev.calibra.kernels.cuda;

/**
 * Says whether this machine can run the CUDA backend, and how it would run it:
 *
 * <pre>
 *   java -cp ... dev.calibra.kernels.cuda.CudaCheck [device]
 * </pre>
 * prints the device, the kernel modules and the time the driver took to load them, and the
 * start-up checks of the Hopper GEMM kernels; exits 1 when no GPU is usable.
 */
public final class CudaCheck {

  private CudaCheck() {}

  public static void main(String[] args) {
    CudaDevices.Probe probe = CudaDevices.probe();
    if (!probe.usable()) {
      System.out.println("no usable GPU: " + probe.reason());
      System.exit(1);
    }
    int device = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    try (CudaBackend backend = CudaBackend.open(CudaOptions.defaults().withDevice(device))) {
      System.out.println("GPU " + backend.description());
      System.out.println("kernel modules " + backend.kernels().moduleNames() + " loaded in "
          + backend.kernels().loadNanos() / 1_000_000 + " ms");
    }
  }
}
