package dev.calibra.partitioning;

import dev.calibra.model.llama.Linear;
import java.io.Serializable;
import java.util.EnumMap;
import java.util.Map;

/**
 * The parts of a CBQ calibration recipe that decide how much memory and time calibrating costs
 * (learning rates and loss weights do not, so they are not here).
 *
 * <p>KL loss is not a parameter: the KL term is computed row by row from the window output and
 * target that are counted anyway, so it adds neither memory nor significant time.
 *
 * @param windowSize w ≥ 1: consecutive blocks trained together (one CBQ window)
 * @param overlap o, 0 ≤ o &lt; w: blocks a window shares with the next one
 * @param loraRank r ≥ 1: rank of the LoRA-Rounding factors A (out×r) and B (r×in)
 * @param bits bits per quantized weight, 1 to 16
 * @param groupSize input columns per quantization group, or {@link #PER_CHANNEL}
 * @param samples calibration sequences
 * @param seqLen tokens per calibration sequence
 * @param batchSize sequences per optimizer step
 * @param epochs passes over the calibration samples per window
 * @param activationQuantization whether activations are fake-quantized during calibration
 * @param vectorQuantized the layers a VQ rule covers, with their VQ shape (a bound over the
 *     blocks when rules differ by block); the others are uniform at {@code bits} and
 *     {@code groupSize}
 */
public record RecipeShape(
    int windowSize,
    int overlap,
    int loraRank,
    int bits,
    int groupSize,
    int samples,
    int seqLen,
    int batchSize,
    int epochs,
    boolean activationQuantization,
    Map<Linear, VqLayerShape> vectorQuantized) implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Group size meaning one group per output row, as in {@code QuantizationScheme}. */
  public static final int PER_CHANNEL = 0;

  public RecipeShape {
    if (windowSize < 1) {
      throw new IllegalArgumentException("window size must be at least 1 block, got " + windowSize);
    }
    if (overlap < 0 || overlap >= windowSize) {
      throw new IllegalArgumentException("overlap must be in 0.." + (windowSize - 1)
          + " for windows of " + windowSize + " blocks, got " + overlap);
    }
    if (loraRank < 1) {
      throw new IllegalArgumentException("LoRA rank must be at least 1, got " + loraRank);
    }
    if (bits < 1 || bits > 16) {
      throw new IllegalArgumentException("bits must be in 1..16, got " + bits);
    }
    if (groupSize < 0) {
      throw new IllegalArgumentException("group size must be positive or per-channel (0), got "
          + groupSize);
    }
    // A plan written before VQ layers were counted has none.
    vectorQuantized = vectorQuantized == null || vectorQuantized.isEmpty()
        ? Map.of() : Map.copyOf(new EnumMap<>(vectorQuantized));
    for (int value : new int[] {samples, seqLen, batchSize, epochs}) {
      if (value < 1) {
        throw new IllegalArgumentException("samples, sequence length, batch size and epochs must "
            + "be positive, got " + samples + ", " + seqLen + ", " + batchSize + ", " + epochs);
      }
    }
  }

  /** Starts from the defaults listed on {@link Builder}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Quantization groups in a row of {@code cols} weights; a shorter last group counts as one. */
  public long groupsPerRow(int cols) {
    int width = groupSize == PER_CHANNEL ? cols : Math.min(groupSize, cols);
    return (cols + width - 1) / width;
  }

  /** Token rows of one optimizer step: a batch of sequences (never more than there are). */
  public long tokensPerBatch() {
    return (long) Math.min(batchSize, samples) * seqLen;
  }

  /** Tokens of the whole calibration set, seen once per epoch. */
  public long calibrationTokens() {
    return (long) samples * seqLen;
  }

  /** Optimizer steps per window: epochs × ⌈samples / batch⌉. */
  public long optimizerSteps() {
    return (long) epochs * ((samples + batchSize - 1) / batchSize);
  }

  /** "w4 g128" or "w4 per-channel", as the rest of Calibra prints a scheme. */
  public String schemeLabel() {
    return "w" + bits + (groupSize == PER_CHANNEL ? " per-channel" : " g" + groupSize);
  }

  /**
   * Defaults: windows of 2 blocks overlapping 1 (CBQ's), LoRA rank 4, 4-bit weights in groups of
   * 128, 128 samples of 2048 tokens (the calibration set size GPTQ-style methods use), batch 1,
   * 20 epochs, no activation quantization, no vector-quantized layers.
   */
  public static final class Builder {
    private int windowSize = 2;
    private int overlap = 1;
    private int loraRank = 4;
    private int bits = 4;
    private int groupSize = 128;
    private int samples = 128;
    private int seqLen = 2048;
    private int batchSize = 1;
    private int epochs = 20;
    private boolean activationQuantization;
    private final Map<Linear, VqLayerShape> vectorQuantized = new EnumMap<>(Linear.class);

    private Builder() {}

    public Builder window(int size, int overlap) {
      this.windowSize = size;
      this.overlap = overlap;
      return this;
    }

    public Builder loraRank(int rank) {
      this.loraRank = rank;
      return this;
    }

    /** Bits per weight and group size ({@link #PER_CHANNEL} for one group per row). */
    public Builder scheme(int bits, int groupSize) {
      this.bits = bits;
      this.groupSize = groupSize;
      return this;
    }

    public Builder samples(int samples, int seqLen) {
      this.samples = samples;
      this.seqLen = seqLen;
      return this;
    }

    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    public Builder epochs(int epochs) {
      this.epochs = epochs;
      return this;
    }

    public Builder activationQuantization(boolean on) {
      this.activationQuantization = on;
      return this;
    }

    /** The layer is vector-quantized with this shape instead of uniformly. */
    public Builder vectorQuantized(Linear linear, VqLayerShape shape) {
      vectorQuantized.put(linear, shape);
      return this;
    }

    public RecipeShape build() {
      return new RecipeShape(windowSize, overlap, loraRank, bits, groupSize, samples, seqLen,
          batchSize, epochs, activationQuantization, vectorQuantized);
    }
  }
}
