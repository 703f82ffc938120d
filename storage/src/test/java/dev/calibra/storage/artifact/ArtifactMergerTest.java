package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Part files of a 3-block model merged into one artifact, and every inconsistency refused. */
class ArtifactMergerTest {

  private static final int LAYERS = 3;

  @TempDir
  Path dir;

  @Test
  void mergesOutsideTensorsFirstThenBlocksInOrder() throws IOException {
    List<FileLocation> parts = List.of(
        blockPart("shard-1.arrow", 1, 2),
        outsidePart("float.arrow"),
        blockPart("shard-0.arrow", 0, 0));
    FileLocation target = location("merged.arrow");
    ObjectNode metrics = ArtifactMetadata.emptyObject().put("perplexity", 42.5);
    ArtifactMerger.merge(parts, target, metrics, ArtifactMetadata.emptyObject().put("tool", "t"), false);

    try (ArtifactReader merged = ArtifactReader.open(target)) {
      List<String> names = merged.entries().stream().map(ArtifactReader.Entry::name).toList();
      assertEquals(List.of("model.embed_tokens.weight", "model.norm.weight",
          "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
          "model.layers.1.input_layernorm.weight", "model.layers.1.self_attn.q_proj.weight",
          "model.layers.2.input_layernorm.weight", "model.layers.2.self_attn.q_proj.weight"), names);
      assertFalse(merged.metadata().part().isPresent());
      assertEquals(metrics, merged.metadata().metrics());
      assertEquals(SampleTensors.metadata(LAYERS).recipe(), merged.metadata().recipe());
      assertEquals(3, merged.metadata().provenance().get("parts").size());
      assertEquals(1, merged.metadata().provenance().get("parts").get(2).get("range")
          .get("first_block").asInt(), "parts are listed in merge order");
      for (FileLocation part : parts) {
        try (ArtifactReader reader = ArtifactReader.open(part)) {
          for (ArtifactReader.Entry entry : reader.entries()) {
            ArtifactRoundTripTest.assertSameTensor(reader.read(entry.name()),
                merged.read(entry.name()));
          }
        }
      }
    }
  }

  @Test
  void aMissingBlockIsRefusedBeforeAnythingIsWritten() throws IOException {
    assertRefused("block 1 of 3 is in no part; parts: ",
        outsidePart("float.arrow"), blockPart("a.arrow", 0, 0), blockPart("b.arrow", 2, 2));
  }

  @Test
  void aBlockInTwoPartsIsRefused() throws IOException {
    FileLocation a = blockPart("a.arrow", 0, 1);
    FileLocation b = blockPart("b.arrow", 1, 2);
    assertRefused("block 1 is in two parts: " + a + " and " + b, outsidePart("float.arrow"), a, b);
  }

  @Test
  void aTensorOutsideItsPartsBlocksIsRefused() throws IOException {
    List<ArtifactTensor> tensors = new ArrayList<>();
    for (int b = 0; b < LAYERS; b++) {
      tensors.addAll(block(b));
    }
    tensors.add(SampleTensors.floats("model.norm.weight", -1, 8));
    FileLocation stray = write("stray.arrow", PartRange.blocks(0, 2), tensors);
    assertRefused(stray + " holds blocks 0..2, but its tensor model.norm.weight belongs to no block",
        outsidePart("float.arrow"), stray);
  }

  @Test
  void aTensorInTwoPartsIsRefused() throws IOException {
    FileLocation outside = outsidePart("float.arrow");
    FileLocation copy = write("copy.arrow", PartRange.OUTSIDE_BLOCKS,
        List.of(SampleTensors.floats("model.norm.weight", -1, 8)));
    assertRefused("several parts hold the tensors outside blocks: " + outside + ", " + copy,
        outside, copy, blockPart("all.arrow", 0, 2));
  }

  @Test
  void partsOfDifferentRecipesAreRefused() throws IOException {
    FileLocation outside = outsidePart("float.arrow");
    ArtifactMetadata other = SampleTensors.metadata(LAYERS);
    other.recipe().put("bits", 4);
    FileLocation blocks = location("w4.arrow");
    try (ArtifactWriter writer = ArtifactWriter.create(blocks, other.asPart(PartRange.blocks(0, 2)),
        false)) {
      for (int b = 0; b < LAYERS; b++) {
        for (ArtifactTensor t : block(b)) {
          writer.write(t);
        }
      }
      writer.commit();
    }
    FileContentException e = assertThrows(FileContentException.class, () -> ArtifactMerger.merge(
        List.of(outside, blocks), location("merged.arrow"), ArtifactMetadata.emptyObject(),
        ArtifactMetadata.emptyObject(), false));
    assertEquals(true, e.getMessage().startsWith(blocks + " and " + outside
        + " disagree on the recipe (calibra.recipe)"), e.getMessage());
  }

  private void assertRefused(String messageStart, FileLocation... parts) {
    FileLocation target = location("merged.arrow");
    FileContentException e = assertThrows(FileContentException.class,
        () -> ArtifactMerger.merge(List.of(parts), target, ArtifactMetadata.emptyObject(),
            ArtifactMetadata.emptyObject(), false));
    assertEquals(true, e.getMessage().startsWith(messageStart), e.getMessage());
    assertFalse(Files.exists(dir.resolve("merged.arrow")));
  }

  private FileLocation outsidePart(String name) throws IOException {
    return write(name, PartRange.OUTSIDE_BLOCKS, List.of(
        SampleTensors.floats("model.embed_tokens.weight", -1, 16, 8),
        SampleTensors.floats("model.norm.weight", -1, 8)));
  }

  private FileLocation blockPart(String name, int first, int last) throws IOException {
    List<ArtifactTensor> tensors = new ArrayList<>();
    for (int b = first; b <= last; b++) {
      tensors.addAll(block(b));
    }
    return write(name, PartRange.blocks(first, last), tensors);
  }

  private static List<ArtifactTensor> block(int b) {
    String prefix = "model.layers." + b + ".";
    return List.of(SampleTensors.floats(prefix + "input_layernorm.weight", b, 8),
        SampleTensors.uniform(prefix + "self_attn.q_proj.weight", b, 8, 8, 4, 4, false, b));
  }

  private FileLocation write(String name, PartRange range, List<ArtifactTensor> tensors)
      throws IOException {
    FileLocation file = location(name);
    ArtifactWriter.write(file, SampleTensors.metadata(LAYERS).asPart(range), tensors.iterator(), false);
    return file;
  }

  private FileLocation location(String name) {
    try {
      return FileLocation.of(dir.resolve(name).toString(), new Configuration());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
