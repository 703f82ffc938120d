package dev.calibra.calibration;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.ArrayList;
import java.util.List;

/** Calibration samples as the hidden states at block 0: their token embeddings, in batches. */
public final class CalibrationBatches {

  private CalibrationBatches() {}

  /**
   * The samples' token embeddings, {@code batchSize} whole samples per batch
   * (batch·length rows × hidden), in the samples' order.
   */
  public static List<Tensor> embed(Backend backend, LlamaWeightSource source,
      List<int[]> samples, int batchSize) {
    int seqLen = sampleLength(samples, source.config());
    Tensor table = source.embedding(backend);
    List<Tensor> batches = new ArrayList<>();
    for (int first = 0; first < samples.size(); first += batchSize) {
      int count = Math.min(batchSize, samples.size() - first);
      int[] ids = new int[count * seqLen];
      for (int s = 0; s < count; s++) {
        System.arraycopy(samples.get(first + s), 0, ids, s * seqLen, seqLen);
      }
      Tensor x = backend.zeros(ids.length, table.cols());
      backend.embed(table, ids, x);
      batches.add(x);
    }
    table.close();
    return batches;
  }

  /** The one length all samples share, checked against what the model takes. */
  public static int sampleLength(List<int[]> samples, LlamaConfig config) {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("calibration needs samples, got none");
    }
    int length = samples.get(0).length;
    for (int i = 0; i < samples.size(); i++) {
      if (samples.get(i).length != length) {
        throw new IllegalArgumentException("calibration samples must have one length: sample 0 has "
            + length + " tokens, sample " + i + " has " + samples.get(i).length);
      }
    }
    if (length < 2 || length > config.maxPositions()) {
      throw new IllegalArgumentException("calibration samples of " + length + " tokens: the model "
          + "takes 2 to " + config.maxPositions());
    }
    return length;
  }
}
