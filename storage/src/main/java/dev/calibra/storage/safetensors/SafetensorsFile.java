package dev.calibra.storage.safetensors;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.util.Optional;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * One open safetensors file: its validated header, and its tensors read on demand as float32.
 * Local files are memory-mapped; files on other file systems are read with positional reads.
 * Either way only the tensor asked for is read, never the whole file.
 */
public final class SafetensorsFile implements Closeable {

  private final FileLocation location;
  private final SafetensorsHeader header;
  private final ByteRangeReader reader;

  private SafetensorsFile(FileLocation location, SafetensorsHeader header, ByteRangeReader reader) {
    this.location = location;
    this.header = header;
    this.reader = reader;
  }

  public static SafetensorsFile open(FileLocation location) throws IOException {
    return open(location, MappedRangeReader.DEFAULT_WINDOW_BYTES,
        PositionalRangeReader.DEFAULT_BUFFER_BYTES);
  }

  /** With explicit piece sizes, so that tests can exercise tensors spanning several pieces. */
  static SafetensorsFile open(FileLocation location, int mapWindowBytes, int readBufferBytes)
      throws IOException {
    long size = location.length();
    FSDataInputStream in = location.open();
    try {
      SafetensorsHeader header = SafetensorsHeader.read(in, size, location.toString());
      Optional<File> local = location.localFile();
      if (local.isPresent()) {
        in.close();
        return new SafetensorsFile(location, header,
            new MappedRangeReader(local.get(), mapWindowBytes));
      }
      return new SafetensorsFile(location, header, new PositionalRangeReader(in, readBufferBytes));
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  public FileLocation location() {
    return location;
  }

  public SafetensorsHeader header() {
    return header;
  }

  /** The header entry of {@code name}; fails naming this file when it has no such tensor. */
  public TensorEntry tensor(String name) throws FileContentException {
    return header.tensor(name).orElseThrow(() -> new FileContentException("no tensor '" + name
        + "' in " + location + " (it holds " + header.tensors().size() + " tensors)"));
  }

  /**
   * The tensor's values converted to float32, row-major as stored. Fails for dtypes other than
   * F32, F16 and BF16, and for tensors with more elements than a Java array holds.
   */
  public float[] readFloats(String name) throws IOException {
    TensorEntry entry = tensor(name);
    if (!entry.dtype().readableAsFloat32()) {
      throw new FileContentException(name + " in " + location + " is " + entry.dtype()
          + ", expected F32, F16 or BF16 to read it as float32");
    }
    long count = entry.elementCount();
    if (count > Integer.MAX_VALUE - 8) {
      throw new FileContentException(name + " in " + location + " has " + count
          + " elements, more than one Java float array holds");
    }
    float[] values = new float[(int) count];
    int[] filled = {0};
    reader.read(header.dataStart() + entry.begin(), entry.byteLength(), chunk ->
        filled[0] += FloatDecoding.decode(entry.dtype(), chunk, values, filled[0]));
    return values;
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
