package dev.calibra.bench.cuda;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What entry {@code cuda} times, read from bench/cuda/workload.json, which torch_reference.py
 * reads too: both sides time exactly the same products and window.
 */
public record Workload(List<Gemm> gemm, Window window) {

  /** c[m][n] = op(a)·op(b), named after where a decoder block issues it. */
  public record Gemm(String name, int m, int n, int k, boolean transposeA, boolean transposeB) {
    public String form() {
      return (transposeA ? "Aᵀ" : "A") + "·" + (transposeB ? "Bᵀ" : "B");
    }

    public double flops() {
      return 2.0 * m * n * k;
    }
  }

  /** A window of decoder blocks trained on batch × seqLen tokens. */
  public record Window(int blocks, int batch, int seqLen, int hidden, int intermediate, int heads,
      int kvHeads, int headDim, double ropeTheta, double rmsNormEps) {
    public int tokens() {
      return batch * seqLen;
    }
  }

  public static Workload read(Path file) throws IOException {
    return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
        .readValue(file.toFile(), Workload.class);
  }
}
