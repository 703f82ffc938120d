package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The memory-bound ops against the CPU backend. Tolerances: copies, sums of two values and
 * lookups are exact (0). Rotations may differ by the GPU's fused multiply-adds: 1e-6 relative.
 * SwiGLU uses expf (≤ 2 ulp) where the CPU rounds a double exponential: 1e-6. Column sums add
 * in double on both sides and round once: 1e-6.
 */
class ElementwiseParityTest {

  private final CpuBackend cpu = new CpuBackend();
  private final Random random = new Random(3);
  private CudaBackend gpu;

  @BeforeEach
  void gpu() {
    Gpu.assumeAvailable();
    gpu = Gpu.backend(MatmulPrecision.BF16);
  }

  @Test
  void uploadDownloadCopyAndZerosAreExact() {
    float[] values = gaussian(random, 1001, 1);
    Tensor t = gpu.upload(values, 7, 143);
    assertArrayEquals(values, gpu.download(t));
    Tensor copy = gpu.zeros(7, 143);
    assertArrayEquals(new float[1001], gpu.download(copy));
    gpu.copy(t, copy);
    assertArrayEquals(values, gpu.download(copy));
    Parity.report("upload/download/copy/zeros", "7×143", "exact", 0, 0);
    t.close();
    assertThrows(IllegalStateException.class, () -> gpu.download(t));
    copy.close();
  }

  @Test
  void addIsExactAlsoInPlace() {
    float[] a = gaussian(random, 1003, 1);
    float[] b = gaussian(random, 1003, 1);
    Tensor ca = cpu.upload(a, 17, 59);
    cpu.add(ca, cpu.upload(b, 17, 59), ca);
    Tensor ga = gpu.upload(a, 17, 59);
    gpu.add(ga, gpu.upload(b, 17, 59), ga);
    Parity.check("add", "17×59 in place", gpu.download(ga), cpu.download(ca), 0);
  }

  @Test
  void addRowVectorAndColumnSums() {
    float[] x = gaussian(random, 1000 * 37, 1);
    float[] bias = gaussian(random, 37, 1);
    float[] start = gaussian(random, 37, 1);
    Tensor cx = cpu.upload(x, 1000, 37);
    Tensor gx = gpu.upload(x, 1000, 37);
    cpu.addRowVector(cx, cpu.upload(bias, 1, 37));
    gpu.addRowVector(gx, gpu.upload(bias, 1, 37));
    Parity.check("addRowVector", "1000×37", gpu.download(gx), cpu.download(cx), 0);

    Tensor cs = cpu.upload(start, 1, 37);
    Tensor gs = gpu.upload(start, 1, 37);
    cpu.accumulateColumnSums(cx, cs);
    gpu.accumulateColumnSums(gx, gs);
    Parity.check("accumulateColumnSums", "1000×37 onto a start value", gpu.download(gs),
        cpu.download(cs), 1e-6);
  }

  @Test
  void swigluForwardAndBackward() {
    int n = 5003;
    float[] gate = gaussian(random, n, 3);
    float[] up = gaussian(random, n, 1);
    float[] dOut = gaussian(random, n, 1);
    Tensor cOut = cpu.zeros(1, n);
    Tensor gOut = gpu.zeros(1, n);
    cpu.swiglu(cpu.upload(gate, 1, n), cpu.upload(up, 1, n), cOut);
    gpu.swiglu(gpu.upload(gate, 1, n), gpu.upload(up, 1, n), gOut);
    Parity.check("swiglu", "5003", gpu.download(gOut), cpu.download(cOut), 1e-6);

    Tensor cdg = cpu.zeros(1, n);
    Tensor cdu = cpu.zeros(1, n);
    Tensor gdg = gpu.zeros(1, n);
    Tensor gdu = gpu.zeros(1, n);
    cpu.swigluBackward(cpu.upload(dOut, 1, n), cpu.upload(gate, 1, n), cpu.upload(up, 1, n), cdg, cdu);
    gpu.swigluBackward(gpu.upload(dOut, 1, n), gpu.upload(gate, 1, n), gpu.upload(up, 1, n), gdg, gdu);
    Parity.check("swigluBackward", "dGate", gpu.download(gdg), cpu.download(cdg), 1e-6);
    Parity.check("swigluBackward", "dUp", gpu.download(gdu), cpu.download(cdu), 1e-6);
  }

  /** Head width 16 takes the kernel's four-pairs-per-thread path, 6 (3 pairs) the one-pair path. */
  @Test
  void rotaryBothDirections() {
    int seqLen = 50;
    for (int headDim : new int[] {16, 6}) {
      int half = headDim / 2;
      int rows = 2 * seqLen;
      int cols = 4 * headDim;
      float[] x = gaussian(random, rows * cols, 1);
      float[] cos = new float[64 * half];
      float[] sin = new float[cos.length];
      for (int i = 0; i < cos.length; i++) {
        double angle = random.nextDouble() * 2 * Math.PI;
        cos[i] = (float) Math.cos(angle);
        sin[i] = (float) Math.sin(angle);
      }
      for (boolean inverse : new boolean[] {false, true}) {
        Tensor cx = cpu.upload(x, rows, cols);
        Tensor gx = gpu.upload(x, rows, cols);
        cpu.rotary(cx, headDim, seqLen, cpu.upload(cos, 64, half), cpu.upload(sin, 64, half),
            inverse);
        gpu.rotary(gx, headDim, seqLen, gpu.upload(cos, 64, half), gpu.upload(sin, 64, half),
            inverse);
        Parity.check("rotary", (inverse ? "inverse" : "forward") + " d" + headDim,
            gpu.download(gx), cpu.download(cx), 1e-6);
      }
    }
  }

  @Test
  void embedIsExactAndChecksIds() {
    float[] table = gaussian(random, 100 * 24, 1);
    int[] ids = new int[77];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(100);
    }
    Tensor cOut = cpu.zeros(77, 24);
    Tensor gOut = gpu.zeros(77, 24);
    cpu.embed(cpu.upload(table, 100, 24), ids, cOut);
    Tensor gTable = gpu.upload(table, 100, 24);
    gpu.embed(gTable, ids, gOut);
    Parity.check("embed", "77 ids of 100", gpu.download(gOut), cpu.download(cOut), 0);
    assertThrows(IllegalArgumentException.class, () -> gpu.embed(gTable, new int[] {100}, gpu.zeros(1, 24)));
  }
}
