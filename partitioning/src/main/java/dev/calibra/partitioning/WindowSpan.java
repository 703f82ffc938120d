package dev.calibra.partitioning;

import java.io.Serializable;

/**
 * One CBQ window: consecutive blocks trained together against the float model's output at its
 * last block. (Named apart from {@code dev.calibra.model.llama.BlockWindow}, which runs a window's
 * forward and backward; this is only its place in the model.)
 *
 * @param index position in the model's window sequence, from 0
 */
public record WindowSpan(int index, BlockRange blocks) implements Serializable {

  private static final long serialVersionUID = 1L;

  public int first() {
    return blocks.first();
  }

  public int last() {
    return blocks.last();
  }

  public int size() {
    return blocks.count();
  }

  @Override
  public String toString() {
    return blocks.toString();
  }
}
