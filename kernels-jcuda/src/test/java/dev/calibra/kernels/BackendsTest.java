package dev.calibra.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.kernels.cuda.CudaDevices;
import dev.calibra.kernels.cuda.CudaException;
import dev.calibra.kernels.cuda.CudaOptions;
import org.junit.jupiter.api.Test;

class BackendsTest {

  @Test
  void choicesParse() {
    assertEquals(Backends.Choice.AUTO, Backends.Choice.parse("Auto"));
    assertEquals(Backends.Choice.CPU, Backends.Choice.parse("cpu"));
    assertEquals(Backends.Choice.CUDA, Backends.Choice.parse("CUDA"));
    assertThrows(IllegalArgumentException.class, () -> Backends.Choice.parse("gpu"));
  }

  @Test
  void cpuIsAlwaysThere() {
    try (Backends.Selected selected = Backends.open(Backends.Choice.CPU, CudaOptions.defaults())) {
      assertEquals("cpu", selected.backend().name());
    }
  }

  @Test
  void autoTakesTheGpuWhenUsableAndSaysWhy() {
    try (Backends.Selected selected = Backends.open(Backends.Choice.AUTO, CudaOptions.defaults())) {
      CudaDevices.Probe probe = CudaDevices.probe();
      assertEquals(probe.usable() ? "cuda" : "cpu", selected.backend().name());
      assertTrue(selected.description().startsWith("auto: "), selected.description());
      if (!probe.usable()) {
        assertTrue(selected.description().contains(probe.reason()), selected.description());
      }
    }
  }

  @Test
  void cudaWithoutAGpuFailsLoudly() {
    if (!CudaDevices.probe().usable()) {
      assertThrows(CudaException.class, () -> Backends.open(Backends.Choice.CUDA, CudaOptions.defaults()));
    }
  }
}
