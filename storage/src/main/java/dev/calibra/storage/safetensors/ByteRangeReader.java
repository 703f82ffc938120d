package dev.calibra.storage.safetensors;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Reads byte ranges of one open file piece by piece, so that neither the file nor a whole tensor
 * ever has to sit in one buffer: a range can exceed the 2 GB a ByteBuffer or byte[] can hold.
 */
interface ByteRangeReader extends Closeable {

  /**
   * Hands the bytes [offset, offset + length) of the file to {@code consumer} as consecutive
   * buffers, each a multiple of 8 bytes long except possibly the last, so that no element of any
   * dtype is split between two buffers.
   */
  void read(long offset, long length, Consumer<ByteBuffer> consumer) throws IOException;
}
