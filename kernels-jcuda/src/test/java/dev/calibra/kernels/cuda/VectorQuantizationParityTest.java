package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.calibration.vq.CodebookFitter;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.IndexTensors;
import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.backend.WeightedSubVectors;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.Linear;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The vector-quantization ops against the CPU backend. Codebook fitting is exact by design: the
 * kernels repeat the CPU's float operations (fused multiply-adds where it calls Math.fma) and sum
 * across sub-vectors in fixed point, so nearest codewords, objectives, centroids, k-means++ draws
 * and column squares must match bit for bit (tolerance 0), and so must a whole fit on a real
 * layer. The soft assignment takes a double exp, which may differ in the last bit from Java's:
 * 1e-6 for its weights and gradients.
 */
class VectorQuantizationParityTest {

  private final CpuBackend cpu = new CpuBackend();
  private final Random random = new Random(7);
  private CudaBackend gpu;

  @BeforeEach
  void gpu() {
    Gpu.assumeAvailable();
    gpu = Gpu.backend(MatmulPrecision.FP32);
  }

  @Test
  void columnSquaresAreExact() {
    float[] x = gaussian(random, 700 * 300, 2);
    float[] start = gaussian(random, 300, 1);
    Tensor onCpu = cpu.upload(start, 1, 300);
    Tensor onGpu = gpu.upload(start, 1, 300);
    cpu.accumulateColumnSquares(cpu.upload(x, 700, 300), onCpu);
    gpu.accumulateColumnSquares(gpu.upload(x, 700, 300), onGpu);
    Parity.check("accumulateColumnSquares", "700×300", gpu.download(onGpu), cpu.download(onCpu),
        0);
  }

  @Test
  void nearestCodewordsAndCentroidsAreExact() {
    for (int dim : new int[] {2, 4, 8}) {
      for (boolean rowWeights : new boolean[] {false, true}) {
        int rows = 1100;
        int cols = 24 * dim;
        int entries = 300;
        String variant = rows + "×" + cols + " d" + dim + " " + entries + " entries"
            + (rowWeights ? ", row weights" : "");
        Problem p = new Problem(rows, cols, dim, rowWeights);
        float[] codebook = gaussian(random, entries * dim, 1);
        for (int n : new int[] {1, 4}) {
          Tensor cpuIndices = cpu.zeros(p.count(), n);
          Tensor gpuIndices = gpu.zeros(p.count(), n);
          int exponent = 30;
          double expected = cpu.nearestCodewords(p.on(cpu), cpu.upload(codebook, entries, dim),
              cpuIndices, exponent);
          double actual = gpu.nearestCodewords(p.on(gpu), gpu.upload(codebook, entries, dim),
              gpuIndices, exponent);
          Parity.report("nearestCodewords", variant + " n " + n, "objective difference",
              Math.abs(actual - expected), 0);
          assertEquals(expected, actual, variant + " n " + n + ": objective");
          assertArrayEquals(IndexTensors.download(cpu, cpuIndices),
              IndexTensors.download(gpu, gpuIndices), variant + " n " + n + ": indices");
          if (n == 1) {
            Tensor cpuBook = cpu.upload(codebook, entries, dim);
            Tensor gpuBook = gpu.upload(codebook, entries, dim);
            cpu.updateCentroids(p.on(cpu), cpuIndices, cpuBook, 24);
            gpu.updateCentroids(p.on(gpu), gpuIndices, gpuBook, 24);
            Parity.check("updateCentroids", variant, gpu.download(gpuBook),
                cpu.download(cpuBook), 0);
          }
        }
      }
    }
  }

  @Test
  void kMeansPlusPlusStepsAreExact() {
    Problem p = new Problem(3000, 64, 8, true);
    Tensor cpuDistance = cpu.zeros(p.count(), 1);
    Tensor gpuDistance = gpu.zeros(p.count(), 1);
    cpu.fill(cpuDistance, Float.POSITIVE_INFINITY);
    gpu.fill(gpuDistance, Float.POSITIVE_INFINITY);
    int chosenCpu = 17;
    int chosenGpu = 17;
    for (int step = 0; step < 20; step++) {
      double uniform = random.nextDouble();
      chosenCpu = cpu.kMeansPlusPlusStep(p.on(cpu), chosenCpu, cpuDistance, 20, uniform);
      chosenGpu = gpu.kMeansPlusPlusStep(p.on(gpu), chosenGpu, gpuDistance, 20, uniform);
      assertEquals(chosenCpu, chosenGpu, "step " + step + ": drawn sub-vector");
    }
    Parity.check("kMeansPlusPlusStep", "3000×64 d8, 20 steps, distances",
        gpu.download(gpuDistance), cpu.download(cpuDistance), 0);
  }

