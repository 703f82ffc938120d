package dev.calibra.storage.safetensors;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's tensors, whether in one safetensors file or sharded over several with an index: a
 * tensor name leads to the file that holds it. All headers are read and checked when it opens,
 * so a missing shard or a tensor the index promises but a shard lacks fails at once, not halfway
 * through a job.
 */
public final class SafetensorsCheckpoint implements Closeable {

  /** What to name when a tensor is not found: the single file, or the index. */
  private final String source;
  private final Map<String, SafetensorsFile> fileByTensor;
  private final List<SafetensorsFile> files;

  private SafetensorsCheckpoint(String source, Map<String, SafetensorsFile> fileByTensor,
      List<SafetensorsFile> files) {
    this.source = source;
    this.fileByTensor = Collections.unmodifiableMap(fileByTensor);
    this.files = files;
  }

  /** A checkpoint that is one safetensors file. */
  public static SafetensorsCheckpoint openSingle(FileLocation file) throws IOException {
    SafetensorsFile opened = SafetensorsFile.open(file);
    Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    opened.header().tensors().keySet().forEach(name -> byTensor.put(name, opened));
    return new SafetensorsCheckpoint(file.toString(), byTensor, List.of(opened));
  }

  /** A sharded checkpoint described by a {@code model.safetensors.index.json}. */
  public static SafetensorsCheckpoint openSharded(FileLocation indexFile) throws IOException {
    ShardIndex index = ShardIndex.read(indexFile);
    Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
    Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, String> entry : index.weightMap().entrySet()) {
        String tensor = entry.getKey();
        String shardName = entry.getValue();
        SafetensorsFile shard = shards.get(shardName);
        if (shard == null) {
          shard = openShard(index, shardName, tensor);
          shards.put(shardName, shard);
        }
        if (shard.header().tensor(tensor).isEmpty()) {
          throw new FileContentException(indexFile + " puts tensor '" + tensor + "' in "
              + shard.location() + ", but that file has no such tensor");
        }
        byTensor.put(tensor, shard);
      }
    } catch (IOException | RuntimeException e) {
      closeAll(shards.values(), e);
      throw e;
    }
    return new SafetensorsCheckpoint(indexFile.toString(), byTensor,
        new ArrayList<>(shards.values()));
  }

  private static SafetensorsFile openShard(ShardIndex index, String shardName, String firstTensor)
      throws IOException {
    FileLocation shard = index.shard(shardName);
    if (!shard.exists()) {
      throw new FileContentException("shard " + shard + " does not exist; " + index.location()
          + " lists it for tensor '" + firstTensor + "'");
    }
    return SafetensorsFile.open(shard);
  }

  /** The single file or the index file, to name the checkpoint in messages. */
  public String source() {
    return source;
  }

  public Set<String> tensorNames() {
    return fileByTensor.keySet();
  }

  public boolean contains(String name) {
    return fileByTensor.containsKey(name);
  }

  /** The file holding {@code name}; fails naming the file or index when there is none. */
  public SafetensorsFile fileOf(String name) throws FileContentException {
    SafetensorsFile file = fileByTensor.get(name);
    if (file == null) {
      throw new FileContentException("no tensor '" + name + "' in " + source);
    }
    return file;
  }

  public TensorEntry tensor(String name) throws FileContentException {
    return fileOf(name).tensor(name);
  }

  /** The tensor's values as float32; see {@link SafetensorsFile#readFloats}. */
  public float[] readFloats(String name) throws IOException {
    return fileOf(name).readFloats(name);
  }

  @Override
  public void close() throws IOException {
    IOException failure = new IOException("could not close every file of " + source);
    closeAll(files, failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }

  private static void closeAll(Iterable<SafetensorsFile> files, Exception failure) {
    for (SafetensorsFile file : files) {
      try {
        file.close();
      } catch (IOException e) {
        failure.addSuppressed(e);
      }
    }
  }
}
