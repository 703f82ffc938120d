package dev.calibra.jobs.artifact;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.BitPacking;
import dev.calibra.storage.artifact.FloatPayload;
import dev.calibra.storage.artifact.UniformPayload;
import dev.calibra.storage.hf.HfTensorNames;
import dev.calibra.storage.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Turns calibration results and checkpoint tensors into artifact rows. */
public final class ArtifactTensors {

  private ArtifactTensors() {}

  /**
   * Every tensor of a quantized block, in the order artifacts hold them: its norms (and biases)
   * float from the checkpoint, its linear layers uniform.
   */
  public static List<ArtifactTensor> block(QuantizedBlock block, SafetensorsCheckpoint checkpoint,
      LlamaConfig config) throws IOException {
    int b = block.index();
    List<ArtifactTensor> tensors = new ArrayList<>();
    tensors.add(floats(HfTensorNames.inputNorm(b), b, checkpoint));
    tensors.add(floats(HfTensorNames.postAttentionNorm(b), b, checkpoint));
    for (Linear linear : Linear.values()) {
      tensors.add(uniform(HfTensorNames.weight(b, linear), b, block.matrices().get(linear)));
      if (config.attentionBias() && linear.takesAttentionBias()) {
        tensors.add(floats(HfTensorNames.bias(b, linear), b, checkpoint));
      }
    }
    return tensors;
  }

  /** A quantized matrix as a uniform row: codes packed, scales and zero points as they are. */
  public static ArtifactTensor uniform(String name, int block, QuantizedMatrix matrix) {
    QuantizationScheme scheme = matrix.scheme();
    int groupSize = scheme.groupSize() == QuantizationScheme.PER_CHANNEL
        ? UniformPayload.PER_CHANNEL : scheme.groupSize();
    return new ArtifactTensor(name, block, new int[] {matrix.rows(), matrix.cols()},
        new UniformPayload(scheme.bits(), groupSize, BitPacking.pack(matrix.codes(), scheme.bits()),
            matrix.scales(), matrix.zeros(), null));
  }

  /** A checkpoint tensor kept float, with the shape it has in the checkpoint. */
  public static ArtifactTensor floats(String name, int block, SafetensorsCheckpoint checkpoint)
      throws IOException {
    int[] shape = Arrays.stream(checkpoint.tensor(name).shape()).mapToInt(Math::toIntExact).toArray();
    return new ArtifactTensor(name, block, shape, new FloatPayload(checkpoint.readFloats(name)));
  }
}
