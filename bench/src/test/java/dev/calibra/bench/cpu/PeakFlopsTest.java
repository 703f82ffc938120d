package dev.calibra.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The peak derivation on /proc/cpuinfo excerpts of a few processor generations. */
class PeakFlopsTest {

  /** Two logical CPUs with the given identity, clocks 1990 and 2010 MHz. */
  private static CpuFacts cpu(String vendor, int family, int model, String flags, int siblings,
      int cores) {
    List<String> lines = new ArrayList<>();
    for (int processor = 0; processor < 2; processor++) {
      lines.add("processor\t: " + processor);
      lines.add("vendor_id\t: " + vendor);
      lines.add("cpu family\t: " + family);
      lines.add("model\t\t: " + model);
      lines.add("model name\t: test CPU");
      lines.add("cpu MHz\t\t: " + (processor == 0 ? "1990.000" : "2010.000"));
      lines.add("siblings\t: " + siblings);
      lines.add("cpu cores\t: " + cores);
      lines.add("flags\t\t: fpu sse sse2 " + flags);
      lines.add("");
    }
    return CpuFacts.parse(lines);
  }

  @Test
  void parsesIdentityClockAndThreadsPerCore() {
    CpuFacts facts = cpu("AuthenticAMD", 23, 1, "avx avx2 fma", 4, 2);
    assertEquals("test CPU", facts.modelName());
    assertEquals(0x17, facts.family());
    assertEquals(2, facts.logicalCpus());
    assertEquals(2, facts.threadsPerCore());
    assertEquals(2000.0, facts.averageMhz(), 1e-9);
  }

  @Test
  void zen1HasHalfTheFmaWidthOfOtherAvx2Cores() {
    assertEquals(16, PeakFlops.flopsPerCycle(cpu("AuthenticAMD", 0x17, 0x01, "avx avx2 fma", 2,
        2)));
    assertEquals(32, PeakFlops.flopsPerCycle(cpu("AuthenticAMD", 0x17, 0x31, "avx avx2 fma", 2,
        2)));
    assertEquals(32, PeakFlops.flopsPerCycle(cpu("GenuineIntel", 6, 0x3f, "avx avx2 fma", 2,
        2)));
  }

  @Test
  void avx512CountsDoubleExceptOnZen4() {
    assertEquals(64, PeakFlops.flopsPerCycle(cpu("GenuineIntel", 6, 0x55,
        "avx avx2 fma avx512f", 2, 2)));
    assertEquals(32, PeakFlops.flopsPerCycle(cpu("AuthenticAMD", 0x19, 0x61,
        "avx avx2 fma avx512f", 2, 2)));
  }

  @Test
  void withoutFmaOnlyAddAndMultiplyPipesCount() {
    assertEquals(16, PeakFlops.flopsPerCycle(cpu("GenuineIntel", 6, 0x2a, "avx", 2, 2)));
    assertEquals(8, PeakFlops.flopsPerCycle(cpu("GenuineIntel", 6, 0x1a, "", 2, 2)));
  }
}
