package dev.calibra.bench.cpu;

/**
 * The theoretical FP32 peak of the cores this JVM may use: cores × FLOP per cycle per core ×
 * clock, with the reasoning behind each factor kept for the report.
 */
public record PeakFlops(int cores, String coresSource, int flopsPerCycle, String flopsReason,
    double clockGhz, String clockSource) {

  /** FP32 GFLOP/s at peak; NaN when the clock is unknown. */
  public double gflops() {
    return clockGhz > 0 ? cores * flopsPerCycle * clockGhz : Double.NaN;
  }

  public static PeakFlops of(CpuFacts cpu) {
    int usable = Runtime.getRuntime().availableProcessors();
    int cores = Math.max(1, usable / cpu.threadsPerCore());
    String coresSource = usable + " logical CPUs available to the JVM"
        + (cpu.threadsPerCore() > 1
            ? ", " + cpu.threadsPerCore() + " hardware threads per core (siblings / cpu cores)"
            : ", one hardware thread per core");
    double ghz = cpu.averageMhz() / 1000;
    String clockSource = ghz > 0
        ? "average 'cpu MHz' of " + cpu.logicalCpus() + " CPUs in /proc/cpuinfo; boost clocks"
            + " above it are not counted"
        : "unknown: /proc/cpuinfo has no 'cpu MHz'";
    return new PeakFlops(cores, coresSource, flopsPerCycle(cpu), flopsReason(cpu), ghz,
        clockSource);
  }

  /** FP32 FLOP per cycle per core: FMA lanes issued per cycle × 2 (an FMA is two FLOP). */
  static int flopsPerCycle(CpuFacts cpu) {
    if (isZen1(cpu)) {
      return 16;
    }
    if (cpu.has("avx512f") && !isAmdBefore(cpu, 0x1A)) {
      return 64;
    }
    if (cpu.has("avx2") && cpu.has("fma")) {
      return 32;
    }
    return cpu.has("avx") ? 16 : 8;
  }

  static String flopsReason(CpuFacts cpu) {
    if (isZen1(cpu)) {
      return "AMD Zen 1/Zen+ (family 0x17, model < 0x30): two 128-bit FMA pipes, 256-bit AVX ops"
          + " split in halves, so 8 FP32 FMA lanes per cycle";
    }
    if (cpu.has("avx512f") && !isAmdBefore(cpu, 0x1A)) {
      return "AVX-512, assuming two 512-bit FMA units: 32 FP32 FMA lanes per cycle"
          + " (cores with one such unit reach half)";
    }
    if (cpu.has("avx2") && cpu.has("fma")) {
      return "AVX2 + FMA with two 256-bit FMA units (Intel Haswell+, AMD Zen 2+; Zen 4 runs"
          + " AVX-512 as two 256-bit halves): 16 FP32 FMA lanes per cycle";
    }
    return cpu.has("avx")
        ? "AVX without FMA: one 256-bit add and one 256-bit multiply per cycle"
        : "SSE: one 128-bit add and one 128-bit multiply per cycle";
  }

  private static boolean isZen1(CpuFacts cpu) {
    return cpu.vendor().equals("AuthenticAMD") && cpu.family() == 0x17 && cpu.model() < 0x30;
  }

  private static boolean isAmdBefore(CpuFacts cpu, int family) {
    return cpu.vendor().equals("AuthenticAMD") && cpu.family() < family;
  }
}
