package dev.calibra.storage.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A sharded checkpoint's {@code model.safetensors.index.json}: its {@code weight_map} says which
 * shard file, next to the index, holds each tensor. The rest of the index (total size and other
 * metadata) is not needed to read tensors and is ignored.
 *
 * @param weightMap tensor name → shard file name, in index order
 */
public record ShardIndex(FileLocation location, Map<String, String> weightMap) {

  public static final String FILE_NAME = "model.safetensors.index.json";

  /** Index files of even the largest models are a few MB. */
  private static final long MAX_INDEX_BYTES = 64L << 20;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  public ShardIndex {
    weightMap = Collections.unmodifiableMap(new LinkedHashMap<>(weightMap));
  }

  public static ShardIndex read(FileLocation location) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(location.readAllBytes(MAX_INDEX_BYTES));
    } catch (JsonProcessingException e) {
      throw new FileContentException(location + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new FileContentException(location + ": expected an object \"weight_map\" mapping "
          + "tensor names to shard files, found " + (map == null ? "none" : map.getNodeType()));
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : map.properties()) {
      JsonNode file = entry.getValue();
      if (!file.isTextual() || file.textValue().isEmpty()) {
        throw new FileContentException(location + ": weight_map entry for tensor '"
            + entry.getKey() + "' must be a shard file name, found " + file);
      }
      weightMap.put(entry.getKey(), file.textValue());
    }
    return new ShardIndex(location, weightMap);
  }

  /** The location of a shard named in the weight map: shards live next to the index. */
  public FileLocation shard(String fileName) {
    return new FileLocation(location.fileSystem(), location.path().getParent()).child(fileName);
  }
}
