package dev.calibra.storage.hf;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.safetensors.SafetensorsCheckpoint;
import dev.calibra.storage.safetensors.TensorEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a Hugging Face Llama-family checkpoint, read tensor by tensor from safetensors
 * and uploaded to a backend on each request, so that a caller holds only what it asked for.
 *
 * <p>Every tensor the config implies is checked (present, a float dtype, the right shape) when
 * the source is made, from the headers alone; reading data later can then only fail on I/O,
 * which is reported as an {@link UncheckedIOException} since the interface has no checked
 * exceptions. The checkpoint stays owned by whoever opened it.
 */
public final class SafetensorsWeightSource implements LlamaWeightSource {

  /**
   * One tensor as the decoder wants it: the shape stored in the checkpoint and the rows×cols it
   * is uploaded as (a stored vector [n] becomes 1×n).
   */
  private record TensorSpec(String name, long[] storedShape, int rows, int cols) {

    static TensorSpec matrix(String name, int rows, int cols) {
      return new TensorSpec(name, new long[] {rows, cols}, rows, cols);
    }

    static TensorSpec vector(String name, int length) {
      return new TensorSpec(name, new long[] {length}, 1, length);
    }
  }

  private final LlamaConfig config;
  private final SafetensorsCheckpoint checkpoint;

  public SafetensorsWeightSource(LlamaConfig config, SafetensorsCheckpoint checkpoint)
      throws FileContentException {
    this.config = config;
    this.checkpoint = checkpoint;
    for (TensorSpec spec : allSpecs()) {
      check(spec);
    }
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  public Tensor embedding(Backend backend) {
    return upload(embeddingSpec(), backend);
  }

  @Override
  public BlockWeights block(int index, Backend backend) {
    if (index < 0 || index >= config.numLayers()) {
      throw new IndexOutOfBoundsException("block " + index + " does not exist: the model in "
          + checkpoint.source() + " has " + config.numLayers() + " blocks (0 to "
          + (config.numLayers() - 1) + ")");
    }
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      weights.put(linear, upload(weightSpec(index, linear), backend));
      if (hasBias(linear)) {
        biases.put(linear, upload(biasSpec(index, linear), backend));
      }
    }
    return new BlockWeights(config, upload(inputNormSpec(index), backend),
        upload(postAttentionNormSpec(index), backend), weights, biases);
  }

  @Override
  public Tensor finalNorm(Backend backend) {
    return upload(finalNormSpec(), backend);
  }

  @Override
  public Tensor lmHead(Backend backend) {
    // Tied checkpoints usually omit lm_head.weight; when one stores it anyway it is a copy.
    return upload(config.tieWordEmbeddings() ? embeddingSpec() : lmHeadSpec(), backend);
  }

  private List<TensorSpec> allSpecs() {
    List<TensorSpec> specs = new ArrayList<>();
    specs.add(embeddingSpec());
    for (int block = 0; block < config.numLayers(); block++) {
      specs.add(inputNormSpec(block));
      specs.add(postAttentionNormSpec(block));
      for (Linear linear : Linear.values()) {
        specs.add(weightSpec(block, linear));
        if (hasBias(linear)) {
          specs.add(biasSpec(block, linear));
        }
      }
    }
    specs.add(finalNormSpec());
    if (!config.tieWordEmbeddings()) {
      specs.add(lmHeadSpec());
    }
    return specs;
  }

  private boolean hasBias(Linear linear) {
    return config.attentionBias() && linear.takesAttentionBias();
  }

  private TensorSpec embeddingSpec() {
    return TensorSpec.matrix(HfTensorNames.EMBEDDING, config.vocabSize(), config.hiddenSize());
  }

  private TensorSpec finalNormSpec() {
    return TensorSpec.vector(HfTensorNames.FINAL_NORM, config.hiddenSize());
  }

  private TensorSpec lmHeadSpec() {
    return TensorSpec.matrix(HfTensorNames.LM_HEAD, config.vocabSize(), config.hiddenSize());
  }

  private TensorSpec inputNormSpec(int block) {
    return TensorSpec.vector(HfTensorNames.inputNorm(block), config.hiddenSize());
  }

  private TensorSpec postAttentionNormSpec(int block) {
    return TensorSpec.vector(HfTensorNames.postAttentionNorm(block), config.hiddenSize());
  }

  private TensorSpec weightSpec(int block, Linear linear) {
    int[] shape = config.weightShape(linear);
    return TensorSpec.matrix(HfTensorNames.weight(block, linear), shape[0], shape[1]);
  }

  private TensorSpec biasSpec(int block, Linear linear) {
    return TensorSpec.vector(HfTensorNames.bias(block, linear), config.weightShape(linear)[0]);
  }

  private void check(TensorSpec spec) throws FileContentException {
    String expected = Arrays.toString(spec.storedShape());
    if (!checkpoint.contains(spec.name())) {
      throw new FileContentException(spec.name() + " is missing from " + checkpoint.source()
          + ", expected a tensor of shape " + expected);
    }
    TensorEntry entry = checkpoint.tensor(spec.name());
    String file = checkpoint.fileOf(spec.name()).location().toString();
    if (!Arrays.equals(entry.shape(), spec.storedShape())) {
      throw new FileContentException(spec.name() + " in " + file + " is " + entry.shapeText()
          + ", expected " + expected);
    }
    if (!entry.dtype().readableAsFloat32()) {
      throw new FileContentException(spec.name() + " in " + file + " is " + entry.dtype()
          + ", expected F32, F16 or BF16");
    }
  }

  private Tensor upload(TensorSpec spec, Backend backend) {
    try {
      return backend.upload(checkpoint.readFloats(spec.name()), spec.rows(), spec.cols());
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }
}
