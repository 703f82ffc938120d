package dev.calibra.storage.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.FileContentException;

/**
 * Which tensors a part file holds: those of the consecutive blocks first..last (a shard), or,
 * for {@link #OUTSIDE_BLOCKS}, those of no block (embeddings, final norm, output projection).
 */
public record PartRange(int firstBlock, int lastBlock) {

  public static final PartRange OUTSIDE_BLOCKS = new PartRange(ArtifactTensor.NO_BLOCK,
      ArtifactTensor.NO_BLOCK);

  public PartRange {
    boolean outside = firstBlock == ArtifactTensor.NO_BLOCK && lastBlock == ArtifactTensor.NO_BLOCK;
    if (!outside && (firstBlock < 0 || lastBlock < firstBlock)) {
      throw new IllegalArgumentException("block range " + firstBlock + ".." + lastBlock
          + " is not a run of consecutive blocks");
    }
  }

  public static PartRange blocks(int first, int last) {
    return new PartRange(first, last);
  }

  public boolean isOutsideBlocks() {
    return firstBlock == ArtifactTensor.NO_BLOCK;
  }

  /** Whether a tensor of block {@code block} ({@link ArtifactTensor#NO_BLOCK}: none) belongs here. */
  public boolean holds(int block) {
    return isOutsideBlocks() ? block == ArtifactTensor.NO_BLOCK
        : block >= firstBlock && block <= lastBlock;
  }

  @Override
  public String toString() {
    return isOutsideBlocks() ? "the tensors outside blocks" : "blocks " + firstBlock + ".." + lastBlock;
  }

  ObjectNode toJson() {
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    if (isOutsideBlocks()) {
      json.putNull("first_block");
      json.putNull("last_block");
    } else {
      json.put("first_block", firstBlock);
      json.put("last_block", lastBlock);
    }
    return json;
  }

  static PartRange fromJson(ObjectNode json, String file) throws FileContentException {
    JsonNode first = json.get("first_block");
    JsonNode last = json.get("last_block");
    if (first != null && first.isNull() && last != null && last.isNull()) {
      return OUTSIDE_BLOCKS;
    }
    if (first == null || last == null || !first.canConvertToInt() || !last.canConvertToInt()
        || !first.isIntegralNumber() || !last.isIntegralNumber()) {
      throw new FileContentException(file + ": " + ArtifactMetadata.PART + " is " + json
          + ", expected first_block and last_block, both integers or both null");
    }
    try {
      return blocks(first.intValue(), last.intValue());
    } catch (IllegalArgumentException e) {
      throw new FileContentException(file + ": " + ArtifactMetadata.PART + ": " + e.getMessage(), e);
    }
  }
}
