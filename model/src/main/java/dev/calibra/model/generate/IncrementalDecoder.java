package dev.calibra.model.generate;

import dev.calibra.model.cpu.Gemm;
import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.llama.LlamaConfig;

/**
 * A float model run one position at a time for a batch of sequences, on the CPU in float32,
 * keeping the keys and values of every earlier position (a KV cache). Sampling needs this: the
 * backends' block forward recomputes the whole prefix, which costs a sample of n tokens n²/2
 * token passes instead of n.
 */
final class IncrementalDecoder {

  private final LlamaConfig config;
  private final int batch;
  private final int capacity;
  private final HostWeights.Layer[] layers;
  private final float[] embedding;
  private final float[] finalNorm;
  private final float[] lmHead;
  private final float[] cos;
  private final float[] sin;
  /** Per layer: [batch, capacity, keyValueWidth]. */
  private final float[][] keys;
  private final float[][] values;
  private int position;

  /**
   * @param batch sequences decoded side by side
   * @param capacity the most positions each sequence will reach (at most the model's context)
   */
  IncrementalDecoder(HostWeights weights, int batch, int capacity) {
    this.config = weights.config();
    if (capacity > config.maxPositions()) {
      throw new IllegalArgumentException(capacity + " positions exceed the model's context of "
          + config.maxPositions());
    }
    this.batch = batch;
    this.capacity = capacity;
    layers = weights.layers();
    embedding = weights.embedding();
    finalNorm = weights.finalNorm();
    lmHead = weights.lmHead();
    int half = config.headDim() / 2;
    cos = new float[capacity * half];
    sin = new float[capacity * half];
    for (int i = 0; i < half; i++) {
      double frequency = config.rope().inverseFrequency(i, config.headDim());
      for (int p = 0; p < capacity; p++) {
        cos[p * half + i] = (float) Math.cos(p * frequency);
        sin[p * half + i] = (float) Math.sin(p * frequency);
      }
    }
    keys = new float[layers.length][batch * capacity * config.keyValueWidth()];
    values = new float[layers.length][batch * capacity * config.keyValueWidth()];
  }

  /**
   * Feeds one token per sequence at the next position and returns the logits there,
   * [batch, vocab] row-major.
   */
  float[] next(int[] tokens) {
    if (tokens.length != batch) {
      throw new IllegalArgumentException("expected " + batch + " tokens, got " + tokens.length);
    }
    if (position == capacity) {
      throw new IllegalStateException("all " + capacity + " positions are decoded");
    }
    int hidden = config.hiddenSize();
    float[] x = new float[batch * hidden];
    for (int b = 0; b < batch; b++) {
      if (tokens[b] < 0 || tokens[b] >= config.vocabSize()) {
        throw new IllegalArgumentException("token " + tokens[b] + " outside the vocabulary");
      }
      System.arraycopy(embedding, tokens[b] * hidden, x, b * hidden, hidden);
    }
    for (int l = 0; l < layers.length; l++) {
      block(l, x);
    }
    float[] normed = rmsNorm(x, finalNorm);
    float[] logits = linear(normed, lmHead, config.vocabSize(), hidden, null);
    position++;
    return logits;
  }

  private void block(int index, float[] x) {
    HostWeights.Layer layer = layers[index];
    int hidden = config.hiddenSize();
    int kvWidth = config.keyValueWidth();
    float[] h = rmsNorm(x, layer.inputNorm());
    float[] q = linear(h, layer.q(), config.queryWidth(), hidden, layer.qBias());
    float[] k = linear(h, layer.k(), kvWidth, hidden, layer.kBias());
    float[] v = linear(h, layer.v(), kvWidth, hidden, layer.vBias());
    rotate(q, config.numHeads());
    rotate(k, config.numKeyValueHeads());
    for (int b = 0; b < batch; b++) {
      int slot = (b * capacity + position) * kvWidth;
      System.arraycopy(k, b * kvWidth, keys[index], slot, kvWidth);
      System.arraycopy(v, b * kvWidth, values[index], slot, kvWidth);
    }
    float[] attended = attend(index, q);
    addInto(x, linear(attended, layer.o(), hidden, config.queryWidth(), null));
    float[] m = rmsNorm(x, layer.postAttentionNorm());
    int width = config.intermediateSize();
    float[] gate = linear(m, layer.gate(), width, hidden, null);
    float[] up = linear(m, layer.up(), width, hidden, null);
    for (int i = 0; i < gate.length; i++) {
      float g = gate[i];
      gate[i] = g / (1 + (float) Math.exp(-g)) * up[i];
    }
    addInto(x, linear(gate, layer.down(), hidden, width, null));
  }

