package dev.calibra.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

class GpuAddressTest {

  @Test
  void theTasksFirstGpuAddressIsItsDeviceOrdinal() {
    assertEquals(OptionalInt.of(3), GpuAddress.of(Map.of("gpu",
        new ResourceInformation("gpu", new String[] {"3", "5"}))));
    assertEquals(OptionalInt.of(0), GpuAddress.parse(new String[] {" 0 "}));
  }

  @Test
  void aTaskWithoutGpusHasNone() {
    assertEquals(OptionalInt.empty(), GpuAddress.of(Map.of()));
    assertEquals(OptionalInt.empty(), GpuAddress.of(null));
    assertEquals(OptionalInt.empty(), GpuAddress.of(Map.of("gpu",
        new ResourceInformation("gpu", new String[0]))));
  }

  @Test
  void anAddressThatIsNoOrdinalIsRefusedWithTheReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GpuAddress.parse(new String[] {"GPU-8d3e6f"}));
    assertTrue(e.getMessage().contains("GPU-8d3e6f") && e.getMessage().contains("find-gpus"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GpuAddress.parse(new String[] {"-1"}));
  }
}
