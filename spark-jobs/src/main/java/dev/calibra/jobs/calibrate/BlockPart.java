package dev.calibra.jobs.calibrate;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.jobs.artifact.ArtifactTensors;
import dev.calibra.model.backend.Backend;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactMetadata;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.ArtifactWriter;
import dev.calibra.storage.artifact.PartRange;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Consecutive finished blocks as a part file and as report rows: what a task leaves. */
final class BlockPart {

  private BlockPart() {}

  /**
   * Writes {@code blocks} as a part file. Norms and biases come from the blocks as calibrated,
   * not from the checkpoint: pre-processing may have folded channel scales into them.
   */
  static void write(FileLocation target, List<QuantizedBlock> blocks, ModelDirectory model,
      JobSpec spec, Backend backend) throws IOException {
    ArtifactMetadata metadata = JobArtifact.metadata(model, spec).asPart(PartRange.blocks(
        blocks.get(0).index(), blocks.get(blocks.size() - 1).index()));
    try (ArtifactWriter writer = ArtifactWriter.create(target, metadata, true)) {
      for (QuantizedBlock block : blocks) {
        for (ArtifactTensor tensor : ArtifactTensors.block(block, backend)) {
          writer.write(tensor);
        }
      }
      writer.commit();
    }
  }

  /** The relative weight error of every layer of {@code blocks}. */
  static List<ShardReport.LayerError> layerErrors(List<QuantizedBlock> blocks) {
    List<ShardReport.LayerError> errors = new ArrayList<>();
    for (QuantizedBlock block : blocks) {
      block.relativeError().forEach((linear, error) -> errors.add(
          new ShardReport.LayerError(block.index(), linear.hfName(), error)));
    }
    return errors;
  }
}
