package dev.calibra.storage.artifact;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.LlamaConfigReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Merges the part files of a run (one per shard of consecutive blocks, plus one with the tensors
 * outside blocks) into the single artifact. Everything that can be checked is checked before the
 * first byte is written: every part verifies (checksums included), all parts describe the same
 * model, tokenizer and recipe, every block 0..L−1 is in exactly one part, every tensor is in the
 * part its block says, and no tensor name repeats. The merge then streams tensor by tensor:
 * the tensors outside blocks first, then the blocks in order.
 */
public final class ArtifactMerger {

  private ArtifactMerger() {}

  /**
   * @param metrics the run's metrics for the artifact's metadata
   * @param provenance the run's provenance; a "parts" list describing each part is added
   */
  public static void merge(List<FileLocation> parts, FileLocation target, ObjectNode metrics,
      ObjectNode provenance, boolean overwrite) throws IOException {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("no part files to merge into " + target);
    }
    List<ArtifactReader> readers = new ArrayList<>();
    try {
      for (FileLocation part : parts) {
        readers.add(ArtifactReader.open(part));
      }
      List<ArtifactReader> ordered = checkParts(readers);
      ObjectNode finalProvenance = provenance.deepCopy();
      ArrayNode described = finalProvenance.putArray("parts");
      for (ArtifactReader reader : ordered) {
        ObjectNode part = described.addObject();
        part.put("file", reader.file());
        part.set("range", reader.metadata().part().orElseThrow().toJson());
        part.set("provenance", reader.metadata().provenance());
      }
      ArtifactMetadata metadata = ordered.get(0).metadata().asArtifact(metrics, finalProvenance);
      try (ArtifactWriter writer = ArtifactWriter.create(target, metadata, overwrite)) {
        for (ArtifactReader reader : ordered) {
          Iterator<ArtifactTensor> tensors = reader.tensors();
          while (tensors.hasNext()) {
            writer.write(tensors.next());
          }
        }
        writer.commit();
      }
    } finally {
      IOException failure = null;
      for (ArtifactReader reader : readers) {
        try {
          reader.close();
        } catch (IOException e) {
          failure = e;
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  /** Checks the parts against each other; returns them in merge order. */
  private static List<ArtifactReader> checkParts(List<ArtifactReader> readers) throws IOException {
    ArtifactReader first = readers.get(0);
    for (ArtifactReader reader : readers) {
      if (reader.metadata().part().isEmpty()) {
        throw new FileContentException(reader.file() + " is a complete artifact, not a part file "
            + "(its metadata has no " + ArtifactMetadata.PART + ")");
      }
      sameEntry(first, reader, "model config", ArtifactMetadata.MODEL_CONFIG,
          first.metadata().modelConfig(), reader.metadata().modelConfig());
      sameEntry(first, reader, "tokenizer", ArtifactMetadata.TOKENIZER,
          first.metadata().tokenizer(), reader.metadata().tokenizer());
      sameEntry(first, reader, "recipe", ArtifactMetadata.RECIPE, first.metadata().recipe(),
          reader.metadata().recipe());
    }
    int layers = LlamaConfigReader.parse(first.file() + " (" + ArtifactMetadata.MODEL_CONFIG + ")",
        first.metadata().modelConfig().toString().getBytes(StandardCharsets.UTF_8)).numLayers();

    List<ArtifactReader> outside = readers.stream()
        .filter(r -> range(r).isOutsideBlocks()).toList();
    if (outside.size() != 1) {
      throw new FileContentException(outside.isEmpty()
          ? "no part holds the tensors outside blocks (embeddings, final norm); parts: " + files(readers)
          : "several parts hold the tensors outside blocks: " + files(outside));
    }
    List<ArtifactReader> blockParts = new ArrayList<>(readers.stream()
        .filter(r -> !range(r).isOutsideBlocks()).toList());
    blockParts.sort(Comparator.comparingInt(r -> range(r).firstBlock()));
    ArtifactReader[] owner = new ArtifactReader[layers];
    for (ArtifactReader reader : blockParts) {
      PartRange range = range(reader);
      if (range.lastBlock() >= layers) {
        throw new FileContentException(reader.file() + " holds " + range + ", but the model has "
            + layers + " blocks (0.." + (layers - 1) + ")");
      }
      for (int b = range.firstBlock(); b <= range.lastBlock(); b++) {
        if (owner[b] != null) {
          throw new FileContentException("block " + b + " is in two parts: " + owner[b].file()
              + " and " + reader.file());
        }
        owner[b] = reader;
      }
    }
    for (int b = 0; b < layers; b++) {
      if (owner[b] == null) {
        throw new FileContentException("block " + b + " of " + layers + " is in no part; parts: "
            + files(readers));
      }
    }

    Map<String, String> fileOfTensor = new HashMap<>();
    for (ArtifactReader reader : readers) {
      PartRange range = range(reader);
      boolean[] seen = new boolean[layers];
      for (ArtifactReader.Entry entry : reader.entries()) {
        if (!range.holds(entry.block())) {
          throw new FileContentException(reader.file() + " holds " + range + ", but its tensor "
              + entry.name() + " belongs to "
              + (entry.block() == ArtifactTensor.NO_BLOCK ? "no block" : "block " + entry.block()));
        }
        if (entry.block() != ArtifactTensor.NO_BLOCK) {
          seen[entry.block()] = true;
        }
        String earlier = fileOfTensor.put(entry.name(), reader.file());
        if (earlier != null) {
          throw new FileContentException("tensor " + entry.name() + " is in two parts: " + earlier
              + " and " + reader.file());
        }
      }
      for (int b = Math.max(0, range.firstBlock()); b <= range.lastBlock(); b++) {
        if (!seen[b]) {
          throw new FileContentException(reader.file() + " holds " + range
              + ", but has no tensor of block " + b);
        }
      }
    }
    List<ArtifactReader> ordered = new ArrayList<>(outside);
    ordered.addAll(blockParts);
    return ordered;
  }

  private static PartRange range(ArtifactReader reader) {
    return reader.metadata().part().orElseThrow();
  }

  private static void sameEntry(ArtifactReader first, ArtifactReader other, String what,
      String key, ObjectNode expected, ObjectNode actual) throws FileContentException {
    if (!expected.equals(actual)) {
      throw new FileContentException(other.file() + " and " + first.file() + " disagree on the "
          + what + " (" + key + "): " + actual + " vs " + expected
          + "; parts of one artifact must come from one run");
    }
  }

  private static String files(List<ArtifactReader> readers) {
    return String.join(", ", readers.stream().map(ArtifactReader::file).toList());
  }
}
