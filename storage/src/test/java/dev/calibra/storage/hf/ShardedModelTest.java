package dev.calibra.storage.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.RawSafetensors;
import dev.calibra.storage.SafetensorsBuilder;
import dev.calibra.storage.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stories260K split into two shards with an index, as transformers saves large models. */
class ShardedModelTest {

  private static final Path STORIES = SharedData.model("stories260K");
  private static final String FIRST = "model-00001-of-00002.safetensors";
  private static final String SECOND = "model-00002-of-00002.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private ObjectNode index;

  /** Writes the shards and config; the index is written by each test, possibly altered. */
  @BeforeEach
  void splitIntoTwoShards() throws IOException {
    RawSafetensors raw = new RawSafetensors(STORIES.resolve("model.safetensors"));
    List<String> names = new ArrayList<>();
    raw.header().fieldNames().forEachRemaining(name -> {
      if (!name.equals("__metadata__")) {
        names.add(name);
      }
    });
    index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", Files.size(STORIES.resolve("model.safetensors")));
    ObjectNode weightMap = index.putObject("weight_map");
    SafetensorsBuilder first = new SafetensorsBuilder().metadata("format", "pt");
    SafetensorsBuilder second = new SafetensorsBuilder().metadata("format", "pt");
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      JsonNode entry = raw.header().get(name);
      long[] shape = new long[entry.get("shape").size()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = entry.get("shape").get(d).asLong();
      }
      boolean inFirst = i < names.size() / 2;
      (inFirst ? first : second).add(name, entry.get("dtype").asText(), shape,
          raw.tensorBytes(name));
      weightMap.put(name, inFirst ? FIRST : SECOND);
    }
    first.write(dir.resolve(FIRST));
    second.write(dir.resolve(SECOND));
    Files.copy(STORIES.resolve("config.json"), dir.resolve("config.json"));
  }

  private void writeIndex() throws IOException {
    Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
  }

  @Test
  void shardsGiveTheSameTensorsAsTheSingleFile() throws IOException {
    writeIndex();
    try (ModelDirectory sharded = ModelDirectory.open(dir.toString());
        ModelDirectory single = ModelDirectory.open(STORIES.toString())) {
      assertEquals(single.config(), sharded.config());
      assertEquals(single.checkpoint().tensorNames(), sharded.checkpoint().tensorNames());
      for (String name : single.checkpoint().tensorNames()) {
        assertArrayEquals(single.checkpoint().readFloats(name),
            sharded.checkpoint().readFloats(name), name);
      }
      assertEquals(dir.resolve(FIRST).toString(),
          sharded.checkpoint().fileOf("model.embed_tokens.weight").location().toString());
      assertEquals(dir.resolve(SECOND).toString(),
          sharded.checkpoint().fileOf("model.norm.weight").location().toString());
    }
  }

  @Test
  void tensorMissingFromTheIndex() throws IOException {
    ((ObjectNode) index.get("weight_map")).remove("model.layers.4.mlp.up_proj.weight");
    writeIndex();
    FileContentException e = assertThrows(FileContentException.class,
        () -> ModelDirectory.open(dir.toString()).close());
    assertEquals("model.layers.4.mlp.up_proj.weight is missing from "
        + dir.resolve("model.safetensors.index.json") + ", expected a tensor of shape [172, 64]",
        e.getMessage());
  }

  @Test
  void shardMissingOnDisk() throws IOException {
    writeIndex();
    Files.delete(dir.resolve(SECOND));
    FileContentException e = assertThrows(FileContentException.class,
        () -> ModelDirectory.open(dir.toString()).close());
    assertTrue(e.getMessage().startsWith("shard " + dir.resolve(SECOND) + " does not exist; "
        + dir.resolve("model.safetensors.index.json") + " lists it for tensor '"), e.getMessage());
  }

  @Test
  void indexPointingToTheWrongShard() throws IOException {
    ((ObjectNode) index.get("weight_map")).put("model.norm.weight", FIRST);
    writeIndex();
    FileContentException e = assertThrows(FileContentException.class,
        () -> ModelDirectory.open(dir.toString()).close());
    assertEquals(dir.resolve("model.safetensors.index.json") + " puts tensor 'model.norm.weight' "
        + "in " + dir.resolve(FIRST) + ", but that file has no such tensor", e.getMessage());
  }

  @Test
  void indexWithoutWeightMap() throws IOException {
    index = JSON.createObjectNode();
    index.putArray("weight_map");
    writeIndex();
    FileContentException e = assertThrows(FileContentException.class,
        () -> ModelDirectory.open(dir.toString()).close());
    assertTrue(e.getMessage().contains("expected an object \"weight_map\""), e.getMessage());
    assertTrue(e.getMessage().startsWith(dir.resolve("model.safetensors.index.json").toString()));
  }
}
