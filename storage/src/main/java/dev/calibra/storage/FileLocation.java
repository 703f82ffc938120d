package dev.calibra.storage;

import java.io.File;
import java.io.IOException;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * A file or directory on some Hadoop file system (local, HDFS, an object store), with the file
 * system that serves it, so that every reader in this module works on all of them alike.
 *
 * <p>The {@link FileSystem} instances come from Hadoop's shared cache and are never closed here:
 * closing one would close it for every other user in the JVM.
 */
public record FileLocation(FileSystem fileSystem, Path path) {

  /** "hdfs://", "file:/", "s3a://": a scheme of two or more letters, so "C:\" is not one. */
  private static final Pattern URI_WITH_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:/.*");

  /**
   * Resolves a user-given location: a URI with a scheme (file://, hdfs://, ...) goes to that
   * scheme's file system; anything else is a local path, relative ones resolved against the
   * working directory. A plain path deliberately does not go to {@code fs.defaultFS}: on a
   * cluster that is HDFS, and a path typed on the command line means a local file.
   */
  public static FileLocation of(String location, Configuration conf) throws IOException {
    if (URI_WITH_SCHEME.matcher(location).matches()) {
      Path path = new Path(location);
      FileSystem fs = path.getFileSystem(conf);
      return new FileLocation(fs, fs.makeQualified(path));
    }
    FileSystem local = FileSystem.getLocal(conf);
    // Through java.nio so that spaces and other characters a URI must escape stay literal.
    // java.nio ends the URI of an existing directory with "/", which would leave it no name.
    java.net.URI uri = Paths.get(location).toAbsolutePath().normalize().toUri();
    String file = uri.getPath();
    if (file.length() > 1 && file.endsWith("/")) {
      file = file.substring(0, file.length() - 1);
    }
    Path path = new Path(uri.getScheme(), uri.getAuthority(), file);
    return new FileLocation(local, local.makeQualified(path));
  }

  /** The entry {@code name} inside this directory. */
  public FileLocation child(String name) {
    return new FileLocation(fileSystem, new Path(path, name));
  }

  public String name() {
    return path.getName();
  }

  public boolean exists() throws IOException {
    return fileSystem.exists(path);
  }

  public boolean isDirectory() throws IOException {
    return fileSystem.getFileStatus(path).isDirectory();
  }

  public long length() throws IOException {
    return fileSystem.getFileStatus(path).getLen();
  }

  public FSDataInputStream open() throws IOException {
    return fileSystem.open(path);
  }

  /**
   * The whole file, for small files such as config.json; refuses files over {@code maxBytes}
   * so that a wrong path cannot pull gigabytes onto the heap.
   */
  public byte[] readAllBytes(long maxBytes) throws IOException {
    long length = length();
    if (length > maxBytes) {
      throw new FileContentException(this + " is " + length + " bytes, more than the "
          + maxBytes + " expected for this kind of file");
    }
    byte[] bytes = new byte[(int) length];
    try (FSDataInputStream in = open()) {
      in.readFully(0, bytes);
    }
    return bytes;
  }

  /** The file as a java.io.File when it is on the local disk, which allows memory mapping. */
  public Optional<File> localFile() {
    if (fileSystem instanceof LocalFileSystem local) {
      return Optional.of(local.pathToFile(path));
    }
    if (fileSystem instanceof RawLocalFileSystem raw) {
      return Optional.of(raw.pathToFile(path));
    }
    return Optional.empty();
  }

  /** A local path as the user would type it, any other location as its URI. */
  @Override
  public String toString() {
    return localFile().map(File::getPath).orElseGet(path::toString);
  }
}
