package dev.calibra.storage;

import java.io.Closeable;
import java.nio.file.FileAlreadyExistsException;
import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Makes a file or directory appear under its final name only once it is complete: it is written
 * under a hidden temporary name in the same directory, then renamed, which is atomic on HDFS and
 * on local disks. If anything fails before {@link #commit()}, {@link #close()} deletes the
 * temporary, so an interrupted write leaves nothing behind and never a partial file under the
 * final name.
 *
 * <p>Local files are written through the raw local file system: the formats written this way
 * carry their own checksums, and Hadoop's {@code .crc} side files would only clutter the
 * directory (and be left stale by a rename done outside Hadoop).
 */
public final class AtomicCommit implements Closeable {

  private final FileLocation target;
  private final FileLocation temporary;
  private final boolean overwrite;
  private boolean committed;

  private AtomicCommit(FileLocation target, FileLocation temporary, boolean overwrite) {
    this.target = target;
    this.temporary = temporary;
    this.overwrite = overwrite;
  }

  /**
   * Prepares to write {@code target}: refuses an existing one unless {@code overwrite}, and
   * creates its parent directory.
   */
  public static AtomicCommit start(FileLocation target, boolean overwrite) throws IOException {
    FileLocation raw = withoutChecksumFiles(target);
    if (!overwrite && raw.exists()) {
      throw alreadyExists(raw);
    }
    Path parent = raw.path().getParent();
    if (parent != null) {
      raw.fileSystem().mkdirs(parent);
    }
    // A leading dot hides the temporary from Hadoop and Spark input listings.
    String name = "." + raw.name() + ".tmp-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xFFFFFFFFFFFFL);
    return new AtomicCommit(raw, new FileLocation(raw.fileSystem(), new Path(parent, name)),
        overwrite);
  }

  /** The same location on the raw file system when it is a checksummed (local) one. */
  public static FileLocation withoutChecksumFiles(FileLocation location) {
    FileSystem fs = location.fileSystem();
    if (fs instanceof ChecksumFileSystem checksummed) {
      return new FileLocation(checksummed.getRawFileSystem(), location.path());
    }
    return location;
  }

  /** Where to write: a hidden name next to the target. */
  public FileLocation temporary() {
    return temporary;
  }

  public FileLocation target() {
    return target;
  }

  /** Renames the finished temporary to the target; the temporary must be closed by now. */
  public void commit() throws IOException {
    FileSystem fs = target.fileSystem();
    if (target.exists()) {
      if (!overwrite) {
        throw alreadyExists(target);
      }
      // Neither HDFS nor the local file system renames over an existing directory, and HDFS
      // not over a file: the old one goes first. In between, neither is under the final name,
      // which is still never a partial file.
      if (!fs.delete(target.path(), true)) {
        throw new IOException("could not replace " + target + ": deleting it failed");
      }
    }
    if (!fs.rename(temporary.path(), target.path())) {
      throw new IOException("could not rename " + temporary + " to " + target
          + (target.exists() ? ": the target appeared meanwhile" : ""));
    }
    committed = true;
  }

  /** Deletes the temporary unless committed. */
  @Override
  public void close() throws IOException {
    if (!committed && temporary.fileSystem().exists(temporary.path())) {
      temporary.fileSystem().delete(temporary.path(), true);
    }
  }

  private static FileAlreadyExistsException alreadyExists(FileLocation location) {
    return new FileAlreadyExistsException(location + " already exists; choose another name, "
        + "delete it, or ask for it to be overwritten");
  }
}
