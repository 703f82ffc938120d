package dev.calibra.bench;

import dev.calibra.bench.cpu.CpuFacts;
import dev.calibra.bench.cpu.FmaThroughput;
import dev.calibra.bench.cpu.PeakFlops;
import dev.calibra.model.cpu.Gemm;
import dev.calibra.model.cpu.Parallel;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Entry {@code cpu-gemm}: the FP32 GEMM of the CPU backend on the shapes the LLM code issues,
 * SIMD kernel next to scalar kernel, as GFLOP/s and as a share of the machine's derived peak.
 */
public final class CpuGemmBenchmark {

  private static final String ENTRY = "cpu-gemm";

  /** The /proc/cpuinfo flags the peak derivation looks at. */
  private static final List<String> VECTOR_FLAGS = List.of("avx", "avx2", "fma", "avx512f");

  /**
   * The FMA check and every shape are measured in each of several sweeps and their best kept:
   * spreading the rounds over the run keeps a burst of other work on the machine from spoiling
   * all of them.
   */
  private static final int SWEEPS = 3;
  private static final int FMA_ROUNDS = 2;

  /** Rounds per sweep: SIMD rounds are cheap, scalar ones take seconds on the big shapes. */
  private static final int SIMD_ROUNDS = 2;
  private static final int SCALAR_ROUNDS = 1;
  private static final double WARMUP_SECONDS = 0.5;
  private static final double MIN_ROUND_SECONDS = 0.1;
  private static final double JIT_WARMUP_SECONDS = 2;

  /** One product to time, named after where the model code issues it. */
  record Shape(String name, boolean transA, boolean transB, int m, int n, int k) {
    String op() {
      return (transA ? "Aᵀ" : "A") + "·" + (transB ? "Bᵀ" : "B");
    }
  }

  private static final List<Shape> SHAPES = List.of(
      new Shape("square", false, false, 2048, 2048, 2048),
      new Shape("forward x·Wᵀ, 288→768", false, true, 2048, 768, 288),
      new Shape("logits x·Wᵀ, vocab 32000", false, true, 512, 32000, 288),
      new Shape("forward x·Wᵀ, 4096→4096", false, true, 512, 4096, 4096),
      new Shape("input grad dY·W", false, false, 2048, 288, 768),
      new Shape("weight grad dYᵀ·X", true, false, 768, 288, 2048),
      new Shape("both transposed", true, true, 768, 288, 2048),
      new Shape("attention tile Q·Kᵀ", false, true, 64, 256, 64),
      new Shape("tiny model head", false, true, 8, 48, 8));

  record KernelResult(double gflops, double percentOfPeak, double secondsPerCall) {}

  record Row(String shape, String op, int m, int n, int k, KernelResult simd,
      KernelResult scalar, double simdOverScalar) {}

  record Machine(String cpu, String vendor, int family, int model, List<String> vectorFlags,
      int logicalCpus, int gemmThreads, double cpuMhz, String java) {}

  /**
   * The measured FMA rate, also expressed as FLOP per cycle at the derived clock, and as the
   * clock that the derived FLOP per cycle would need to reach it.
   */
  record FmaCheck(String method, int threads, double gflops, double percentOfPeak,
      double flopsPerCyclePerCore, double impliedClockGhz) {}

  record Results(String entry, String measuredAt, Machine machine, PeakFlops peak,
      double peakGflops, FmaCheck fmaThroughput, List<Row> rows) {}

