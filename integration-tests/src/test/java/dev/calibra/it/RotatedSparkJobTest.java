package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.calibra.calibration.cbq.CalibratedModel;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.artifact.BitPacking;
import dev.calibra.storage.artifact.FloatPayload;
import dev.calibra.storage.artifact.UniformPayload;
import dev.calibra.storage.hf.HfTensorNames;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The calibration job with a rotating recipe (local Spark): every task (capture, shards, the
 * end-to-end pass, pack) must see the same rotated model, so the artifact holds exactly what a single machine's
 * rotated calibration makes, with the rotated model's own output projection.
 */
class RotatedSparkJobTest {

  @TempDir
  Path directory;

  @Test
  void theJobWritesTheRotatedModelASingleMachineCalibrates() throws Exception {
    CliRun.succeeding(StoriesJobArgs.calibrateCommand(directory, "--schedule", "sequential",
        "--rotate"));

    QuantizationScheme w3g32 = new QuantizationScheme(3, 32);
    CbqRecipe recipe = new CbqRecipe.Builder(w3g32).epochs(1).batchSize(2)
        .endToEnd(1, CbqRecipe.defaults(w3g32).endToEndLearningRate()).rotate(true).build();
    Path model = SharedData.model("stories260K");
    List<int[]> samples = TokenIdFiles.read(model.resolve("sequences.json").toString(),
        "calibration").subList(0, StoriesJobArgs.SAMPLES);
    CpuBackend backend = new CpuBackend();
    try (ModelDirectory directoryModel = ModelDirectory.open(model.toString());
        ArtifactReader artifact = ArtifactReader.open(FileLocation.of(
            directory.resolve("model.arrow").toString(), new Configuration()))) {
      CalibratedModel whole = new CbqCalibrator(backend, recipe, CalibrationListener.SILENT)
          .calibrate(directoryModel.weights(), samples);
      for (int b = 0; b < 5; b++) {
        for (Linear linear : Linear.values()) {
          UniformPayload stored = (UniformPayload) artifact.read(HfTensorNames.weight(b, linear))
              .payload();
          QuantizedMatrix expected = whole.blocks().get(b).matrices().get(linear);
          assertArrayEquals(BitPacking.pack(expected.codes(), 3), stored.packedCodes(),
              "block " + b + " " + linear);
          assertArrayEquals(expected.scales(), stored.scales(), 0f, "block " + b + " " + linear);
        }
      }
      assertFalse(artifact.metadata().modelConfig().get("tie_word_embeddings").asBoolean());
      for (String name : List.of(HfTensorNames.EMBEDDING, HfTensorNames.LM_HEAD)) {
        float[] expected = backend.download(name.equals(HfTensorNames.LM_HEAD)
            ? whole.lmHead(backend) : whole.embedding(backend));
        assertArrayEquals(expected, ((FloatPayload) artifact.read(name).payload()).values(), 0f,
            name);
      }
    }
  }
}