  /**
   * Causal attention of this position's queries over the cached positions 0 … position, the
   * sequences of the batch in parallel (on many cores the products no longer dominate).
   */
  private float[] attend(int index, float[] q) {
    int headDim = config.headDim();
    int kvWidth = config.keyValueWidth();
    int group = config.numHeads() / config.numKeyValueHeads();
    float scale = (float) (1 / Math.sqrt(headDim));
    float[] layerKeys = keys[index];
    float[] layerValues = values[index];
    float[] out = new float[batch * config.queryWidth()];
    Parallel.forRange(batch, 1, (start, end) -> {
      float[] scores = new float[position + 1];
      for (int b = start; b < end; b++) {
        for (int head = 0; head < config.numHeads(); head++) {
          int qBase = b * config.queryWidth() + head * headDim;
          int kvOffset = (head / group) * headDim;
          float max = Float.NEGATIVE_INFINITY;
          for (int p = 0; p <= position; p++) {
            int kBase = (b * capacity + p) * kvWidth + kvOffset;
            float dot = 0;
            for (int i = 0; i < headDim; i++) {
              dot += q[qBase + i] * layerKeys[kBase + i];
            }
            scores[p] = dot * scale;
            max = Math.max(max, scores[p]);
          }
          float sum = 0;
          for (int p = 0; p <= position; p++) {
            scores[p] = (float) Math.exp(scores[p] - max);
            sum += scores[p];
          }
          for (int p = 0; p <= position; p++) {
            float weight = scores[p] / sum;
            int vBase = (b * capacity + p) * kvWidth + kvOffset;
            for (int i = 0; i < headDim; i++) {
              out[qBase + i] += weight * layerValues[vBase + i];
            }
          }
        }
      }
    });
    return out;
  }

  /** Rotary embedding at this position, Hugging Face's convention (pairs i and i + half). */
  private void rotate(float[] x, int heads) {
    int headDim = config.headDim();
    int half = headDim / 2;
    int table = position * half;
    for (int b = 0; b < batch; b++) {
      for (int head = 0; head < heads; head++) {
        int base = (b * heads + head) * headDim;
        for (int i = 0; i < half; i++) {
          float first = x[base + i];
          float second = x[base + i + half];
          float c = cos[table + i];
          float s = sin[table + i];
          x[base + i] = first * c - second * s;
          x[base + i + half] = second * c + first * s;
        }
      }
    }
  }

  private float[] rmsNorm(float[] x, float[] gain) {
    int cols = gain.length;
    float[] out = new float[x.length];
    for (int r = 0; r < batch; r++) {
      double squares = 0;
      for (int c = 0; c < cols; c++) {
        squares += (double) x[r * cols + c] * x[r * cols + c];
      }
      float inverse = (float) (1 / Math.sqrt(squares / cols + config.rmsNormEps()));
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = gain[c] * (x[r * cols + c] * inverse);
      }
    }
    return out;
  }

  /** x · Wᵀ (+ bias) for the batch: x is [batch, in], W is [out, in]. */
  private float[] linear(float[] x, float[] weight, int out, int in, float[] bias) {
    float[] y = new float[batch * out];
    Gemm.multiply(false, true, batch, out, in, x, 0, in, weight, 0, in, 0f, y, 0, out);
    if (bias != null) {
      for (int b = 0; b < batch; b++) {
        for (int i = 0; i < out; i++) {
          y[b * out + i] += bias[i];
        }
      }
    }
    return y;
  }

  private static void addInto(float[] x, float[] delta) {
    for (int i = 0; i < x.length; i++) {
      x[i] += delta[i];
    }
  }
}
