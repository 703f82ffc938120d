package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On file://: an artifact appears whole or not at all, and is never overwritten unasked. */
class AtomicWriteTest {

  @TempDir
  Path dir;

  @Test
  void aWriteThatFailsMidStreamLeavesNoFileAtAll() throws IOException {
    Path target = dir.resolve("out").resolve("model.arrow");
    List<ArtifactTensor> firstTwo = List.of(
        SampleTensors.floats("model.embed_tokens.weight", -1, 16, 8),
        SampleTensors.uniform("model.layers.0.self_attn.q_proj.weight", 0, 8, 8, 4, 4, false, 1));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ArtifactWriter.write(location(target), SampleTensors.metadata(1),
            InterruptedWrites.failingAfter(firstTwo), false));
    assertEquals("simulated failure after 2 tensors", e.getMessage());
    assertFalse(Files.exists(target));
    try (Stream<Path> left = Files.list(target.getParent())) {
      assertEquals(List.of(), left.toList(), "the temporary file is deleted too");
    }
  }

  @Test
  void anExistingArtifactIsKeptUnlessOverwriteIsAsked() throws IOException {
    Path target = dir.resolve("model.arrow");
    ArtifactTensor first = SampleTensors.floats("a", -1, 4);
    ArtifactTensor second = SampleTensors.floats("b", -1, 5);
    ArtifactWriter.write(location(target), SampleTensors.metadata(1), List.of(first).iterator(), false);
    byte[] before = Files.readAllBytes(target);

    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> ArtifactWriter.write(location(target), SampleTensors.metadata(1),
            List.of(second).iterator(), false));
    assertEquals(target + " already exists; choose another name, delete it, or ask for it to be "
        + "overwritten", e.getMessage());
    assertEquals(new String(before, "ISO-8859-1"),
        new String(Files.readAllBytes(target), "ISO-8859-1"));

    ArtifactWriter.write(location(target), SampleTensors.metadata(1), List.of(second).iterator(), true);
    try (ArtifactReader reader = ArtifactReader.open(location(target))) {
      assertEquals(List.of("b"), reader.entries().stream().map(ArtifactReader.Entry::name).toList());
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(target), files.toList(), "no .crc or temporary files beside it");
    }
  }

  @Test
  void aTensorWrittenTwiceIsRefusedAndNothingIsLeft() throws IOException {
    Path target = dir.resolve("twice.arrow");
    ArtifactTensor tensor = SampleTensors.floats("model.norm.weight", -1, 8);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ArtifactWriter.write(location(target), SampleTensors.metadata(1),
            List.of(tensor, tensor).iterator(), false));
    assertEquals("tensor model.norm.weight is written twice to " + target, e.getMessage());
    assertFalse(Files.exists(target));
  }

  private static FileLocation location(Path path) throws IOException {
    return FileLocation.of(path.toString(), new Configuration());
  }

  @Test
  void anExistingDirectoryIsReplacedWholeWhenAsked() throws IOException {
    Path target = Files.createDirectories(dir.resolve("export"));
    Files.writeString(target.resolve("old.txt"), "old");
    try (dev.calibra.storage.AtomicCommit commit = dev.calibra.storage.AtomicCommit.start(
        location(target), true)) {
      assertEquals("export", commit.target().name());
      Path temporary = Path.of(commit.temporary().path().toUri());
      assertEquals(dir, temporary.getParent(), "the temporary is a sibling, not inside the target");
      Files.createDirectories(temporary);
      Files.writeString(temporary.resolve("new.txt"), "new");
      commit.commit();
    }
    try (Stream<Path> files = Files.list(target)) {
      assertEquals(List.of(target.resolve("new.txt")), files.toList());
    }
  }
}
