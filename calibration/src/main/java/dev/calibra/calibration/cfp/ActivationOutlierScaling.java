package dev.calibra.calibration.cfp;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LlamaConfig;

/**
 * Scales activation outlier channels down before activation quantization (CBQ's coarse-to-fine
 * pre-processing for activations), folding the inverse scale into the weights so that the float
 * block computes exactly the same function.
 *
 * <p>Outlier channels at each input site are those whose maximum lies above the
 * {@link OutlierThreshold} of all the site's channel maxima. A channel with maximum m over a
 * threshold t is divided by s = √(m/t): half of its excess (in log scale) moves into the weight
 * columns that read it, as SmoothQuant's α = 0.5 does, since moving all of it would only make the
 * weights the hard part to quantize. {@link ChannelScales} says where the divisions land.
 */
public final class ActivationOutlierScaling {

  private ActivationOutlierScaling() {}

  /** The rescaled block and how many channels were scaled at each of the four sites. */
  public record Scaled(BlockWeights weights, int[] scaledChannels) {}

  public static Scaled apply(BlockWeights w, LlamaConfig config, ChannelMaxima maxima,
      Backend backend) {
    ChannelScales scales = new ChannelScales(scales(maxima.attentionInput()),
        scales(ChannelScales.valueChannelMaxima(maxima.outputProjectionInput(), config)),
        scales(maxima.mlpInput()), scales(maxima.downProjectionInput()));
    return new Scaled(scales.fold(w, config, backend), scales.scaledChannels());
  }

  /** s = √(m/t) above the outlier threshold t, 1 elsewhere. */
  static float[] scales(float[] channelMaxima) {
    float threshold = OutlierThreshold.of(channelMaxima);
    float[] scales = new float[channelMaxima.length];
    for (int c = 0; c < scales.length; c++) {
      scales[c] = channelMaxima[c] > threshold
          ? (float) Math.sqrt(channelMaxima[c] / threshold) : 1f;
    }
    return scales;
  }
}
