package dev.calibra.model.llama;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs many token sequences through a model block by block: every sequence passes block i before
 * block i+1 is loaded, so only one block's weights are ever in memory (the way GPTQ-style tools
 * evaluate models larger than RAM). Hidden states of all sequences are kept between blocks;
 * sequences of equal length are batched up to {@code tokensPerBatch} tokens.
 */
public final class LayerwiseRunner {

  /** Receives the logits of sequence {@code sequence} for positions [firstPosition, +rows). */
  @FunctionalInterface
  public interface LogitsSink {
    void accept(int sequence, int firstPosition, Tensor logits);
  }

  /** Told when block {@code index} has processed every sequence. */
  @FunctionalInterface
  public interface BlockListener {
    void blockDone(int index, int numLayers, long nanos);
  }

  /** Rows of logits materialised at once: bounds memory for large vocabularies. */
  private static final int LOGIT_ROWS = 256;

  private final Backend backend;
  private final int tokensPerBatch;
  private final BlockListener listener;

  public LayerwiseRunner(Backend backend, int tokensPerBatch, BlockListener listener) {
    if (tokensPerBatch <= 0) {
      throw new IllegalArgumentException("tokensPerBatch must be positive, got " + tokensPerBatch);
    }
    this.backend = backend;
    this.tokensPerBatch = tokensPerBatch;
    this.listener = listener;
  }

  public Backend backend() {
    return backend;
  }

  public void run(LlamaWeightSource source, List<int[]> sequences, LogitsSink sink) {
    LlamaConfig config = source.config();
    int longest = sequences.stream().mapToInt(s -> s.length).max().orElse(0);
    if (longest == 0) {
      throw new IllegalArgumentException("no tokens to run");
    }
    List<Batch> batches = batch(sequences);
    Tensor embedding = source.embedding(backend);
    for (Batch b : batches) {
      b.hidden = backend.zeros(b.tokens(), config.hiddenSize());
      backend.embed(embedding, b.ids(sequences), b.hidden);
    }
    embedding.close(); // gives a large table's memory back before the blocks load

    RotaryTables rotary = RotaryTables.of(config, longest, backend);
    DecoderBlock block = new DecoderBlock(config, backend, rotary);
    for (int i = 0; i < config.numLayers(); i++) {
      long start = System.nanoTime();
      BlockWeights weights = source.block(i, backend);
      for (Batch b : batches) {
        BlockActivations a = block.forward(weights, b.hidden, block.shape(b.members.size(), b.seqLen),
            source.linearInputs(backend));
        a.releaseIntermediates();
        b.hidden.close();
        b.hidden = a.output();
      }
      release(weights);
      listener.blockDone(i, config.numLayers(), System.nanoTime() - start);
    }

    Tensor norm = source.finalNorm(backend);
    Tensor head = source.lmHead(backend);
    for (Batch b : batches) {
      Tensor normed = backend.zeros(b.tokens(), config.hiddenSize());
      Tensor invRms = backend.zeros(b.tokens(), 1);
      backend.rmsNorm(b.hidden, norm, config.rmsNormEps(), normed, invRms);
      b.hidden.close();
      b.hidden = null;
      invRms.close();
      float[] rows = backend.download(normed);
      normed.close();
      for (int m = 0; m < b.members.size(); m++) {
        for (int p = 0; p < b.seqLen; p += LOGIT_ROWS) {
          int count = Math.min(LOGIT_ROWS, b.seqLen - p);
          float[] slice = new float[count * config.hiddenSize()];
          System.arraycopy(rows, (m * b.seqLen + p) * config.hiddenSize(), slice, 0, slice.length);
          Tensor logits = backend.zeros(count, config.vocabSize());
          Tensor input = backend.upload(slice, count, config.hiddenSize());
          backend.matmul(input, false, head, true, logits, false);
          input.close();
          sink.accept(b.members.get(m), p, logits);
          logits.close();
        }
      }
    }
    norm.close();
    head.close();
    rotary.cos().close();
    rotary.sin().close();
  }

  /** Gives back a block's weights, which the source uploaded for this runner alone. */
  private static void release(BlockWeights weights) {
    weights.inputNorm().close();
    weights.postAttentionNorm().close();
    for (Linear linear : Linear.values()) {
      weights.weight(linear).close();
      Tensor bias = weights.bias(linear);
      if (bias != null) {
        bias.close();
      }
    }
  }

  private List<Batch> batch(List<int[]> sequences) {
    List<Batch> batches = new ArrayList<>();
    for (int s = 0; s < sequences.size(); s++) {
      int length = sequences.get(s).length;
      if (length == 0) {
        throw new IllegalArgumentException("sequence " + s + " is empty");
      }
      Batch open = null;
      for (Batch b : batches) {
        if (b.seqLen == length && (b.members.size() + 1) * length <= tokensPerBatch) {
          open = b;
        }
      }
      if (open == null) {
        open = new Batch(length);
        batches.add(open);
      }
      open.members.add(s);
    }
    return batches;
  }

  /** Sequences of one length that go through each block together. */
  private static final class Batch {
    final int seqLen;
    final List<Integer> members = new ArrayList<>();
    Tensor hidden;

    Batch(int seqLen) {
      this.seqLen = seqLen;
    }

    int tokens() {
      return members.size() * seqLen;
    }

    int[] ids(List<int[]> sequences) {
      int[] ids = new int[tokens()];
      for (int m = 0; m < members.size(); m++) {
        System.arraycopy(sequences.get(members.get(m)), 0, ids, m * seqLen, seqLen);
      }
      return ids;
    }
  }
}
