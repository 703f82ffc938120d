package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every GEMM kernel in every transpose form, with and without accumulation, on shapes with
 * ragged edges in m, n and k, against the CPU backend's fp32 GEMM.
 *
 * <p>Tolerance, per element, from the rounding the kernels do: bf16 keeps 8 significant bits, so
 * rounding to nearest moves each input by ≤ 2^-8 of itself, a product by ≤ 2^-7 of |a||b| and the
 * sum by ≤ 2^-7 · Σ_k |a_ik||b_kj|; both sides then sum in fp32 (≤ k·2^-24 · Σ|a||b| each). The
 * fp32 kernel has only the summation term. The bound is rigorous, so any failure is a bug. Over
 * the whole matrix, ‖gpu − cpu‖ / ‖Σ_k |a||b|‖ must also stay under 1e-2 for bf16 (about 1e-3 is
 * typical: random rounding errors partly cancel) and 1e-5 for fp32; the magnitudes, not the
 * result, are the scale, since the result can cancel to nothing.
 */
class MatmulParityTest {

  private record Shape(int m, int n, int k) {}

  private static final List<Shape> SHAPES = List.of(new Shape(1, 1, 1), new Shape(17, 33, 65),
      new Shape(130, 257, 100), new Shape(256, 512, 192), new Shape(301, 259, 1031),
      new Shape(200, 1100, 64));

  @Test
  void everyKernelFormAndEdgeMatchesTheCpu() {
    Gpu.assumeAvailable();
    List<String> failures = new ArrayList<>();
    Random random = new Random(1);
    for (MatmulPrecision precision : MatmulPrecision.values()) {
      CudaBackend gpu = Gpu.backend(precision);
      for (Matmul.Kernel kernel : kernels(gpu)) {
        for (Shape shape : SHAPES) {
          for (int form = 0; form < 4; form++) {
            for (boolean accumulate : new boolean[] {false, true}) {
              try {
                compare(gpu, kernel, shape, (form & 1) != 0, (form & 2) != 0, accumulate, random);
              } catch (AssertionError | RuntimeException e) {
                failures.add(e.getMessage());
              }
            }
          }
        }
      }
    }
    Parity.failIfAny(failures);
  }

  /** The backend's own choice of kernel, on a product large enough for the Hopper kernel. */
  @Test
  void largeProductThroughTheBackendMatchesTheCpu() {
    Gpu.assumeAvailable();
    CudaBackend gpu = Gpu.backend(MatmulPrecision.BF16);
    compare(gpu, null, new Shape(2048, 4096, 512), false, true, false, new Random(2));
  }

  private static List<Matmul.Kernel> kernels(CudaBackend gpu) {
    if (gpu.precision() == MatmulPrecision.FP32) {
      return List.of(Matmul.Kernel.FP32);
    }
    List<Matmul.Kernel> kernels = new ArrayList<>(List.of(Matmul.Kernel.MMA));
    String forced = System.getProperty("calibra.cuda.gemm", "auto");
    if (!forced.equals("auto")) {
      kernels.add(Matmul.Kernel.byLabel(forced));  // a run that excludes the other kernels
    } else if (gpu.device().isHopper()) {
      kernels.add(Matmul.Kernel.WGMMA);  // tested directly, whatever its start-up check said
    }
    return kernels.stream().distinct().toList();
  }

  /** kernel null: through {@link CudaBackend#matmul}. */
  private static void compare(CudaBackend gpu, Matmul.Kernel kernel, Shape s, boolean transposeA,
      boolean transposeB, boolean accumulate, Random random) {
    CpuBackend cpu = new CpuBackend();
    int aRows = transposeA ? s.k() : s.m();
    int aCols = transposeA ? s.m() : s.k();
    int bRows = transposeB ? s.n() : s.k();
    int bCols = transposeB ? s.k() : s.n();
    float[] a = gaussian(random, aRows * aCols, 1);
    float[] b = gaussian(random, bRows * bCols, 1);
    float[] c = gaussian(random, s.m() * s.n(), 1);

    Tensor expected = cpu.upload(c, s.m(), s.n());
    cpu.matmul(cpu.upload(a, aRows, aCols), transposeA, cpu.upload(b, bRows, bCols), transposeB,
        expected, accumulate);
    Tensor magnitude = cpu.zeros(s.m(), s.n());
    cpu.matmul(cpu.upload(abs(a), aRows, aCols), transposeA, cpu.upload(abs(b), bRows, bCols),
        transposeB, magnitude, false);

    try (CudaTensor ga = (CudaTensor) gpu.upload(a, aRows, aCols);
        CudaTensor gb = (CudaTensor) gpu.upload(b, bRows, bCols);
        CudaTensor gc = (CudaTensor) gpu.upload(c, s.m(), s.n())) {
      if (kernel == null) {
        gpu.matmul(ga, transposeA, gb, transposeB, gc, accumulate);
      } else {
        gpu.matmulKernels().multiply(kernel, ga, transposeA, gb, transposeB, gc, accumulate);
      }
      float[] actual = gpu.download(gc);
      float[] sums = cpu.download(magnitude);
      double inputRounding = gpu.precision() == MatmulPrecision.BF16 ? Math.scalb(1.0, -7) : 0;
      double summation = 2.0 * s.k() * Math.scalb(1.0, -24);
      double[] bound = new double[sums.length];
      for (int i = 0; i < bound.length; i++) {
        double carried = accumulate ? Math.abs(c[i]) * Math.scalb(1.0, -23) : 0;
        bound[i] = (inputRounding + summation) * sums[i] + carried + 1e-30;
      }
      String via = kernel == null ? "backend→" + gpu.matmulKernels().choose(s.m(), s.n()) : kernel.name();
      String variant = String.format("%s %s %dx%dx%d%s", via,
          (transposeA ? "Aᵀ" : "A") + "·" + (transposeB ? "Bᵀ" : "B"), s.m(), s.n(), s.k(),
          accumulate ? " +=" : "");
      float[] reference = cpu.download(expected);
      Parity.checkBound("matmul", variant, actual, reference, bound);
      double difference = 0;
      double scale = 0;
      for (int i = 0; i < reference.length; i++) {
        difference += Math.pow((double) actual[i] - reference[i], 2);
        scale += Math.pow(sums[i] + (accumulate ? Math.abs(c[i]) : 0), 2);
      }
      double relative = Math.sqrt(difference / scale);
      double tolerance = gpu.precision() == MatmulPrecision.BF16 ? 1e-2 : 1e-5;
      Parity.report("matmul", variant, "error/‖|A||B|‖", relative, tolerance);
      if (!(relative <= tolerance)) {
        throw new AssertionError(variant + ": error " + relative + " of the magnitudes exceeds " + tolerance);
      }
    }
  }

  private static float[] abs(float[] values) {
    float[] result = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = Math.abs(values[i]);
    }
    return result;
  }
}
