package dev.calibra.storage.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * Reads a file on any Hadoop file system (HDFS, object stores) with positional reads into one
 * reusable buffer, so only that buffer's worth of raw bytes is on the heap at a time. Positional
 * reads do not move the stream's position, so tensors can be read in any order.
 */
final class PositionalRangeReader implements ByteRangeReader {

  /** 8 MiB: large enough to amortise a remote read, small next to any model's tensors. */
  static final int DEFAULT_BUFFER_BYTES = 8 << 20;

  private final FSDataInputStream in;
  private final int bufferBytes;

  PositionalRangeReader(FSDataInputStream in, int bufferBytes) {
    if (bufferBytes <= 0 || bufferBytes % 8 != 0) {
      throw new IllegalArgumentException("buffer must be a positive multiple of 8, got "
          + bufferBytes);
    }
    this.in = in;
    this.bufferBytes = bufferBytes;
  }

  @Override
  public void read(long offset, long length, Consumer<ByteBuffer> consumer) throws IOException {
    byte[] buffer = new byte[(int) Math.min(bufferBytes, length)];
    for (long done = 0; done < length; done += buffer.length) {
      int size = (int) Math.min(buffer.length, length - done);
      in.readFully(offset + done, buffer, 0, size);
      consumer.accept(ByteBuffer.wrap(buffer, 0, size));
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