  @Test
  void softAssignmentAndGradientsMatch() {
    int rows = 300;
    int cols = 96;
    int dim = 4;
    int entries = 64;
    int n = 3;
    int count = rows * cols / dim;
    int[] candidates = new int[count * n];
    for (int i = 0; i < candidates.length; i++) {
      candidates[i] = random.nextInt(entries);
    }
    float[] logits = gaussian(random, count * n, 2);
    float[] codebook = gaussian(random, entries * dim, 1);
    float[] scales = gaussian(random, rows, 1);
    float[] dOut = gaussian(random, rows * cols, 1);
    float[] startLogits = gaussian(random, count * n, 0.1);
    float[] startBook = gaussian(random, entries * dim, 0.1);
    int[][] uses = SoftVqAssignment.codewordUses(candidates, entries);
    float[][] results = new float[2][];
    float[][] logitGradients = new float[2][];
    float[][] bookGradients = new float[2][];
    Backend[] backends = {cpu, gpu};
    for (int k = 0; k < 2; k++) {
      Backend b = backends[k];
      SoftVqAssignment a = new SoftVqAssignment(rows, cols, dim,
          IndexTensors.upload(b, candidates, count, n), b.upload(logits, count, n), 0.7f,
          b.upload(codebook, entries, dim), b.upload(scales, rows, 1),
          IndexTensors.upload(b, uses[0], 1, entries + 1),
          IndexTensors.upload(b, uses[1], 1, uses[1].length));
      Tensor out = b.zeros(rows, cols);
      b.softVqWeights(a, out);
      Tensor dLogits = b.upload(startLogits, count, n);
      Tensor dBook = b.upload(startBook, entries, dim);
      b.softVqWeightsBackward(a, b.upload(dOut, rows, cols), dLogits, dBook);
      results[k] = b.download(out);
      logitGradients[k] = b.download(dLogits);
      bookGradients[k] = b.download(dBook);
    }
    Parity.check("softVqWeights", "300×96 d4 n3", results[1], results[0], 1e-6);
    Parity.check("softVqWeightsBackward", "logits", logitGradients[1], logitGradients[0], 1e-6);
    Parity.check("softVqWeightsBackward", "codebook", bookGradients[1], bookGradients[0], 1e-6);
  }

  /**
   * A whole weighted k-means fit of a real layer (dict-llama-15M block 0's up_proj, 768×288, cut
   * into sub-vectors of 4, 256 codewords, row scales): the GPU and the CPU fit the same codebook
   * with the same objectives, iteration by iteration.
   */
  @Test
  void codebookFitsOfARealLayerAgree() throws Exception {
    Assumptions.assumeTrue(SharedModel.exists("dict-llama-15M"), "no shared dict-llama-15M model");
    SharedModel model = SharedModel.open("dict-llama-15M");
    Tensor weight = model.block(0, cpu).weight(Linear.UP);
    float[] w = cpu.download(weight);
    int rows = weight.rows();
    int cols = weight.cols();
    float[] channelWeights = new float[cols];
    for (int c = 0; c < cols; c++) {
      channelWeights[c] = 0.5f + random.nextFloat(); // a damped diagonal of XᵀX, normalised
    }
    float[] rowWeights = new float[rows];
    for (int r = 0; r < rows; r++) {
      rowWeights[r] = 0.5f + random.nextFloat();
    }
    CodebookFitter.Limits limits = new CodebookFitter.Limits(10, -1);
    CodebookFitter.Fit onCpu = CodebookFitter.fit(cpu, w, rows, cols, 4, 256, channelWeights,
        rowWeights, 3, limits);
    CodebookFitter.Fit onGpu = CodebookFitter.fit(gpu, w, rows, cols, 4, 256, channelWeights,
        rowWeights, 3, limits);
    Parity.check("CodebookFitter", "dict-llama-15M up_proj d4 k8, 10 iterations, codebook",
        onGpu.codebook(), onCpu.codebook(), 0);
    Parity.report("CodebookFitter", "objectives", "largest relative difference",
        largestRelativeDifference(onGpu.objectives(), onCpu.objectives()), 0);
    assertArrayEquals(onCpu.objectives(), onGpu.objectives(), "objectives");
    assertArrayEquals(onCpu.assignment(), onGpu.assignment(), "assignment");
  }

  private static double largestRelativeDifference(double[] a, double[] b) {
    double worst = 0;
    for (int i = 0; i < Math.min(a.length, b.length); i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-300));
    }
    return a.length == b.length ? worst : Double.POSITIVE_INFINITY;
  }

  /** Random sub-vectors with positive channel (and optionally row) weights. */
  private final class Problem {
    final float[] x;
    final float[] h;
    final float[] f;
    final int rows;
    final int cols;
    final int dim;

    Problem(int rows, int cols, int dim, boolean rowWeights) {
      this.rows = rows;
      this.cols = cols;
      this.dim = dim;
      x = gaussian(random, rows * cols, 1);
      h = new float[cols];
      for (int c = 0; c < cols; c++) {
        h[c] = 0.01f + random.nextFloat() * 3;
      }
      f = rowWeights ? new float[rows] : null;
      for (int r = 0; f != null && r < rows; r++) {
        f[r] = 0.1f + random.nextFloat();
      }
    }

    int count() {
      return rows * (cols / dim);
    }

    WeightedSubVectors on(Backend b) {
      return new WeightedSubVectors(b.upload(x, rows, cols), dim, b.upload(h, 1, cols),
          f == null ? null : b.upload(f, rows, 1));
    }
  }
}
