package dev.calibra.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.storage.FileLocation;
import dev.calibra.storage.RawSafetensors;
import dev.calibra.storage.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.junit.jupiter.api.Test;

/** The real shared models, read through the reader and checked against an independent decode. */
class SafetensorsFileTest {

  private static final Path STORIES = SharedData.model("stories260K").resolve("model.safetensors");
  private static final Path DICT = SharedData.model("dict-llama-15M").resolve("model.safetensors");

  private static FileLocation local(Path file) throws IOException {
    return FileLocation.of(file.toString(), new Configuration());
  }

  /**
   * The same local file behind a file system that is not a LocalFileSystem, so that it is read
   * with positional reads as HDFS would be.
   */
  private static FileLocation behindFilter(Path file) throws IOException {
    FileLocation local = local(file);
    FileSystem filter = new FilterFileSystem(local.fileSystem());
    return new FileLocation(filter, local.path());
  }

  @Test
  void float32HeaderAndValuesMatchTheRawBytes() throws IOException {
    RawSafetensors raw = new RawSafetensors(STORIES);
    try (SafetensorsFile file = SafetensorsFile.open(local(STORIES))) {
      assertEquals(47, file.header().tensors().size());
      assertEquals("pt", file.header().metadata().get("format"));
      TensorEntry embedding = file.tensor("model.embed_tokens.weight");
      assertEquals(DType.F32, embedding.dtype());
      assertArrayEquals(new long[] {512, 64}, embedding.shape());
      float[] values = file.readFloats("model.layers.0.self_attn.q_proj.weight");
      assertEquals(64 * 64, values.length);
      assertArrayEquals(raw.firstValues("model.layers.0.self_attn.q_proj.weight", 16),
          Arrays.copyOf(values, 16));
    }
  }

  @Test
  void bfloat16ValuesMatchTheRawBytes() throws IOException {
    RawSafetensors raw = new RawSafetensors(DICT);
    try (SafetensorsFile file = SafetensorsFile.open(local(DICT))) {
      TensorEntry down = file.tensor("model.layers.5.mlp.down_proj.weight");
      assertEquals(DType.BF16, down.dtype());
      assertArrayEquals(new long[] {288, 768}, down.shape());
      float[] values = file.readFloats("model.layers.5.mlp.down_proj.weight");
      assertEquals(288 * 768, values.length);
      assertArrayEquals(raw.firstValues("model.layers.5.mlp.down_proj.weight", 32),
          Arrays.copyOf(values, 32));
      float[] norm = file.readFloats("model.norm.weight");
      assertArrayEquals(raw.firstValues("model.norm.weight", 288), norm);
    }
  }

  /**
   * Tiny windows and buffers force every tensor across many pieces, as a tensor over 2 GB is in
   * real use; the mapped and the positional paths must both give the plain result.
   */
  @Test
  void tensorsSpanningManyPiecesReadTheSameOnBothPaths() throws IOException {
    try (SafetensorsFile whole = SafetensorsFile.open(local(DICT));
        SafetensorsFile mapped = SafetensorsFile.open(local(DICT), 4096, 8);
        SafetensorsFile positional = SafetensorsFile.open(behindFilter(DICT), 8, 4104)) {
      for (String name : whole.header().tensors().keySet()) {
        float[] expected = whole.readFloats(name);
        assertArrayEquals(expected, mapped.readFloats(name), name);
        assertArrayEquals(expected, positional.readFloats(name), name);
      }
    }
  }
}
