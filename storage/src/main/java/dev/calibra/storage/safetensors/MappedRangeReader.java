package dev.calibra.storage.safetensors;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Reads a local file through memory mapping: the page cache serves the bytes and nothing is
 * copied onto the heap but the decoded floats. A range is mapped in windows because one mapping
 * is limited to 2 GB; the windows are unmapped by the garbage collector (Java 17 has no explicit
 * unmap), which is harmless as they only reserve address space.
 */
final class MappedRangeReader implements ByteRangeReader {

  /** 1 GiB: far below the 2 GB mapping limit, and a multiple of every dtype width. */
  static final int DEFAULT_WINDOW_BYTES = 1 << 30;

  private final FileChannel channel;
  private final int windowBytes;

  MappedRangeReader(File file, int windowBytes) throws IOException {
    if (windowBytes <= 0 || windowBytes % 8 != 0) {
      throw new IllegalArgumentException("window must be a positive multiple of 8, got "
          + windowBytes);
    }
    this.channel = FileChannel.open(file.toPath(), StandardOpenOption.READ);
    this.windowBytes = windowBytes;
  }

  @Override
  public void read(long offset, long length, Consumer<ByteBuffer> consumer) throws IOException {
    for (long done = 0; done < length; done += windowBytes) {
      long size = Math.min(windowBytes, length - done);
      consumer.accept(channel.map(FileChannel.MapMode.READ_ONLY, offset + done, size));
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
