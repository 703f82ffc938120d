package dev.calibra.calibration.vq;

import dev.calibra.calibration.LinearInputStatistics;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import java.util.List;

/**
 * The second moment Σ x² of every input channel at the four places a block's linear layers read
 * from (the normed input for q, k, v; the attention output for o_proj; the normed residual for
 * gate, up; the SwiGLU output for down_proj), over a set of calibration inputs: the diagonal of
 * XᵀX, which weights each column of a layer in its k-means objective.
 */
public record ChannelSecondMoments(float[] attentionInput, float[] outputProjectionInput,
    float[] mlpInput, float[] downProjectionInput) {

  /** A 1% damping keeps channels that hardly fire in the objective, as GPTQ damps its Hessian. */
  static final double DAMPING = 0.01;

  /** Runs the float block over {@code inputs} (batches of whole samples) and sums the squares. */
  public static ChannelSecondMoments collect(DecoderBlock block, BlockWeights weights,
      List<Tensor> inputs, int seqLen) {
    float[][] moments = LinearInputStatistics.collect(block, weights, inputs, seqLen,
        Backend::accumulateColumnSquares);
    return new ChannelSecondMoments(moments[0], moments[1], moments[2], moments[3]);
  }

  /** The channel weights of {@code linear}'s k-means objective: its input's moments, damped. */
  public float[] weightsOf(Linear linear) {
    float[] moments = switch (linear) {
      case Q, K, V -> attentionInput;
      case O -> outputProjectionInput;
      case GATE, UP -> mlpInput;
      case DOWN -> downProjectionInput;
    };
    return normalisedAndDamped(moments);
  }

  /**
   * h / mean(h) + DAMPING: the scale of h does not change the k-means solution, and a mean of
   * about 1 keeps the objective's sums in a comfortable range. All-zero moments give equal
   * weights.
   */
  static float[] normalisedAndDamped(float[] moments) {
    double mean = 0;
    for (float m : moments) {
      mean += m;
    }
    mean /= moments.length;
    float[] weights = new float[moments.length];
    for (int c = 0; c < weights.length; c++) {
      weights[c] = (float) ((mean > 0 ? moments[c] / mean : 1) + DAMPING);
    }
    return weights;
  }
}
