package dev.calibra.storage.artifact;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * A read-only {@link SeekableByteChannel} over a Hadoop input stream, which is what Arrow's file
 * reader needs to jump to the footer and to any record batch. Reads go through a heap buffer
 * since not every Hadoop stream reads into the direct buffers Arrow hands over.
 */
public final class HadoopReadChannel implements SeekableByteChannel {

  private static final int CHUNK = 1 << 20;

  private final FSDataInputStream in;
  private final long size;
  private final byte[] chunk = new byte[CHUNK];
  private long position;
  private boolean open = true;

  public HadoopReadChannel(FSDataInputStream in, long size) {
    this.in = in;
    this.size = size;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ensureOpen();
    if (position >= size) {
      return -1;
    }
    int wanted = (int) Math.min(dst.remaining(), size - position);
    int done = 0;
    while (done < wanted) {
      int n = Math.min(CHUNK, wanted - done);
      try {
        in.readFully(position, chunk, 0, n);
      } catch (EOFException e) {
        throw new EOFException("the file ended at " + size + " bytes while reading at " + position);
      }
      dst.put(chunk, 0, n);
      position += n;
      done += n;
    }
    return done;
  }

  @Override
  public long position() throws IOException {
    ensureOpen();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    ensureOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position " + newPosition);
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    ensureOpen();
    return size;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public SeekableByteChannel truncate(long newSize) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() throws IOException {
    if (open) {
      open = false;
      in.close();
    }
  }

  private void ensureOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }
}
