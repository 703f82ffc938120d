package dev.calibra.it;

import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.Dequantizer;
import dev.calibra.storage.artifact.TensorKind;
import dev.calibra.storage.artifact.UniformPayload;
import dev.calibra.storage.safetensors.DType;
import dev.calibra.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.util.Float16;

/**
 * Writes what our dequantizer makes of an artifact's tensors as float32 safetensors, the
 * reference the Python tests compare their own numpy dequantization with.
 */
final class DequantizedWeights {

  private DequantizedWeights() {}

  /**
   * @param quantizedWithHalfScales only the uniform tensors, with scales first rounded to
   *     float16 as the GPTQ export stores them; otherwise every tensor as stored
   */
  static void write(ArtifactReader reader, Path file, boolean quantizedWithHalfScales)
      throws IOException {
    List<ArtifactReader.Entry> entries = reader.entries().stream()
        .filter(e -> !quantizedWithHalfScales || e.kind() == TensorKind.UNIFORM).toList();
    List<SafetensorsWriter.Declared> declared = new ArrayList<>();
    for (ArtifactReader.Entry entry : entries) {
      declared.add(new SafetensorsWriter.Declared(entry.name(), DType.F32,
          Arrays.stream(entry.shape()).asLongStream().toArray()));
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      SafetensorsWriter writer = SafetensorsWriter.start(out, declared, Map.of());
      for (ArtifactReader.Entry entry : entries) {
        ArtifactTensor tensor = reader.read(entry.name());
        if (quantizedWithHalfScales) {
          tensor = withHalfScales(tensor);
        }
        writer.write(entry.name(), SafetensorsWriter.f32(Dequantizer.toFloats(tensor)));
      }
      writer.finish();
    }
  }

  private static ArtifactTensor withHalfScales(ArtifactTensor tensor) {
    UniformPayload p = (UniformPayload) tensor.payload();
    float[] scales = p.scales().clone();
    for (int i = 0; i < scales.length; i++) {
      scales[i] = Float16.toFloat(Float16.toFloat16(scales[i]));
    }
    return new ArtifactTensor(tensor.name(), tensor.block(), tensor.shape(),
        new UniformPayload(p.bits(), p.groupSize(), p.packedCodes(), scales, p.zeroPoints(), null));
  }
}
