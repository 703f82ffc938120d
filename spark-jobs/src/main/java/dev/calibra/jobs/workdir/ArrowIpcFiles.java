package dev.calibra.jobs.workdir;

import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.HadoopReadChannel;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.channels.Channels;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;

/**
 * Writes and reads the work directory's Arrow IPC files on any Hadoop file system. A file is
 * written under a hidden temporary name and renamed when complete, so a task killed half-way
 * leaves no file that a later stage or a restarted job could take for a finished one.
 */
final class ArrowIpcFiles {

  /** Fills the record batches of a file being written. */
  @FunctionalInterface
  interface Body {
    void write(VectorSchemaRoot root, ArrowFileWriter writer) throws IOException;
  }

  /** Reads what it needs from an open file. */
  @FunctionalInterface
  interface Reading<T> {
    T read(ArrowFileReader reader) throws IOException;
  }

  private ArrowIpcFiles() {}

  /**
   * Writes {@code target} atomically; an existing file is replaced (every writer of a work
   * directory file writes the same bytes, so a retried task may do so).
   */
  static void write(FileLocation target, Schema schema, Body body) throws IOException {
    try (AtomicCommit commit = AtomicCommit.start(target, true);
        BufferAllocator allocator = new RootAllocator();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      FileLocation temporary = commit.temporary();
      try (FSDataOutputStream out = temporary.fileSystem().create(temporary.path(), false);
          ArrowFileWriter writer = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
        writer.start();
        body.write(root, writer);
        writer.end();
        out.hsync();
      }
      commit.commit();
    }
  }

  static <T> T read(FileLocation source, Reading<T> reading) throws IOException {
    FileLocation raw = AtomicCommit.withoutChecksumFiles(source);
    if (!raw.exists()) {
      throw new FileNotFoundException(raw + " does not exist");
    }
    long size = raw.length();
    try (BufferAllocator allocator = new RootAllocator();
        FSDataInputStream in = raw.open();
        ArrowFileReader reader = new ArrowFileReader(new HadoopReadChannel(in, size), allocator)) {
      return reading.read(reader);
    }
  }
}
