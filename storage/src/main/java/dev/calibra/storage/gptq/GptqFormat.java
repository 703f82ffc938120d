package dev.calibra.storage.gptq;

import java.util.Arrays;
import java.util.Locale;

/**
 * The two GPTQ checkpoint formats, which differ only in how qzeros store a zero point z:
 * the original {@code gptq} stores z − 1 (loaders add the 1 back), {@code gptq_v2} stores z.
 * Every GPTQ loader reads the first; a zero point of 0, which asymmetric quantization produces
 * for groups with (almost) no negative weight, cannot be stored in it.
 */
public enum GptqFormat {
  GPTQ,
  GPTQ_V2;

  /** The {@code checkpoint_format} value of quantize_config.json. */
  public String checkpointFormat() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** What qzeros stores for zero point {@code zero}. */
  int storedZero(int zero) {
    return this == GPTQ ? zero - 1 : zero;
  }

  public static GptqFormat parse(String text) {
    return Arrays.stream(values()).filter(f -> f.checkpointFormat().equals(text)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("GPTQ checkpoint format must be gptq or "
            + "gptq_v2, got '" + text + "'"));
  }
}
