package dev.calibra.partitioning;

import java.io.Serializable;

/**
 * Bytes a window costs once, whatever its number of blocks (formulas on {@link MemoryModel}).
 *
 * @param calibrationData all samples' hidden states the window holds: its quantized inputs, its
 *     float targets and the float inputs of the next window
 * @param batchTensors the current batch's input, its float target and the loss gradient
 * @param backwardScratch activation gradients of the one block backward is walking through
 * @param roundingScratch the rounding offsets A·B of one linear layer and their gradient, formed
 *     one layer at a time
 */
public record WindowMemory(
    long calibrationData,
    long batchTensors,
    long backwardScratch,
    long roundingScratch) implements Serializable {

  private static final long serialVersionUID = 1L;

  public long total() {
    return calibrationData + batchTensors + backwardScratch + roundingScratch;
  }
}
