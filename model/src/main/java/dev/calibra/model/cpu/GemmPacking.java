package dev.calibra.model.cpu;

/**
 * Copies blocks of op(A) and op(B) into the sliver layout that {@link MicroKernel}s stream
 * through: a sliver is {@code width} lanes (rows of A, or columns of B) by {@code depth} k steps,
 * stored k step by k step so that the kernel reads it strictly sequentially.
 *
 * <p>Lanes past the end of the block are written as zeros: the kernel then always computes a full
 * tile, and only the valid part of an edge tile is copied into C.
 */
final class GemmPacking {

  private GemmPacking() {}

  /**
   * Packs op(A)[row0, row0 + rows) × [col0, col0 + depth) into slivers of {@code width} rows,
   * sliver s starting at {@code dst[s * width * depth]}.
   */
  static void packRows(StridedMatrix a, int row0, int rows, int col0, int depth, int width,
      float[] dst) {
    int slivers = (rows + width - 1) / width;
    packSlivers(a.data(), a.index(row0, col0), a.rowStride(), a.colStride(), rows, depth, width,
        dst, 0, slivers);
  }

  /**
   * Packs slivers [firstSliver, endSliver) of op(B)[row0, row0 + depth) × [col0, col0 + cols),
   * each {@code width} columns wide, sliver s starting at {@code dst[s * width * depth]}. Taking
   * a sliver range lets several threads pack one shared panel.
   */
  static void packColumns(StridedMatrix b, int row0, int depth, int col0, int cols, int width,
      float[] dst, int firstSliver, int endSliver) {
    packSlivers(b.data(), b.index(row0, col0), b.colStride(), b.rowStride(), cols, depth, width,
        dst, firstSliver, endSliver);
  }

  /**
   * Element (lane l, step p) of the source block is
   * {@code src[origin + l * laneStride + p * depthStride]}; one of the two strides is 1.
   */
  private static void packSlivers(float[] src, int origin, int laneStride, int depthStride,
      int lanes, int depth, int width, float[] dst, int firstSliver, int endSliver) {
    for (int s = firstSliver; s < endSliver; s++) {
      int lane0 = s * width;
      int valid = Math.min(width, lanes - lane0);
      int base = s * width * depth;
      int sliverOrigin = origin + lane0 * laneStride;
      // Walk the source along whichever index is contiguous in memory.
      if (depthStride == 1) {
        // Each lane is a contiguous run of k steps (rows of A, columns of a transposed B).
        for (int l = 0; l < valid; l++) {
          int from = sliverOrigin + l * laneStride;
          for (int p = 0; p < depth; p++) {
            dst[base + p * width + l] = src[from + p];
          }
        }
      } else {
        // Each k step is a contiguous run of lanes (columns of B, rows of a transposed A).
        for (int p = 0; p < depth; p++) {
          int from = sliverOrigin + p * depthStride;
          int to = base + p * width;
          for (int l = 0; l < valid; l++) {
            dst[to + l] = src[from + l];
          }
        }
      }
      if (valid < width) {
        for (int p = 0; p < depth; p++) {
          for (int l = valid; l < width; l++) {
            dst[base + p * width + l] = 0f;
          }
        }
      }
    }
  }
}
