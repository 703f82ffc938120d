package dev.calibra.storage.artifact;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.HfTensorNames;
import dev.calibra.storage.hf.LlamaConfigReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * A model read from an artifact alone: the config from its metadata, every weight dequantized
 * on request. Presence and shape of every tensor the config implies are checked when it opens
 * (from the reader's index, which has also verified every checksum).
 */
public final class ArtifactWeightSource implements LlamaWeightSource, AutoCloseable {

  /** Recipe key: bits of per-token activation quantization (absent or 0: float). */
  public static final String ACTIVATION_BITS = "activation_bits";

  private final ArtifactReader reader;
  private final LlamaConfig config;

  private ArtifactWeightSource(ArtifactReader reader, LlamaConfig config) {
    this.reader = reader;
    this.config = config;
  }

  /** Opens and verifies the artifact at {@code location}. */
  public static ArtifactWeightSource open(FileLocation location) throws IOException {
    ArtifactReader reader = ArtifactReader.open(location);
    try {
      if (reader.metadata().part().isPresent()) {
        throw new FileContentException(reader.file() + " is a part file holding "
            + reader.metadata().part().get() + ", not a complete artifact; merge the parts first");
      }
      LlamaConfig config = LlamaConfigReader.parse(reader.file() + " (" + ArtifactMetadata.MODEL_CONFIG
          + ")", reader.metadata().modelConfig().toString().getBytes(StandardCharsets.UTF_8));
      ArtifactWeightSource source = new ArtifactWeightSource(reader, config);
      source.checkTensors();
      return source;
    } catch (IOException | RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  public ArtifactReader reader() {
    return reader;
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  public Tensor embedding(Backend backend) {
    return upload(HfTensorNames.EMBEDDING, backend);
  }

  @Override
  public BlockWeights block(int index, Backend backend) {
    if (index < 0 || index >= config.numLayers()) {
      throw new IndexOutOfBoundsException("block " + index + " does not exist: the model in "
          + reader.file() + " has " + config.numLayers() + " blocks");
    }
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      weights.put(linear, upload(HfTensorNames.weight(index, linear), backend));
      if (hasBias(linear)) {
        biases.put(linear, upload(HfTensorNames.bias(index, linear), backend));
      }
    }
    return new BlockWeights(config, upload(HfTensorNames.inputNorm(index), backend),
        upload(HfTensorNames.postAttentionNorm(index), backend), weights, biases);
  }

  @Override
  public Tensor finalNorm(Backend backend) {
    return upload(HfTensorNames.FINAL_NORM, backend);
  }

  /** lm_head.weight when the artifact has one (untied, or quantized apart), else the embedding. */
  @Override
  public Tensor lmHead(Backend backend) {
    return upload(reader.contains(HfTensorNames.LM_HEAD) ? HfTensorNames.LM_HEAD
        : HfTensorNames.EMBEDDING, backend);
  }

  /** Per-token activation quantization when the recipe asks for it (W4A8 and the like). */
  @Override
  public LinearInputQuantizer linearInputs(Backend backend) {
    int bits = reader.metadata().recipe().path(ACTIVATION_BITS).asInt(0);
    return bits == 0 ? LinearInputQuantizer.NONE
        : ActivationFakeQuantizer.forEvaluation(backend, bits);
  }

  private boolean hasBias(Linear linear) {
    return config.attentionBias() && linear.takesAttentionBias();
  }

  private void checkTensors() throws FileContentException {
    int hidden = config.hiddenSize();
    check(HfTensorNames.EMBEDDING, config.vocabSize(), hidden);
    for (int b = 0; b < config.numLayers(); b++) {
      check(HfTensorNames.inputNorm(b), hidden);
      check(HfTensorNames.postAttentionNorm(b), hidden);
      for (Linear linear : Linear.values()) {
        int[] shape = config.weightShape(linear);
        check(HfTensorNames.weight(b, linear), shape[0], shape[1]);
        if (hasBias(linear)) {
          check(HfTensorNames.bias(b, linear), shape[0]);
        }
      }
    }
    check(HfTensorNames.FINAL_NORM, hidden);
    if (!config.tieWordEmbeddings() || reader.contains(HfTensorNames.LM_HEAD)) {
      check(HfTensorNames.LM_HEAD, config.vocabSize(), hidden);
    }
  }

  private void check(String name, int... shape) throws FileContentException {
    if (!reader.contains(name)) {
      throw new FileContentException(name + " is missing from " + reader.file()
          + ", expected a tensor of shape " + Arrays.toString(shape));
    }
    int[] stored = reader.entry(name).shape();
    if (!Arrays.equals(stored, shape)) {
      throw new FileContentException(name + " in " + reader.file() + " has shape "
          + Arrays.toString(stored) + ", expected " + Arrays.toString(shape));
    }
  }

  private Tensor upload(String name, Backend backend) {
    try {
      ArtifactTensor tensor = reader.read(name);
      return backend.upload(Dequantizer.toFloats(tensor), tensor.rows(), tensor.cols());
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
