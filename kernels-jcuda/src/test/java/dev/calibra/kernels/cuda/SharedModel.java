package dev.calibra.kernels.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RopeScaling;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A model of ../shared/models (the system property calibra.shared points at shared/), read
 * directly: config.json and an unsharded model.safetensors of F32 or BF16 tensors, with tied
 * embeddings. The storage module reads these too, but through Hadoop, whose jars are too large to
 * carry to the GPU machine; the parity tests need only this much.
 */
final class SharedModel implements LlamaWeightSource {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path directory;
  private final LlamaConfig config;
  private final JsonNode header;
  private final ByteBuffer data;

  private SharedModel(Path directory) throws IOException {
    this.directory = directory;
    this.config = readConfig(JSON.readTree(directory.resolve("config.json").toFile()));
    try (RandomAccessFile file = new RandomAccessFile(directory.resolve("model.safetensors").toFile(), "r")) {
      ByteBuffer whole = file.getChannel().map(FileChannel.MapMode.READ_ONLY, 0, file.length())
          .order(ByteOrder.LITTLE_ENDIAN);
      int headerLength = (int) whole.getLong(0);
      byte[] headerBytes = new byte[headerLength];
      whole.get(8, headerBytes);
      this.header = JSON.readTree(headerBytes);
      this.data = whole.slice(8 + headerLength, whole.capacity() - 8 - headerLength)
          .order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  /** The directory of a shared model, whether or not it exists. */
  static Path directory(String name) {
    return Path.of(System.getProperty("calibra.shared", "../shared"), "models", name);
  }

  static boolean exists(String name) {
    return Files.isRegularFile(directory(name).resolve("model.safetensors"));
  }

  static SharedModel open(String name) throws IOException {
    return new SharedModel(directory(name));
  }

  Path directory() {
    return directory;
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  public Tensor embedding(Backend backend) {
    return backend.upload(read("model.embed_tokens.weight"), config.vocabSize(), config.hiddenSize());
  }

  @Override
  public Tensor finalNorm(Backend backend) {
    return backend.upload(read("model.norm.weight"), 1, config.hiddenSize());
  }

  @Override
  public Tensor lmHead(Backend backend) {
    if (!config.tieWordEmbeddings()) {
      throw new UnsupportedOperationException(directory + " has an untied output projection");
    }
    return embedding(backend);
  }

  float[] read(String name) {
    JsonNode entry = header.get(name);
    if (entry == null) {
      throw new IllegalArgumentException("no tensor " + name + " in " + directory);
    }
    int begin = (int) entry.get("data_offsets").get(0).asLong();
    int end = (int) entry.get("data_offsets").get(1).asLong();
    String dtype = entry.get("dtype").asText();
    switch (dtype) {
      case "F32": {
        float[] values = new float[(end - begin) / 4];
        data.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
      }
      case "BF16": {
        float[] values = new float[(end - begin) / 2];
        for (int i = 0; i < values.length; i++) {
          values[i] = Float.intBitsToFloat((data.getShort(begin + 2 * i) & 0xffff) << 16);
        }
        return values;
      }
      default:
        throw new IllegalArgumentException(name + " has dtype " + dtype + ", expected F32 or BF16");
    }
  }

  @Override
  public BlockWeights block(int index, Backend backend) {
    String prefix = "model.layers." + index + ".";
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      int[] shape = config.weightShape(linear);
      weights.put(linear, backend.upload(read(prefix + linear.hfName() + ".weight"), shape[0], shape[1]));
    }
    return new BlockWeights(config,
        backend.upload(read(prefix + "input_layernorm.weight"), 1, config.hiddenSize()),
        backend.upload(read(prefix + "post_attention_layernorm.weight"), 1, config.hiddenSize()),
        weights, Map.of());
  }

  /** A split of the model's sequences.json (stories260K): token id sequences. */
  List<int[]> sequences(String split) throws IOException {
    JsonNode sequences = JSON.readTree(directory.resolve("sequences.json").toFile()).get(split);
    if (sequences == null) {
      throw new IOException(directory.resolve("sequences.json") + " has no split " + split);
    }
    List<int[]> result = new ArrayList<>();
    for (JsonNode sequence : sequences) {
      int[] ids = new int[sequence.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = sequence.get(i).asInt();
      }
      result.add(ids);
    }
    return result;
  }

  /**
   * A text file of the model's directory through its tokenizer, paragraph by paragraph with BOS
   * before each: how {@code calibra quantize} reads calibration.txt and heldout.txt.
   */
  int[] paragraphTokens(String file) throws IOException {
    return TextCorpus.encodeParagraphs(Tokenizer.load(directory),
        Files.readString(directory.resolve(file)));
  }

  /** Rows of the embedding table for {@code ids}: a block's real input. */
  float[] embed(int[] ids) {
    float[] table = read("model.embed_tokens.weight");
    int width = config.hiddenSize();
    float[] rows = new float[ids.length * width];
    for (int i = 0; i < ids.length; i++) {
      System.arraycopy(table, ids[i] * width, rows, i * width, width);
    }
    return rows;
  }

  private static LlamaConfig readConfig(JsonNode c) {
    int hidden = c.get("hidden_size").asInt();
    int heads = c.get("num_attention_heads").asInt();
    JsonNode theta = c.path("rope_parameters").path("rope_theta");
    double ropeTheta = theta.isMissingNode() ? c.path("rope_theta").asDouble(10000) : theta.asDouble();
    return new LlamaConfig(c.get("model_type").asText(), hidden, c.get("intermediate_size").asInt(),
        c.get("num_hidden_layers").asInt(), heads, c.path("num_key_value_heads").asInt(heads),
        c.path("head_dim").asInt(hidden / heads), c.get("vocab_size").asInt(),
        c.get("max_position_embeddings").asInt(), (float) c.get("rms_norm_eps").asDouble(),
        RopeScaling.standard(ropeTheta), c.path("tie_word_embeddings").asBoolean(false),
        c.path("attention_bias").asBoolean(false), c.path("bos_token_id").asInt(-1),
        c.path("eos_token_id").asInt(-1));
  }
}
