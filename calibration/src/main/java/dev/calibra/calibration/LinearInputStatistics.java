package dev.calibra.calibration;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import java.util.List;

/**
 * A statistic of the activations at the four places a block's linear layers read from (the
 * normed input for q, k, v; the attention output for o_proj; the normed residual for gate, up;
 * the SwiGLU output for down_proj), gathered by running the float block over a set of
 * calibration inputs: what CFP's activation maxima, VQ's second moments (one value a channel)
 * and GPTQ's Gram matrices (channels × channels) are made of.
 */
public final class LinearInputStatistics {

  /** Folds one activation matrix into the statistic's running value, {@link #rows} × columns. */
  public interface Reduction {
    void accumulate(Backend backend, Tensor activations, Tensor running);

    /** Rows of the running value for activations of {@code channels} columns: one by default. */
    default int rows(int channels) {
      return 1;
    }
  }

  private LinearInputStatistics() {}

  /**
   * Runs the float block over {@code inputs} (batches of whole samples of {@code seqLen} tokens)
   * and reduces each place's activations, starting from zeros.
   *
   * @return the attention input's, the output projection input's, the MLP input's and the down
   *     projection input's statistic, in that order
   */
  public static float[][] collect(DecoderBlock block, BlockWeights weights, List<Tensor> inputs,
      int seqLen, Reduction reduction) {
    Backend backend = block.backend();
    Tensor[] running = new Tensor[4];
    Linear[] readers = {Linear.Q, Linear.O, Linear.GATE, Linear.DOWN};
    for (int i = 0; i < running.length; i++) {
      int channels = weights.weight(readers[i]).cols();
      running[i] = backend.zeros(reduction.rows(channels), channels);
    }
    for (Tensor x : inputs) {
      BlockActivations a = block.forward(weights, x, block.shape(x.rows() / seqLen, seqLen));
      reduction.accumulate(backend, a.normedInput(), running[0]);
      reduction.accumulate(backend, a.attention(), running[1]);
      reduction.accumulate(backend, a.normedResidual(), running[2]);
      reduction.accumulate(backend, a.hidden(), running[3]);
      a.close();
    }
    float[][] result = new float[running.length][];
    for (int i = 0; i < running.length; i++) {
      result[i] = backend.download(running[i]);
      // Closed at once: GPU memory does not wait for the garbage collector.
      running[i].close();
    }
    return result;
  }
}
