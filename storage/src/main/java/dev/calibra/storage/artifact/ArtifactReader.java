package dev.calibra.storage.artifact;

import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * Opens an artifact or part file on any Hadoop file system and hands out its tensors, each
 * checked against its CRC32C. Opening reads the whole file once: every row is decoded and its
 * checksum verified, so a corrupt file fails before any work starts, and the name → record
 * batch index is built. Tensors are then read one at a time on request.
 */
public final class ArtifactReader implements AutoCloseable {

  /**
   * What the index knows of a tensor without holding its values.
   *
   * @param bits code width of a uniform tensor, index width of a vq one, 0 for float
   * @param groupSize group size of a uniform tensor, 0 otherwise
   */
  public record Entry(String name, int block, TensorKind kind, int[] shape, int bits,
      int groupSize, int batch) {}

  private static final byte[] MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);

  private final String file;
  private final BufferAllocator allocator;
  private final ArrowFileReader reader;
  private final VectorSchemaRoot root;
  private final List<ArrowBlock> batches;
  private final ArtifactMetadata metadata;
  private final Map<String, Entry> entries;

  private ArtifactReader(String file, BufferAllocator allocator, ArrowFileReader reader)
      throws IOException {
    this.file = file;
    this.allocator = allocator;
    this.reader = reader;
    try {
      this.root = reader.getVectorSchemaRoot();
      this.batches = reader.getRecordBlocks();
    } catch (IOException | RuntimeException e) {
      throw new FileContentException(file + " is not a readable Arrow IPC file: " + e.getMessage(), e);
    }
    Schema schema = root.getSchema();
    checkColumns(schema);
    this.metadata = ArtifactMetadata.fromArrow(schema.getCustomMetadata(), file);
    Map<String, Entry> index = new LinkedHashMap<>();
    for (int i = 0; i < batches.size(); i++) {
      ArtifactTensor tensor = load(i);
      Entry entry = new Entry(tensor.name(), tensor.block(), tensor.kind(), tensor.shape(),
          tensor.payload() instanceof UniformPayload u ? u.bits()
              : tensor.payload() instanceof VqPayload v ? v.indexBits() : 0,
          tensor.payload() instanceof UniformPayload u ? u.groupSize() : 0, i);
      Entry earlier = index.put(tensor.name(), entry);
      if (earlier != null) {
        throw new FileContentException(file + " holds tensor " + tensor.name() + " twice (record "
            + "batches " + earlier.batch() + " and " + i + ")");
      }
    }
    this.entries = Collections.unmodifiableMap(index);
  }

  /** Opens and fully verifies {@code location}. */
  public static ArtifactReader open(FileLocation location) throws IOException {
    FileLocation raw = AtomicCommit.withoutChecksumFiles(location);
    String file = raw.toString();
    if (!raw.exists()) {
      throw new FileNotFoundException("artifact " + file + " does not exist");
    }
    long size = raw.length();
    FSDataInputStream in = raw.open();
    BufferAllocator allocator = null;
    ArrowFileReader reader = null;
    try {
      checkMagic(in, size, file);
      allocator = new RootAllocator();
      reader = new ArrowFileReader(new HadoopReadChannel(in, size), allocator);
      return new ArtifactReader(file, allocator, reader);
    } catch (IOException | RuntimeException e) {
      try {
        if (reader != null) {
          reader.close();
        } else {
          in.close();
        }
        if (allocator != null) {
          allocator.close();
        }
      } catch (IOException | RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  /**
   * A complete Arrow IPC file starts and ends with "ARROW1"; checking both first turns a
   * truncated copy into one clear message instead of whatever Arrow makes of the missing footer.
   */
  private static void checkMagic(FSDataInputStream in, long size, String file) throws IOException {
    byte[] head = new byte[MAGIC.length];
    byte[] tail = new byte[MAGIC.length];
    if (size >= 2L * MAGIC.length) {
      in.readFully(0, head);
      in.readFully(size - MAGIC.length, tail);
    }
    if (!Arrays.equals(head, MAGIC)) {
      throw new FileContentException(file + " is not an Arrow IPC file (it does not start with "
          + "ARROW1; it is " + size + " bytes)");
    }
    if (!Arrays.equals(tail, MAGIC)) {
      throw new FileContentException(file + " is truncated or was not completely written: it does "
          + "not end with the ARROW1 footer magic (" + size + " bytes)");
    }
  }

  private void checkColumns(Schema schema) throws FileContentException {
    List<Field> fields = schema.getFields();
    // Minor versions append columns: a file has at least 1.0's, and those this reader knows come
    // first, unchanged (columns appended later than this reader are left alone).
    boolean matches = fields.size() >= ArtifactSchema.FORMAT_1_0_COLUMNS;
    for (int i = 0; matches && i < Math.min(fields.size(), ArtifactSchema.FIELDS.size()); i++) {
      matches = sameColumn(fields.get(i), ArtifactSchema.FIELDS.get(i));
    }
    if (!matches) {
      throw new FileContentException(file + " does not have the artifact's columns: found "
          + fields + ", expected " + ArtifactSchema.FIELDS + " (see storage/ARTIFACT.md)");
    }
  }

  private static boolean sameColumn(Field found, Field expected) {
    if (!found.getName().equals(expected.getName()) || found.isNullable() != expected.isNullable()
        || !found.getType().equals(expected.getType())
        || found.getChildren().size() != expected.getChildren().size()) {
      return false;
    }
    for (int i = 0; i < expected.getChildren().size(); i++) {
      if (!sameColumn(found.getChildren().get(i), expected.getChildren().get(i))) {
        return false;
      }
    }
    return true;
  }

  public String file() {
    return file;
  }

  public ArtifactMetadata metadata() {
    return metadata;
  }

  /** Every tensor in file order. */
  public List<Entry> entries() {
    return new ArrayList<>(entries.values());
  }

  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  public Entry entry(String name) throws FileContentException {
    Entry entry = entries.get(name);
    if (entry == null) {
      throw new FileContentException("no tensor " + name + " in " + file);
    }
    return entry;
  }

  /** Reads one tensor, verifying its checksum. */
  public ArtifactTensor read(String name) throws IOException {
    return load(entry(name).batch());
  }

  /** Reads every tensor in file order, one at a time. */
  public Iterator<ArtifactTensor> tensors() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < batches.size();
      }

      @Override
      public ArtifactTensor next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        try {
          return load(next++);
        } catch (IOException e) {
          throw new UncheckedIOException(e.getMessage(), e);
        }
      }
    };
  }

  private ArtifactTensor load(int batch) throws IOException {
    TensorRowCodec.StoredRow row;
    try {
      if (!reader.loadRecordBatch(batches.get(batch))) {
        throw new IOException("record batch " + batch + " is missing");
      }
      row = TensorRowCodec.read(root);
    } catch (IOException | RuntimeException e) {
      throw new FileContentException(file + ": record batch " + batch + " of " + batches.size()
          + " cannot be read" + tensorName(batch) + ": " + e.getMessage(), e);
    } finally {
      root.clear();
    }
    long computed = TensorChecksum.of(row.tensor());
    if (computed != row.storedChecksum()) {
      throw new FileContentException(file + ": tensor " + row.tensor().name()
          + " fails its checksum (stored crc32c " + hex(row.storedChecksum()) + ", computed "
          + hex(computed) + "): the file is corrupt");
    }
    return row.tensor();
  }

  /** " (tensor X)" once the index knows which tensor a batch holds. */
  private String tensorName(int batch) {
    if (entries == null) {
      return "";
    }
    return entries.values().stream().filter(e -> e.batch() == batch).findFirst()
        .map(e -> " (tensor " + e.name() + ")").orElse("");
  }

  private static String hex(long value) {
    return String.format("0x%08x", value);
  }

  @Override
  public void close() throws IOException {
    try {
      reader.close();
    } finally {
      allocator.close();
    }
  }
}
