package dev.calibra.kernels.cuda;

/**
 * runningMax[c] = max(runningMax[c], max_r |x[r][c]|), in two passes as {@link ColumnSums}: row
 * chunks into partial maxima (enough blocks to fill the GPU even for a few hundred columns),
 * then one thread per column folds the chunks into the running maximum.
 */
final class ColumnAbsMax {

  private static final int MAX_CHUNKS = 512;
  private static final int MIN_ROWS_PER_CHUNK = 64;

  private ColumnAbsMax() {}

  static void accumulate(CudaBackend backend, CudaTensor x, CudaTensor runningMax) {
    int rows = x.rows();
    int cols = x.cols();
    if (rows == 0 || cols == 0) {
      return;
    }
    int rowsPerChunk = Math.max(MIN_ROWS_PER_CHUNK, (rows + MAX_CHUNKS - 1) / MAX_CHUNKS);
    int chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
    DeviceBlock partial = backend.scratch((long) chunks * cols * Float.BYTES);
    backend.kernel("column_abs_max_partial").grid((cols + 31) / 32, chunks, 1).block(32, 8, 1)
        .input(x).arg((long) rows).arg(cols).arg(rowsPerChunk).arg(partial).run();
    backend.kernel("column_abs_max_finish").grid((cols + 255) / 256, 1, 1).block(256, 1, 1)
        .arg(partial).arg(chunks).arg(cols).arg(runningMax).run();
    backend.release(partial);
  }
}
