package dev.calibra.model.cpu;

import static dev.calibra.model.backend.ShapeChecks.requireColumn;
import static dev.calibra.model.backend.ShapeChecks.requireGroupScaling;
import static dev.calibra.model.backend.ShapeChecks.requireRowVector;
import static dev.calibra.model.backend.ShapeChecks.requireSameShape;
import static dev.calibra.model.backend.ShapeChecks.requireShape;

import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.backend.WeightedSubVectors;
import java.util.Arrays;

/**
 * The pure-Java backend: float32 throughout, multi-threaded over rows or heads with
 * {@link Parallel}, matrix products through the blocked {@link Gemm}. It is the reference the
 * GPU backend is held to, so every op favours clarity where speed does not matter.
 */
public final class CpuBackend implements Backend {

  /** Query rows handled per attention tile: bounds the score buffer to tile × seqLen floats. */
  private static final int ATTENTION_TILE = 64;

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public Tensor zeros(int rows, int cols) {
    return new CpuTensor(rows, cols, new float[checkedSize(rows, cols)]);
  }

  @Override
  public Tensor upload(float[] values, int rows, int cols) {
    return new CpuTensor(rows, cols, values.clone());
  }

  @Override
  public float[] download(Tensor tensor) {
    return data(tensor).clone();
  }

  @Override
  public void copy(Tensor source, Tensor destination) {
    requireSameShape("copy", source, destination);
    System.arraycopy(data(source), 0, data(destination), 0, data(source).length);
  }

