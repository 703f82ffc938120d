package dev.calibra.storage.safetensors;

import java.util.Arrays;

/**
 * One tensor as a safetensors header describes it. {@code begin} and {@code end} are byte
 * offsets relative to the start of the data section (just after the header), end exclusive.
 */
public record TensorEntry(String name, DType dtype, long[] shape, long begin, long end) {
  // The shape array is copied in and out so that an entry stays immutable; records compare
  // arrays by identity, so entries are not meant to be compared with equals.

  public TensorEntry {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements: the product of the shape (1 for a scalar). */
  public long elementCount() {
    long count = 1;
    for (long dim : shape) {
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  public long byteLength() {
    return end - begin;
  }

  /** "[172, 64]", as in the header. */
  public String shapeText() {
    return Arrays.toString(shape);
  }
}
