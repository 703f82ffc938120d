package dev.calibra.kernels.cuda;

/**
 * sum[c] += Σ_r a[r][c] · b[r][c] · rowScale[r] (b and rowScale optional): bias gradients and the
 * RMSNorm weight gradient. Two passes, so that the result does not depend on thread timing: row
 * chunks into double partial sums, then one thread per column adds the chunks in order.
 */
final class ColumnSums {

  /** At most this many row chunks: bounds the partial sums to 512 × cols doubles. */
  private static final int MAX_CHUNKS = 512;
  private static final int MIN_ROWS_PER_CHUNK = 64;

  private ColumnSums() {}

  static void accumulate(CudaBackend backend, CudaTensor a, CudaTensor b, CudaTensor rowScale,
      CudaTensor sum) {
    int rows = a.rows();
    int cols = a.cols();
    if (rows == 0 || cols == 0) {
      return;
    }
    int rowsPerChunk = Math.max(MIN_ROWS_PER_CHUNK, (rows + MAX_CHUNKS - 1) / MAX_CHUNKS);
    int chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
    DeviceBlock partial = backend.scratch((long) chunks * cols * Double.BYTES);
    KernelLaunch first = backend.kernel("column_sums_partial").grid((cols + 31) / 32, chunks, 1)
        .block(32, 8, 1).input(a);
    if (b == null) {
      first.nullArg();
    } else {
      first.input(b);
    }
    if (rowScale == null) {
      first.nullArg();
    } else {
      first.input(rowScale);
    }
    first.arg((long) rows).arg(cols).arg(rowsPerChunk).arg(partial).run();
    backend.kernel("column_sums_finish").grid((cols + 255) / 256, 1, 1).block(256, 1, 1)
        .arg(partial).arg(chunks).arg(cols).arg(sum).run();
    backend.release(partial);
  }
}
