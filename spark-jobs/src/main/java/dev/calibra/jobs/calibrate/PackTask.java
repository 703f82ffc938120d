package dev.calibra.jobs.calibrate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.jobs.artifact.ArtifactTensors;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactMerger;
import dev.calibra.storage.artifact.ArtifactWriter;
import dev.calibra.storage.artifact.PartRange;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * The pack stage's task: writes the part with the tensors outside blocks (float, from the model
 * the shards calibrated), then merges it and the blocks' parts into the artifact, tensor by tensor: the
 * end-to-end pass's part when the recipe runs the pass, else every shard's. It runs on an
 * executor so that not even one tensor passes through the driver.
 */
public final class PackTask {

  private final JobSpec spec;

  public PackTask(JobSpec spec) {
    this.spec = spec;
  }

  /**
   * @param shards how many shards the plan has
   * @param metricsJson the artifact's {@code calibra.metrics} (layer errors, window losses)
   * @return the artifact's size in bytes
   */
  public long run(int shards, String metricsJson) throws IOException {
    WorkDirectory work = spec.work();
    try (ModelDirectory model = ModelDirectory.open(spec.model())) {
      if (!work.outsideBlocksPart().exists()) {
        writeOutsideBlocks(work.outsideBlocksPart(), model);
      }
      List<FileLocation> parts = new ArrayList<>();
      parts.add(work.outsideBlocksPart());
      if (spec.recipe().endToEndEpochs() > 0) {
        parts.add(work.endToEndPart());
      } else {
        for (int s = 0; s < shards; s++) {
          parts.add(work.shardPart(s));
        }
      }
      FileLocation target = FileLocation.of(spec.output(), new Configuration());
      ArtifactMerger.merge(parts, target,
          (ObjectNode) JsonFiles.JSON.readTree(metricsJson), JobArtifact.provenance(), true);
      long bytes = target.length();
      JsonFiles.write(work.packedFile(), Map.of("artifact", target.toString(), "bytes", bytes));
      return bytes;
    }
  }

  /**
   * Embedding, final norm and, when not tied, the output projection, all kept float, of the model
   * the shards calibrated (rotated, when the recipe rotates).
   */
  private void writeOutsideBlocks(FileLocation target, ModelDirectory model) throws IOException {
    try (ArtifactWriter writer = ArtifactWriter.create(target,
        JobArtifact.metadata(model, spec).asPart(PartRange.OUTSIDE_BLOCKS), true)) {
      ArtifactTensors.outsideBlocks(
          CbqCalibrator.modelToCalibrate(model.weights(), spec.recipe()), false, writer::write);
      writer.commit();
    }
  }
}
