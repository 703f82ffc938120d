package dev.calibra.jobs.artifact;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.BitPacking;
import dev.calibra.storage.artifact.FloatPayload;
import dev.calibra.storage.artifact.UniformPayload;
import dev.calibra.storage.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.util.Arrays;

/** Turns calibration results and checkpoint tensors into artifact rows. */
public final class ArtifactTensors {

  private ArtifactTensors() {}

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
