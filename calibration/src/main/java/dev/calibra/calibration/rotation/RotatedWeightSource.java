package dev.calibra.calibration.rotation;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * A model computing exactly what {@code source} computes, in a rotated basis (QuaRot's and
 * SpinQuant's rotations that fold into the weights, R1 and R2): the residual stream h becomes
 * h·Q for an orthogonal Q, and each value head's output v becomes v·P for an orthogonal P.
 * Rotations spread the weights of every row over all its columns, so that a few large weights
 * no longer set a group's range for the rest: on stories260K CBQ W4 g32 goes from perplexity
 * 55.5 to 50.6; on dict-llama-15M, whose weights are even already, it does not pay
 * (calibration/CBQ.md).
 *
 * <p>RMSNorm commutes with Q (it divides by the norm, which Q keeps) but not with its gain, so
 * each norm's gain g is folded into the layers that read it first (W·diag(g)) and the norms
 * become all ones. What is folded, with W in the [out, in] layout:
 * <ul>
 *   <li>embedding E → E·Q; q, k, v, gate, up: W → W·diag(g)·Q;
 *   <li>o and down write into the stream: W → Qᵀ·W;
 *   <li>v's rows of each key/value head → Pᵀ·rows (its bias likewise), o's columns of each query
 *       head → columns·P;
 *   <li>the output projection → H·diag(g_final)·Q. It differs from the rotated embedding, so a
 *       model with tied embeddings gets an output projection of its own
 *       ({@link LlamaConfig#withUntiedEmbeddings}): one more vocab×hidden table in the artifact.
 * </ul>
 *
 * <p>The arithmetic runs on a CPU backend in float32 whatever backend the caller gives, so that
 * every machine (a Spark task on a GPU, one on a CPU) gets the same bits.
 */
public final class RotatedWeightSource implements LlamaWeightSource {

  private final LlamaWeightSource source;
  private final LlamaConfig config;
  private final CpuBackend cpu = new CpuBackend();
  private final long seed;
  // Made on first use: a caller that wants only the config (the Spark job's part metadata) does
  // not pay for a hidden × hidden matrix.
  private float[] residual;
  private float[] valueHead;

  /** {@code source} rotated by matrices drawn from {@code seed} ({@link RandomOrthogonal}). */
  public RotatedWeightSource(LlamaWeightSource source, long seed) {
    this.source = source;
    this.config = source.config().withUntiedEmbeddings();
    this.seed = seed;
  }

  private float[] residual() {
    if (residual == null) {
      residual = RandomOrthogonal.of(config.hiddenSize(), seed);
    }
    return residual;
  }

  private float[] valueHead() {
    if (valueHead == null) {
      // A seed of its own, so that P is not a corner of Q when the widths share factors.
      valueHead = RandomOrthogonal.of(config.headDim(), ~seed);
    }
    return valueHead;
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  public Tensor embedding(Backend backend) {
    return timesResidual(source.embedding(cpu), null, backend);
  }

  @Override
  public Tensor lmHead(Backend backend) {
    return timesResidual(source.lmHead(cpu), values(source.finalNorm(cpu)), backend);
  }

  @Override
  public Tensor finalNorm(Backend backend) {
    return ones(backend);
  }

  @Override
  public LinearInputQuantizer linearInputs(Backend backend) {
    return source.linearInputs(backend);
  }

  @Override
  public BlockWeights block(int index, Backend backend) {
    BlockWeights original = source.block(index, cpu);
    float[] attentionGain = values(original.inputNorm());
    float[] mlpGain = values(original.postAttentionNorm());
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      Tensor w = original.weight(linear);
      float[] rotated = switch (linear) {
        case Q, K -> timesResidual(w, attentionGain);
        case V -> valueHeadRows(timesResidual(w, attentionGain), w.cols());
        case GATE, UP -> timesResidual(w, mlpGain);
        case O -> residualTransposedTimes(queryHeadColumns(values(w), w.rows(), w.cols()),
            w.rows(), w.cols());
        case DOWN -> residualTransposedTimes(values(w), w.rows(), w.cols());
      };
      weights.put(linear, backend.upload(rotated, w.rows(), w.cols()));
      Tensor bias = original.bias(linear);
      if (bias != null) {
        // A bias is added to the layer's outputs: only the value heads' rotation moves it.
        float[] b = linear == Linear.V ? valueHeadRows(values(bias), 1) : values(bias);
        biases.put(linear, backend.upload(b, 1, bias.cols()));
      }
    }
    return new BlockWeights(config, ones(backend), ones(backend), weights, biases);
  }

  /** W·diag(gain)·Q for W of [rows, hidden] (no gain: null), uploaded to {@code backend}. */
  private Tensor timesResidual(Tensor w, float[] gain, Backend backend) {
    return backend.upload(timesResidual(w, gain), w.rows(), w.cols());
  }

  private float[] timesResidual(Tensor w, float[] gain) {
    float[] scaled = values(w);
    if (gain != null) {
      for (int i = 0; i < scaled.length; i++) {
        scaled[i] *= gain[i % gain.length];
      }
    }
    return residualTimes(scaled, w.rows());
  }

  /** Qᵀ·W for W of [hidden, cols]. */
  private float[] residualTransposedTimes(float[] w, int rows, int cols) {
    Tensor q = cpu.upload(residual(), rows, rows);
    Tensor c = cpu.zeros(rows, cols);
    cpu.matmul(q, true, cpu.upload(w, rows, cols), false, c, false);
    return cpu.download(c);
  }

  /** A·Q for A of [rows, hidden]. */
  private float[] residualTimes(float[] a, int rows) {
    int hidden = config.hiddenSize();
    Tensor c = cpu.zeros(rows, hidden);
    Tensor q = cpu.upload(residual(), hidden, hidden);
    cpu.matmul(cpu.upload(a, rows, hidden), false, q, false, c, false);
    return cpu.download(c);
  }

  /**
   * Each key/value head's rows r (headDim of them, {@code cols} wide) replaced by Pᵀ·r, so that
   * the head's output v becomes v·P.
   */
  private float[] valueHeadRows(float[] w, int cols) {
    int headDim = config.headDim();
    float[] valueHead = valueHead();
    float[] out = new float[w.length];
    for (int head = 0; head < w.length / (headDim * cols); head++) {
      int base = head * headDim * cols;
      for (int i = 0; i < headDim; i++) {
        for (int k = 0; k < headDim; k++) {
          float p = valueHead[k * headDim + i];
          for (int c = 0; c < cols; c++) {
            out[base + i * cols + c] += p * w[base + k * cols + c];
          }
        }
      }
    }
    return out;
  }

  /** o's columns of each query head multiplied by P, undoing the value heads' rotation. */
  private float[] queryHeadColumns(float[] w, int rows, int cols) {
    int headDim = config.headDim();
    float[] valueHead = valueHead();
    float[] out = new float[w.length];
    for (int r = 0; r < rows; r++) {
      for (int head = 0; head < cols / headDim; head++) {
        int base = r * cols + head * headDim;
        for (int k = 0; k < headDim; k++) {
          float x = w[base + k];
          for (int j = 0; j < headDim; j++) {
            out[base + j] += x * valueHead[k * headDim + j];
          }
        }
      }
    }
    return out;
  }

  private float[] values(Tensor tensor) {
    return cpu.download(tensor);
  }

  private Tensor ones(Backend backend) {
    float[] ones = new float[config.hiddenSize()];
    Arrays.fill(ones, 1f);
    return backend.upload(ones, 1, ones.length);
  }
}
