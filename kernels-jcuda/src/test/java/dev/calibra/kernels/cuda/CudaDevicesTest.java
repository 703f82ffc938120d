package dev.calibra.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What a machine without a usable GPU sees: a reason, never a crash. */
class CudaDevicesTest {

  @Test
  void withoutAGpuOpeningFailsWithTheReason() {
    CudaDevices.Probe probe = CudaDevices.probe();
    Assumptions.assumeFalse(probe.usable(), "this machine has a usable GPU");
    assertFalse(probe.reason().isEmpty());
    CudaException e = assertThrows(CudaException.class, () -> CudaBackend.open(CudaOptions.defaults()));
    assertTrue(e.getMessage().contains(probe.reason()), e.getMessage());
  }

  @Test
  void withAGpuTheBackendDescribesIt() {
    Gpu.assumeAvailable();
    CudaBackend gpu = Gpu.backend(MatmulPrecision.BF16);
    System.out.println("GPU " + gpu.description() + "; kernel modules "
        + gpu.kernels().moduleNames() + " loaded in " + gpu.kernels().loadNanos() / 1_000_000 + " ms");
    assertTrue(gpu.description().contains(gpu.device().name()));
  }
}
