package dev.calibra.storage.artifact;

import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.hadoop.fs.FSDataOutputStream;

/**
 * Writes an artifact (or a part file) tensor by tensor, one record batch each, so that only one
 * tensor is on the heap at a time. The file appears under its final name on {@link #commit()};
 * closing a writer that was not committed deletes what it wrote.
 *
 * <pre>{@code
 * try (ArtifactWriter writer = ArtifactWriter.create(target, metadata, false)) {
 *   for (ArtifactTensor t : tensors) writer.write(t);
 *   writer.commit();
 * }
 * }</pre>
 */
public final class ArtifactWriter implements AutoCloseable {

  private final AtomicCommit commit;
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final FSDataOutputStream out;
  private final ArrowFileWriter writer;
  private final Set<String> names = new HashSet<>();
  private boolean finished;

  private ArtifactWriter(AtomicCommit commit, BufferAllocator allocator, VectorSchemaRoot root,
      FSDataOutputStream out, ArrowFileWriter writer) {
    this.commit = commit;
    this.allocator = allocator;
    this.root = root;
    this.out = out;
    this.writer = writer;
  }

  /**
   * Starts writing {@code target}.
   *
   * @param overwrite replace an existing file; when false an existing one is an error
   */
  public static ArtifactWriter create(FileLocation target, ArtifactMetadata metadata,
      boolean overwrite) throws IOException {
    AtomicCommit commit = AtomicCommit.start(target, overwrite);
    BufferAllocator allocator = new RootAllocator();
    VectorSchemaRoot root = null;
    FSDataOutputStream out = null;
    try {
      root = VectorSchemaRoot.create(ArtifactSchema.withMetadata(metadata.toArrow()), allocator);
      FileLocation temporary = commit.temporary();
      out = temporary.fileSystem().create(temporary.path(), false);
      ArrowFileWriter writer = new ArrowFileWriter(root, null, Channels.newChannel(out));
      writer.start();
      return new ArtifactWriter(commit, allocator, root, out, writer);
    } catch (IOException | RuntimeException e) {
      closeQuietly(out, e);
      closeQuietly(root, e);
      allocator.close();
      closeQuietly(commit, e);
      throw e;
    }
  }

  /** Writes every tensor of {@code tensors} and commits; on any failure nothing is left. */
  public static void write(FileLocation target, ArtifactMetadata metadata,
      Iterator<ArtifactTensor> tensors, boolean overwrite) throws IOException {
    try (ArtifactWriter writer = create(target, metadata, overwrite)) {
      while (tensors.hasNext()) {
        writer.write(tensors.next());
      }
      writer.commit();
    }
  }

  /** Appends one tensor as its own record batch; names must be unique within a file. */
  public void write(ArtifactTensor tensor) throws IOException {
    if (finished) {
      throw new IllegalStateException("the artifact " + commit.target() + " is already closed");
    }
    if (!names.add(tensor.name())) {
      throw new IllegalArgumentException("tensor " + tensor.name() + " is written twice to "
          + commit.target());
    }
    TensorRowCodec.write(tensor, root);
    writer.writeBatch();
    root.clear();
  }

  /** Finishes the file, forces it to storage and moves it to its final name. */
  public void commit() throws IOException {
    if (finished) {
      throw new IllegalStateException("the artifact " + commit.target() + " is already closed");
    }
    writer.end();
    out.hsync();
    finished = true;
    try {
      writer.close();
    } finally {
      releaseMemory();
    }
    commit.commit();
  }

  public FileLocation target() {
    return commit.target();
  }

  /** Releases everything; deletes the temporary file unless {@link #commit()} succeeded. */
  @Override
  public void close() throws IOException {
    if (!finished) {
      finished = true;
      // Abandoned: closing the stream directly skips the footer, which nobody will read.
      try {
        out.close();
      } catch (IOException e) {
        // Only the deletion below matters now.
      } finally {
        releaseMemory();
      }
    }
    commit.close();
  }

  private void releaseMemory() {
    root.close();
    allocator.close();
  }

  private static void closeQuietly(AutoCloseable resource, Exception failure) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }
}
