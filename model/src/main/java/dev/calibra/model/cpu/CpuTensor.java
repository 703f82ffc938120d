package dev.calibra.model.cpu;

import dev.calibra.model.backend.Tensor;

/** A tensor whose values live in a Java float array, row-major. */
public final class CpuTensor implements Tensor {

  private final int rows;
  private final int cols;
  final float[] data;

  CpuTensor(int rows, int cols, float[] data) {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException("negative shape " + rows + "×" + cols);
    }
    if ((long) rows * cols > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + rows + "×" + cols
          + " exceeds the CPU backend's limit of 2^31 elements");
    }
    if (data.length != rows * cols) {
      throw new IllegalArgumentException("expected " + rows * cols + " values for " + rows + "×"
          + cols + ", got " + data.length);
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data;
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int cols() {
    return cols;
  }

  @Override
  public String toString() {
    return "CpuTensor[" + shapeText() + "]";
  }
}