  @Override
  public void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c,
      boolean accumulate) {
    int m = transposeA ? a.cols() : a.rows();
    int k = transposeA ? a.rows() : a.cols();
    int kb = transposeB ? b.cols() : b.rows();
    int n = transposeB ? b.rows() : b.cols();
    if (k != kb || c.rows() != m || c.cols() != n) {
      throw new IllegalArgumentException("matmul shapes do not fit: " + a.shapeText()
          + (transposeA ? "ᵀ" : "") + " · " + b.shapeText() + (transposeB ? "ᵀ" : "") + " → "
          + c.shapeText());
    }
    Gemm.multiply(transposeA, transposeB, m, n, k, data(a), 0, a.cols(), data(b), 0, b.cols(),
        accumulate ? 1f : 0f, data(c), 0, c.cols());
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    requireSameShape("add", a, b);
    requireSameShape("add", a, out);
    float[] x = data(a);
    float[] y = data(b);
    float[] z = data(out);
    Parallel.forRange(x.length, 1 << 14, (start, end) -> {
      for (int i = start; i < end; i++) {
        z[i] = x[i] + y[i];
      }
    });
  }

  @Override
  public void addRowVector(Tensor x, Tensor bias) {
    requireRowVector("bias", bias, x.cols());
    float[] values = data(x);
    float[] b = data(bias);
    int cols = x.cols();
    Parallel.forRange(x.rows(), 64, (start, end) -> {
      for (int r = start; r < end; r++) {
        int base = r * cols;
        for (int c = 0; c < cols; c++) {
          values[base + c] += b[c];
        }
      }
    });
  }

  @Override
  public void accumulateColumnSums(Tensor x, Tensor sum) {
    requireRowVector("column sum", sum, x.cols());
    accumulateColumns(x, sum, false);
  }

  /** sum[c] += Σ_r x[r, c] (or x[r, c]² when {@code squares}), each column summed in double. */
  private void accumulateColumns(Tensor x, Tensor sum, boolean squares) {
    float[] values = data(x);
    float[] s = data(sum);
    int cols = x.cols();
    Parallel.forRange(cols, 64, (start, end) -> {
      for (int c = start; c < end; c++) {
        double total = 0;
        for (int r = 0; r < x.rows(); r++) {
          double v = values[r * cols + c];
          total += squares ? v * v : v;
        }
        s[c] += (float) total;
      }
    });
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor invRms) {
    requireRowVector("norm weight", weight, x.cols());
    requireSameShape("rmsNorm", x, out);
    requireColumn("invRms", invRms, x.rows());
    float[] in = data(x);
    float[] w = data(weight);
    float[] o = data(out);
    float[] inv = data(invRms);
    int cols = x.cols();
    Parallel.forRange(x.rows(), 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        int base = r * cols;
        double squares = 0;
        for (int c = 0; c < cols; c++) {
          squares += (double) in[base + c] * in[base + c];
        }
        float scale = (float) (1.0 / Math.sqrt(squares / cols + eps));
        inv[r] = scale;
        for (int c = 0; c < cols; c++) {
          o[base + c] = w[c] * (in[base + c] * scale);
        }
      }
    });
  }

  @Override
  public void rmsNormBackward(Tensor dOut, Tensor x, Tensor weight, Tensor invRms, Tensor dX,
      Tensor dWeight) {
    requireSameShape("rmsNormBackward", dOut, x);
    requireSameShape("rmsNormBackward", x, dX);
    float[] g = data(dOut);
    float[] in = data(x);
    float[] w = data(weight);
    float[] inv = data(invRms);
    float[] dx = data(dX);
    int cols = x.cols();
    // y = w ⊙ x·s with s = (mean(x²)+eps)^-½, so dx = s·(w⊙g) − s³/n · x · Σ(w⊙g⊙x).
    Parallel.forRange(x.rows(), 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        int base = r * cols;
        double dot = 0;
        for (int c = 0; c < cols; c++) {
          dot += (double) w[c] * g[base + c] * in[base + c];
        }
        double s = inv[r];
        float correction = (float) (s * s * s * dot / cols);
        for (int c = 0; c < cols; c++) {
          dx[base + c] = (float) (s * w[c] * g[base + c]) - correction * in[base + c];
        }
      }
    });
    if (dWeight != null) {
      requireRowVector("norm weight gradient", dWeight, cols);
      float[] dw = data(dWeight);
      Parallel.forRange(cols, 32, (start, end) -> {
        for (int c = start; c < end; c++) {
          double total = 0;
          for (int r = 0; r < x.rows(); r++) {
            total += (double) g[r * cols + c] * in[r * cols + c] * inv[r];
          }
          dw[c] += (float) total;
        }
      });
    }
  }

  @Override
  public void rotary(Tensor x, int headDim, int seqLen, Tensor cos, Tensor sin, boolean inverse) {
    int half = headDim / 2;
    if (x.cols() % headDim != 0 || headDim % 2 != 0) {
      throw new IllegalArgumentException("rotary: width " + x.cols()
          + " is not a whole number of heads of even width " + headDim);
    }
    if (cos.cols() != half || sin.cols() != half || cos.rows() < seqLen || sin.rows() < seqLen) {
      throw new IllegalArgumentException("rotary tables " + cos.shapeText() + " do not cover "
          + seqLen + " positions of head width " + headDim);
    }
    float[] values = data(x);
    float[] cosines = data(cos);
    float[] sines = data(sin);
    int cols = x.cols();
    float direction = inverse ? -1f : 1f;
    Parallel.forRange(x.rows(), 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        int table = (r % seqLen) * half;
        for (int head = 0; head < cols; head += headDim) {
          int base = r * cols + head;
          for (int i = 0; i < half; i++) {
            float c = cosines[table + i];
            float s = direction * sines[table + i];
            float first = values[base + i];
            float second = values[base + i + half];
            values[base + i] = first * c - second * s;
            values[base + i + half] = second * c + first * s;
          }
        }
      }
    });
  }

  @Override
  public void causalAttention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out,
      Tensor logSumExp) {
    AttentionLayout layout = AttentionLayout.of(shape, q, k, v);
    requireSameShape("attention output", q, out);
    requireShape("logSumExp", logSumExp, shape.tokens(), shape.numHeads());
    float[] qd = data(q);
    float[] kd = data(k);
    float[] vd = data(v);
    float[] od = data(out);
    float[] lse = data(logSumExp);
    int seqLen = shape.seqLen();
    int headDim = shape.headDim();
    Parallel.forRange(shape.batch() * shape.numHeads(), 1, (start, end) -> {
      float[] scores = new float[ATTENTION_TILE * seqLen];
      for (int task = start; task < end; task++) {
        int sequence = task / shape.numHeads();
        int head = task % shape.numHeads();
        int qOffset = layout.queryOffset(sequence, head);
        int kvOffset = layout.keyValueOffset(sequence, head / shape.groupSize());
        for (int i0 = 0; i0 < seqLen; i0 += ATTENTION_TILE) {
          int rows = Math.min(ATTENTION_TILE, seqLen - i0);
          int keys = i0 + rows;
          Gemm.multiply(false, true, rows, keys, headDim, qd, qOffset + i0 * layout.qStride(),
              layout.qStride(), kd, kvOffset, layout.kvStride(), 0f, scores, 0, keys);
          for (int r = 0; r < rows; r++) {
            int token = sequence * seqLen + i0 + r;
            lse[token * shape.numHeads() + head] =
                softmaxCausalRow(scores, r * keys, i0 + r + 1, keys, shape.scale());
          }
          Gemm.multiply(false, false, rows, headDim, keys, scores, 0, keys, vd, kvOffset,
              layout.kvStride(), 0f, od, qOffset + i0 * layout.qStride(), layout.qStride());
        }
      }
    });
  }

  /**
   * Turns raw scores[offset, offset+keys) into causal softmax probabilities in place: entries
   * past {@code visible} become 0. Returns the log-normaliser of the scaled scores.
   */
  private static float softmaxCausalRow(float[] scores, int offset, int visible, int keys,
      float scale) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < visible; j++) {
      max = Math.max(max, scores[offset + j] * scale);
    }
    double sum = 0;
    for (int j = 0; j < visible; j++) {
      float e = (float) Math.exp(scores[offset + j] * scale - max);
      scores[offset + j] = e;
      sum += e;
    }
    float inverse = (float) (1.0 / sum);
    for (int j = 0; j < visible; j++) {
      scores[offset + j] *= inverse;
    }
    Arrays.fill(scores, offset + visible, offset + keys, 0f);
    return (float) (max + Math.log(sum));
  }

  @Override
  public void causalAttentionBackward(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out,
      Tensor logSumExp, AttentionShape shape, Tensor dQ, Tensor dK, Tensor dV) {
    AttentionLayout layout = AttentionLayout.of(shape, q, k, v);
    requireSameShape("attention gradient", q, dOut);
    requireSameShape("attention gradient", q, dQ);
    requireSameShape("attention gradient", k, dK);
    requireSameShape("attention gradient", v, dV);
    float[] qd = data(q);
    float[] kd = data(k);
    float[] vd = data(v);
    float[] od = data(out);
    float[] gd = data(dOut);
    float[] lse = data(logSumExp);
    float[] dq = data(dQ);
    float[] dk = data(dK);
    float[] dv = data(dV);
    Arrays.fill(dk, 0f);
    Arrays.fill(dv, 0f);
    int seqLen = shape.seqLen();
    int headDim = shape.headDim();
    float scale = shape.scale();
    // One task per (sequence, key/value head): the query heads of a group all add into the same
    // dK and dV rows, so they run in one task and never race.
    Parallel.forRange(shape.batch() * shape.numKeyValueHeads(), 1, (start, end) -> {
      float[] probabilities = new float[ATTENTION_TILE * seqLen];
      float[] dScores = new float[ATTENTION_TILE * seqLen];
      for (int task = start; task < end; task++) {
        int sequence = task / shape.numKeyValueHeads();
        int kvHead = task % shape.numKeyValueHeads();
        int kvOffset = layout.keyValueOffset(sequence, kvHead);
        for (int head = kvHead * shape.groupSize(); head < (kvHead + 1) * shape.groupSize(); head++) {
          int qOffset = layout.queryOffset(sequence, head);
          for (int i0 = 0; i0 < seqLen; i0 += ATTENTION_TILE) {
            int rows = Math.min(ATTENTION_TILE, seqLen - i0);
            int keys = i0 + rows;
            int tileOffset = qOffset + i0 * layout.qStride();
            Gemm.multiply(false, true, rows, keys, headDim, qd, tileOffset, layout.qStride(), kd,
                kvOffset, layout.kvStride(), 0f, probabilities, 0, keys);
            Gemm.multiply(false, true, rows, keys, headDim, gd, tileOffset, layout.qStride(), vd,
                kvOffset, layout.kvStride(), 0f, dScores, 0, keys);
            for (int r = 0; r < rows; r++) {
              int token = sequence * seqLen + i0 + r;
              float logNorm = lse[token * shape.numHeads() + head];
              int rowOffset = r * keys;
              int visible = i0 + r + 1;
              int outOffset = tileOffset + r * layout.qStride();
              double rowDot = 0;
              for (int d = 0; d < headDim; d++) {
                rowDot += (double) gd[outOffset + d] * od[outOffset + d];
              }
              // dS = P ⊙ (dP − rowDot), pre-multiplied by the score scale for dQ and dK.
              for (int j = 0; j < visible; j++) {
                float p = (float) Math.exp(probabilities[rowOffset + j] * scale - logNorm);
                probabilities[rowOffset + j] = p;
                dScores[rowOffset + j] = scale * p * (dScores[rowOffset + j] - (float) rowDot);
              }
              Arrays.fill(probabilities, rowOffset + visible, rowOffset + keys, 0f);
              Arrays.fill(dScores, rowOffset + visible, rowOffset + keys, 0f);
            }
            Gemm.multiply(true, false, keys, headDim, rows, probabilities, 0, keys, gd, tileOffset,
                layout.qStride(), 1f, dv, kvOffset, layout.kvStride());
            Gemm.multiply(false, false, rows, headDim, keys, dScores, 0, keys, kd, kvOffset,
                layout.kvStride(), 0f, dq, tileOffset, layout.qStride());
            Gemm.multiply(true, false, keys, headDim, rows, dScores, 0, keys, qd, tileOffset,
                layout.qStride(), 1f, dk, kvOffset, layout.kvStride());
          }
        }
      }
    });
  }

  @Override
  public void swiglu(Tensor gate, Tensor up, Tensor out) {
    requireSameShape("swiglu", gate, up);
    requireSameShape("swiglu", gate, out);
    float[] g = data(gate);
    float[] u = data(up);
    float[] o = data(out);
    Parallel.forRange(g.length, 1 << 13, (start, end) -> {
      for (int i = start; i < end; i++) {
        o[i] = silu(g[i]) * u[i];
      }
    });
  }

  @Override
  public void swigluBackward(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
    requireSameShape("swigluBackward", gate, up);
    requireSameShape("swigluBackward", gate, dOut);
    requireSameShape("swigluBackward", gate, dGate);
    requireSameShape("swigluBackward", gate, dUp);
    float[] d = data(dOut);
    float[] g = data(gate);
    float[] u = data(up);
    float[] dg = data(dGate);
    float[] du = data(dUp);
    Parallel.forRange(g.length, 1 << 13, (start, end) -> {
      for (int i = start; i < end; i++) {
        float sigmoid = sigmoid(g[i]);
        du[i] = d[i] * g[i] * sigmoid;
        dg[i] = d[i] * u[i] * sigmoid * (1f + g[i] * (1f - sigmoid));
      }
    });
  }

  private static float sigmoid(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-x)));
  }

  private static float silu(float x) {
    return x * sigmoid(x);
  }

  @Override
  public void embed(Tensor table, int[] ids, Tensor out) {
    requireShape("embedding output", out, ids.length, table.cols());
    float[] t = data(table);
    float[] o = data(out);
    int cols = table.cols();
    for (int r = 0; r < ids.length; r++) {
      if (ids[r] < 0 || ids[r] >= table.rows()) {
        throw new IllegalArgumentException("token id " + ids[r] + " at position " + r
            + " is outside the vocabulary of " + table.rows());
      }
      System.arraycopy(t, ids[r] * cols, o, r * cols, cols);
    }
  }

  @Override
  public double[] crossEntropy(Tensor logits, int[] targets) {
    if (targets.length != logits.rows()) {
      throw new IllegalArgumentException(targets.length + " targets for " + logits.rows()
          + " rows of logits");
    }
    float[] values = data(logits);
    int cols = logits.cols();
    double[] nll = new double[targets.length];
    Parallel.forRange(targets.length, 8, (start, end) -> {
      for (int r = start; r < end; r++) {
        if (targets[r] < 0 || targets[r] >= cols) {
          throw new IllegalArgumentException("target " + targets[r] + " at row " + r
              + " is outside the vocabulary of " + cols);
        }
        int base = r * cols;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
          max = Math.max(max, values[base + c]);
        }
        double sum = 0;
        for (int c = 0; c < cols; c++) {
          sum += Math.exp(values[base + c] - max);
        }
        nll[r] = max + Math.log(sum) - values[base + targets[r]];
      }
    });
    return nll;
  }

  @Override
  public void fill(Tensor x, float value) {
    Arrays.fill(data(x), value);
  }

  @Override
  public void scale(Tensor x, float alpha) {
    float[] values = data(x);
    Parallel.forRange(values.length, 1 << 14, (start, end) -> {
      for (int i = start; i < end; i++) {
        values[i] *= alpha;
      }
    });
  }

  @Override
  public void fakeQuantizeWeights(LearnedWeightQuantization q, boolean hardRounding, Tensor out,
      Tensor scales, Tensor zeros) {
    q.requireOutputs(out, scales, zeros);
    CpuQuantizationOps.fakeQuantizeWeights(q, hardRounding, data(out),
        scales == null ? null : data(scales), zeros == null ? null : data(zeros));
  }

  @Override
  public void fakeQuantizeWeightsBackward(LearnedWeightQuantization q, Tensor dOut,
      Tensor dRounding, Tensor dClipLower, Tensor dClipUpper) {
    q.requireGradients(dOut, dRounding, dClipLower, dClipUpper);
    CpuQuantizationOps.fakeQuantizeWeightsBackward(q, data(dOut),
        dRounding == null ? null : data(dRounding), dClipLower == null ? null : data(dClipLower),
        dClipUpper == null ? null : data(dClipUpper));
  }

  @Override
  public double roundingRegularizer(LearnedWeightQuantization q, float beta, float weight,
      Tensor dRounding) {
    if (q.rounding() == null) {
      throw new IllegalArgumentException("the rounding regulariser needs a rounding tensor");
    }
    requireSameShape("rounding regulariser", q.rounding(), dRounding);
    return CpuQuantizationOps.roundingRegularizer(q, beta, weight, data(dRounding));
  }

  @Override
  public double squaredError(Tensor pred, Tensor target, float gradScale, Tensor dPred) {
    requireSameShape("squared error", pred, target);
    requireSameShape("squared error", pred, dPred);
    return CpuQuantizationOps.squaredError(data(pred), data(target), pred.rows(), pred.cols(),
        gradScale, data(dPred));
  }

  @Override
  public double softmaxKlDivergence(Tensor target, Tensor pred, float temperature,
      float gradScale, Tensor dPred) {
    requireSameShape("KL divergence", pred, target);
    requireSameShape("KL divergence", pred, dPred);
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("KL temperature must be positive, got " + temperature);
    }
    return CpuQuantizationOps.softmaxKlDivergence(data(target), data(pred), pred.rows(),
        pred.cols(), temperature, gradScale, data(dPred));
  }

  @Override
  public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, AdamStep step) {
    requireSameShape("Adam", param, grad);
    requireSameShape("Adam", param, m);
    requireSameShape("Adam", param, v);
    CpuQuantizationOps.adamUpdate(data(param), data(grad), data(m), data(v), step);
  }

  @Override
  public void fakeQuantizeActivations(Tensor x, int bits, float dropProbability, long seed,
      Tensor out) {
    requireSameShape("activation quantization", x, out);
    if (bits < 2 || bits > 16) {
      throw new IllegalArgumentException("activation bits must be in 2..16, got " + bits);
    }
    CpuQuantizationOps.fakeQuantizeActivations(data(x), x.rows(), x.cols(), bits,
        dropProbability, seed, data(out));
  }

  @Override
  public void columnAbsMax(Tensor x, Tensor runningMax) {
    requireRowVector("column maximum", runningMax, x.cols());
    CpuQuantizationOps.columnAbsMax(data(x), x.rows(), x.cols(), data(runningMax));
  }

  @Override
  public void scaleGroups(Tensor w, Tensor logScale, int groupSize, Tensor out) {
    requireGroupScaling("group scaling", w, out, logScale, groupSize);
    CpuQuantizationOps.scaleGroups(data(w), w.rows(), w.cols(), data(logScale), groupSize,
        data(out));
  }

  @Override
  public void scaleGroupsBackward(Tensor dOut, Tensor out, int groupSize, Tensor dLogScale) {
    requireGroupScaling("group scaling gradient", dOut, out, dLogScale, groupSize);
    CpuQuantizationOps.scaleGroupsBackward(data(dOut), data(out), out.rows(), out.cols(),
        groupSize, data(dLogScale));
  }

  @Override
  public void accumulateColumnSquares(Tensor x, Tensor sum) {
    requireRowVector("column squares", sum, x.cols());
    accumulateColumns(x, sum, true);
  }

  @Override
  public double nearestCodewords(WeightedSubVectors v, Tensor codebook, Tensor indices,
      int fixedPointExponent) {
    requireCodebook(codebook, v.dim());
    int n = indices.cols();
    requireShape("nearest codeword indices", indices, v.count(), n);
    return CpuVectorQuantizationOps.nearestCodewords(problem(v), data(codebook), data(indices), n,
        fixedPointExponent);
  }

  @Override
  public void updateCentroids(WeightedSubVectors v, Tensor assignment, Tensor codebook,
      int fixedPointExponent) {
    requireCodebook(codebook, v.dim());
    requireColumn("assignment", assignment, v.count());
    CpuVectorQuantizationOps.updateCentroids(problem(v), data(assignment), data(codebook),
        fixedPointExponent);
  }

  @Override
  public int kMeansPlusPlusStep(WeightedSubVectors v, int chosen, Tensor minDistance,
      int fixedPointExponent, double uniform) {
    requireColumn("k-means++ distances", minDistance, v.count());
    return CpuVectorQuantizationOps.kMeansPlusPlusStep(problem(v), chosen, data(minDistance),
        fixedPointExponent, uniform);
  }

  @Override
  public void softVqWeights(SoftVqAssignment a, Tensor out) {
    a.requireOutput(out);
    CpuVectorQuantizationOps.softWeights(assignment(a), data(out));
  }

  @Override
  public void softVqWeightsBackward(SoftVqAssignment a, Tensor dOut, Tensor dLogits,
      Tensor dCodebook) {
    a.requireGradients(dOut, dLogits, dCodebook);
    CpuVectorQuantizationOps.softWeightsBackward(assignment(a), data(dOut), data(dLogits),
        dCodebook == null ? null : data(dCodebook));
  }

  private static CpuVectorQuantizationOps.Problem problem(WeightedSubVectors v) {
    return new CpuVectorQuantizationOps.Problem(data(v.weight()), v.rows(), v.cols(), v.dim(),
        data(v.channelWeights()), v.rowWeights() == null ? null : data(v.rowWeights()));
  }

  private static CpuVectorQuantizationOps.Assignment assignment(SoftVqAssignment a) {
    return new CpuVectorQuantizationOps.Assignment(a.rows(), a.cols(), a.dim(),
        a.candidateCount(), data(a.candidates()), data(a.logits()), a.temperature(),
        data(a.codebook()), a.rowScales() == null ? null : data(a.rowScales()),
        a.useOffsets() == null ? null : data(a.useOffsets()),
        a.uses() == null ? null : data(a.uses()));
  }

  private static void requireCodebook(Tensor codebook, int dim) {
    if (codebook.cols() != dim || codebook.rows() < 1) {
      throw new IllegalArgumentException("codebook is " + codebook.shapeText() + ", expected "
          + "entries × " + dim);
    }
  }

  static float[] data(Tensor tensor) {
    if (tensor instanceof CpuTensor cpu) {
      return cpu.data;
    }
    throw new IllegalArgumentException("the CPU backend was given a " + tensor.getClass().getName());
  }

  private static int checkedSize(int rows, int cols) {
    long size = (long) rows * cols;
    if (rows < 0 || cols < 0 || size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("cannot allocate a " + rows + "×" + cols + " tensor");
    }
    return (int) size;
  }

}