  private CpuGemmBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0) {
      System.err.println("usage: bench/run " + ENTRY + "   (takes no arguments)");
      System.exit(2);
    }
    if (Gemm.defaultKernel() != Gemm.Kernel.SIMD) {
      System.err.println("the SIMD kernel needs --add-modules jdk.incubator.vector; use bench/run");
      System.exit(2);
    }
    CpuFacts cpu = CpuFacts.read();
    PeakFlops peak = PeakFlops.of(cpu);
    List<String> vectorFlags = VECTOR_FLAGS.stream().filter(cpu::has).toList();
    Machine machine = new Machine(cpu.modelName(), cpu.vendor(), cpu.family(), cpu.model(),
        vectorFlags, cpu.logicalCpus(), Parallel.threads(), cpu.averageMhz(),
        System.getProperty("java.vm.name") + " " + Runtime.version());
    printPeak(machine, peak);
    Measurements best = measure(peak);
    FmaCheck fma = fmaCheck(best.fmaGflops(), peak);
    printFma(fma, peak);
    List<Row> rows = rows(best, peak);
    printRows(rows);

    Path file = ResultFile.write(ENTRY, new Results(ENTRY, Instant.now().toString(), machine,
        peak, peak.gflops(), fma, rows));
    System.out.println();
    System.out.println("Results written to " + file);
  }

  /** Best FMA rate and best seconds per call of each shape, SIMD and scalar, over all sweeps. */
  record Measurements(double fmaGflops, double[] simdSeconds, double[] scalarSeconds) {}

  private static Measurements measure(PeakFlops peak) throws InterruptedException {
    System.err.println("warming up the JIT...");
    warmUpJit();
    List<Operands> operands = new ArrayList<>();
    for (Shape shape : SHAPES) {
      operands.add(new Operands(shape, new Random(42)));
    }
    double fmaGflops = 0;
    double[] simdSeconds = new double[SHAPES.size()];
    double[] scalarSeconds = new double[SHAPES.size()];
    Arrays.fill(simdSeconds, Double.POSITIVE_INFINITY);
    Arrays.fill(scalarSeconds, Double.POSITIVE_INFINITY);
    for (int sweep = 0; sweep < SWEEPS; sweep++) {
      System.err.printf("sweep %d of %d...%n", sweep + 1, SWEEPS);
      fmaGflops = Math.max(fmaGflops, FmaThroughput.gflops(peak.cores(), FMA_ROUNDS));
      double warmup = sweep == 0 ? WARMUP_SECONDS : 0;
      for (int s = 0; s < SHAPES.size(); s++) {
        simdSeconds[s] = Math.min(simdSeconds[s],
            operands.get(s).secondsPerCall(Gemm.Kernel.SIMD, warmup, SIMD_ROUNDS));
        scalarSeconds[s] = Math.min(scalarSeconds[s],
            operands.get(s).secondsPerCall(Gemm.Kernel.SCALAR, warmup, SCALAR_ROUNDS));
      }
    }
    return new Measurements(fmaGflops, simdSeconds, scalarSeconds);
  }

  private static FmaCheck fmaCheck(double gflops, PeakFlops peak) {
    int threads = peak.cores();
    return new FmaCheck("Vector API, 12 independent FMA chains per thread on registers",
        threads, gflops, percent(gflops, peak), gflops / threads / peak.clockGhz(),
        gflops / threads / peak.flopsPerCycle());
  }

  private static List<Row> rows(Measurements best, PeakFlops peak) {
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < SHAPES.size(); s++) {
      Shape shape = SHAPES.get(s);
      KernelResult simd = result(shape, best.simdSeconds()[s], peak);
      KernelResult scalar = result(shape, best.scalarSeconds()[s], peak);
      rows.add(new Row(shape.name(), shape.op(), shape.m(), shape.n(), shape.k(), simd, scalar,
          simd.gflops() / scalar.gflops()));
    }
    return rows;
  }

  private static void printPeak(Machine machine, PeakFlops peak) {
    System.out.printf("CPU: %s (%s family 0x%x model 0x%x; %s), %d logical CPUs; %s%n",
        machine.cpu(), machine.vendor(), machine.family(), machine.model(),
        String.join(" ", machine.vectorFlags()), machine.logicalCpus(), machine.java());
    System.out.println("GEMM threads (Parallel.threads()): " + machine.gemmThreads());
    System.out.println("Peak FP32 = cores × FLOP/cycle/core × clock");
    System.out.printf("  cores            %d   (%s)%n", peak.cores(), peak.coresSource());
    System.out.printf("  FLOP/cycle/core  %d  (%s)%n", peak.flopsPerCycle(),
        peak.flopsReason());
    System.out.printf("  clock            %.3f GHz (%s)%n", peak.clockGhz(),
        peak.clockSource());
    System.out.printf("  peak             %.1f GFLOP/s%n%n", peak.gflops());
  }

  private static void printFma(FmaCheck fma, PeakFlops peak) {
    System.out.printf("Measured FMA throughput (%s, %d threads, one per core):%n"
        + "  %.1f GFLOP/s = %.0f%% of peak = %.1f FLOP/cycle/core at %.3f GHz,%n"
        + "  or %d FLOP/cycle/core at an effective clock of %.2f GHz%n%n",
        fma.method(), fma.threads(), fma.gflops(), fma.percentOfPeak(),
        fma.flopsPerCyclePerCore(), peak.clockGhz(), peak.flopsPerCycle(),
        fma.impliedClockGhz());
  }

  private static void printRows(List<Row> rows) {
    Table table = new Table("shape", "op", "m", "n", "k", "SIMD GFLOP/s", "SIMD % peak",
        "scalar GFLOP/s", "scalar % peak", "SIMD/scalar");
    for (Row row : rows) {
      table.row(row.shape(), row.op(), row.m(), row.n(), row.k(),
          String.format("%.1f", row.simd().gflops()),
          String.format("%.0f%%", row.simd().percentOfPeak()),
          String.format("%.1f", row.scalar().gflops()),
          String.format("%.0f%%", row.scalar().percentOfPeak()),
          String.format("%.1fx", row.simdOverScalar()));
    }
    System.out.printf("GEMM C = op(A)·op(B), FP32, row-major; best of %d sweeps × %d (SIMD) or %d"
        + " (scalar) rounds after warm-up:%n", SWEEPS, SIMD_ROUNDS, SCALAR_ROUNDS);
    table.print(System.out);
  }

  /**
   * Until C2 compiles the kernels, Vector API calls run as slow Java fallbacks; a few seconds on
   * a mid-size product keeps that out of the first shape's warm-up.
   */
  private static void warmUpJit() {
    Operands operands = new Operands(new Shape("warm-up", false, true, 192, 192, 192),
        new Random(0));
    for (Gemm.Kernel kernel : Gemm.Kernel.values()) {
      long end = System.nanoTime() + (long) (JIT_WARMUP_SECONDS * 1e9);
      while (System.nanoTime() < end) {
        operands.multiply(kernel);
      }
    }
  }

  private static KernelResult result(Shape shape, double seconds, PeakFlops peak) {
    double gflops = 2.0 * shape.m() * shape.n() * shape.k() / seconds / 1e9;
    return new KernelResult(gflops, percent(gflops, peak), seconds);
  }

  private static double percent(double gflops, PeakFlops peak) {
    return 100 * gflops / peak.gflops();
  }

  /** Random A and B for a shape, stored as the transpositions ask, and the C they fill. */
  private static final class Operands {
    private final Shape shape;
    private final float[] a;
    private final float[] b;
    private final float[] c;

    Operands(Shape shape, Random random) {
      this.shape = shape;
      this.a = random(random, shape.m() * shape.k());
      this.b = random(random, shape.k() * shape.n());
      this.c = new float[shape.m() * shape.n()];
    }

    double secondsPerCall(Gemm.Kernel kernel, double warmupSeconds, int rounds) {
      return BestTime.secondsPerCall(() -> multiply(kernel), warmupSeconds, rounds,
          MIN_ROUND_SECONDS);
    }

    void multiply(Gemm.Kernel kernel) {
      int lda = shape.transA() ? shape.m() : shape.k();
      int ldb = shape.transB() ? shape.k() : shape.n();
      Gemm.multiply(kernel, shape.transA(), shape.transB(), shape.m(), shape.n(), shape.k(), a,
          0, lda, b, 0, ldb, 0f, c, 0, shape.n());
    }

    private static float[] random(Random random, int count) {
      float[] values = new float[count];
      for (int i = 0; i < count; i++) {
        values[i] = 2 * random.nextFloat() - 1;
      }
      return values;
    }
  }
}
