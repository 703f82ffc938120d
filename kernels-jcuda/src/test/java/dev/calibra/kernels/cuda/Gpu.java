package dev.calibra.kernels.cuda;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The GPU the parity tests run on: device {@code calibra.cuda.device} (default 0). Tests call
 * {@link #assumeAvailable()} first, so that without a GPU they report as skipped, not passed.
 */
final class Gpu {

  private static final Map<MatmulPrecision, CudaBackend> BACKENDS = new EnumMap<>(MatmulPrecision.class);

  private Gpu() {}

  static void assumeAvailable() {
    CudaDevices.Probe probe = CudaDevices.probe();
    Assumptions.assumeTrue(probe.usable(), () -> "no usable GPU: " + probe.reason());
  }

  /**
   * A backend that checks every kernel launch, so a failing kernel is named by its test; one per
   * precision, shared by the tests of this JVM.
   */
  static synchronized CudaBackend backend(MatmulPrecision precision) {
    return BACKENDS.computeIfAbsent(precision, p -> CudaBackend.open(CudaOptions.defaults()
        .withDevice(Integer.getInteger("calibra.cuda.device", 0)).withPrecision(p)
        .withCheckEveryLaunch(true)));
  }
}
