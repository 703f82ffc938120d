package dev.calibra.storage.hf;

import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.safetensors.SafetensorsCheckpoint;
import dev.calibra.storage.safetensors.ShardIndex;
import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * A Hugging Face model directory on any Hadoop file system: {@code config.json}, the weights in
 * {@code model.safetensors} or shards listed by {@code model.safetensors.index.json}, and
 * optionally a tokenizer file. Opening it reads the config and every safetensors header and
 * checks all weights against the config, so a broken directory fails here, before any work.
 */
public final class ModelDirectory implements Closeable {

  public static final String CONFIG_FILE = "config.json";
  public static final String SINGLE_WEIGHTS_FILE = "model.safetensors";

  /** tokenizer.json of large vocabularies reaches tens of MB; beyond this it is not one. */
  private static final long MAX_TOKENIZER_BYTES = 512L << 20;

  private final FileLocation location;
  private final LlamaConfig config;
  private final SafetensorsCheckpoint checkpoint;
  private final SafetensorsWeightSource weights;

  private ModelDirectory(FileLocation location, LlamaConfig config,
      SafetensorsCheckpoint checkpoint, SafetensorsWeightSource weights) {
    this.location = location;
    this.config = config;
    this.checkpoint = checkpoint;
    this.weights = weights;
  }

  /** Opens a directory given as a local path, a file:// or an hdfs:// URI. */
  public static ModelDirectory open(String location) throws IOException {
    return open(location, new Configuration());
  }

  /** As {@link #open(String)}, with the Hadoop settings to reach the file system. */
  public static ModelDirectory open(String location, Configuration hadoopConf) throws IOException {
    FileLocation directory = FileLocation.of(location, hadoopConf);
    if (!directory.exists()) {
      throw new FileNotFoundException("model directory " + directory + " does not exist");
    }
    if (!directory.isDirectory()) {
      throw new FileContentException("model directory " + directory + " is a file, expected a "
          + "directory holding " + CONFIG_FILE + " and safetensors weights");
    }
    FileLocation configFile = directory.child(CONFIG_FILE);
    if (!configFile.exists()) {
      throw new FileNotFoundException("no " + CONFIG_FILE + " in model directory " + directory);
    }
    LlamaConfig config = LlamaConfigReader.read(configFile);
    SafetensorsCheckpoint checkpoint = openCheckpoint(directory);
    try {
      return new ModelDirectory(directory, config, checkpoint,
          new SafetensorsWeightSource(config, checkpoint));
    } catch (IOException | RuntimeException e) {
      checkpoint.close();
      throw e;
    }
  }

  /** A single model.safetensors wins over an index, as in transformers. */
  private static SafetensorsCheckpoint openCheckpoint(FileLocation directory) throws IOException {
    FileLocation single = directory.child(SINGLE_WEIGHTS_FILE);
    if (single.exists()) {
      return SafetensorsCheckpoint.openSingle(single);
    }
    FileLocation index = directory.child(ShardIndex.FILE_NAME);
    if (index.exists()) {
      return SafetensorsCheckpoint.openSharded(index);
    }
    String[] others = Arrays.stream(directory.fileSystem().listStatus(directory.path()))
        .map(FileStatus::getPath)
        .map(Path::getName)
        .filter(name -> name.endsWith(".safetensors"))
        .sorted()
        .toArray(String[]::new);
    throw new FileNotFoundException("no " + SINGLE_WEIGHTS_FILE + " or " + ShardIndex.FILE_NAME
        + " in model directory " + directory
        + (others.length == 0 ? "" : " (found " + String.join(", ", others)
            + ", which are not in the Hugging Face layout)"));
  }

  public FileLocation location() {
    return location;
  }

  public LlamaConfig config() {
    return config;
  }

  /** Raw access to every tensor, for tools that need more than the decoder's weights. */
  public SafetensorsCheckpoint checkpoint() {
    return checkpoint;
  }

  /** The decoder's weights; valid until this directory is closed. */
  public SafetensorsWeightSource weights() {
    return weights;
  }

  /**
   * The tokenizer file, {@code tokenizer.model} preferred over {@code tokenizer.json} when both
   * exist; empty when the directory has neither (models used with pre-tokenized data only).
   */
  public Optional<TokenizerFile> tokenizer() throws IOException {
    for (TokenizerFile.Kind kind : TokenizerFile.Kind.values()) {
      FileLocation file = location.child(kind.fileName());
      if (file.exists()) {
        return Optional.of(new TokenizerFile(kind, file.toString(),
            file.readAllBytes(MAX_TOKENIZER_BYTES)));
      }
    }
    return Optional.empty();
  }

  @Override
  public void close() throws IOException {
    checkpoint.close();
  }
}
