package dev.calibra.jobs.artifact;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.FloatPayload;
import dev.calibra.storage.artifact.PartRange;
import dev.calibra.storage.artifact.TensorKind;
import dev.calibra.storage.hf.HfTensorNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The blocks of a part file as calibration results, the reverse of {@link ArtifactTensors#block}:
 * every quantized matrix bit for bit as it was written, the norms and biases as stored, and the
 * dequantized weights the finished model runs. Part files hold no weight errors (the artifact's
 * metrics do), so the blocks have none.
 */
public final class PartBlocks {

  private PartBlocks() {}

  /**
   * Every block of the part at {@code location}, in block order, its weights on
   * {@code backend}.
   */
  public static List<QuantizedBlock> read(FileLocation location, LlamaConfig config,
      Backend backend) throws IOException {
    try (ArtifactReader part = ArtifactReader.open(location)) {
      PartRange range = part.metadata().part().orElseThrow(() -> new IllegalArgumentException(
          location + " is a complete artifact, not a part file"));
      List<QuantizedBlock> blocks = new ArrayList<>();
      for (int b = range.firstBlock(); b <= range.lastBlock(); b++) {
        blocks.add(block(part, b, config, backend));
      }
      return blocks;
    }
  }

  private static QuantizedBlock block(ArtifactReader part, int b, LlamaConfig config,
      Backend backend) throws IOException {
    Map<Linear, QuantizedMatrix> matrices = new EnumMap<>(Linear.class);
    Map<Linear, VqMatrix> vectorQuantized = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      ArtifactTensor tensor = part.read(HfTensorNames.weight(b, linear));
      float[] dequantized;
      if (tensor.kind() == TensorKind.VQ) {
        VqMatrix matrix = ArtifactTensors.vqMatrix(tensor);
        vectorQuantized.put(linear, matrix);
        dequantized = matrix.dequantize();
      } else {
        QuantizedMatrix matrix = ArtifactTensors.uniformMatrix(tensor);
        matrices.put(linear, matrix);
        dequantized = matrix.dequantize();
      }
      weights.put(linear, backend.upload(dequantized, tensor.rows(), tensor.cols()));
      String bias = HfTensorNames.bias(b, linear);
      if (part.contains(bias)) {
        biases.put(linear, vector(part, bias, backend));
      }
    }
    BlockWeights dequantized = new BlockWeights(config, vector(part, HfTensorNames.inputNorm(b),
        backend), vector(part, HfTensorNames.postAttentionNorm(b), backend), weights, biases);
    return new QuantizedBlock(b, dequantized, matrices, Map.of(), vectorQuantized);
  }

  /** A norm or bias, stored one-dimensional, as the 1×n tensor the model runs. */
  private static Tensor vector(ArtifactReader part, String name, Backend backend)
      throws IOException {
    float[] values = ((FloatPayload) part.read(name).payload()).values();
    return backend.upload(values, 1, values.length);
  }
}
