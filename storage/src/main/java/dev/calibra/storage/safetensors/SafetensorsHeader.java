package dev.calibra.storage.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.calibra.storage.FileContentException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * The validated header of a safetensors file: an 8-byte little-endian length, then that many
 * bytes of JSON mapping each tensor name to its dtype, shape and byte range in the data section
 * that follows, plus an optional string-to-string {@code __metadata__} object.
 *
 * <p>Validation is strict because a bad offset would otherwise surface as garbage weights much
 * later: every range must lie inside the data section, match its shape and dtype exactly and not
 * overlap another. Gaps between ranges are tolerated; they cost nothing to read around.
 *
 * @param file the file's location, for messages
 * @param dataStart absolute file offset of the data section (8 + header length)
 * @param tensors entries in header order
 */
public record SafetensorsHeader(String file, long dataStart, Map<String, TensorEntry> tensors,
    Map<String, String> metadata) {

  /** The reference implementation's limit; a larger value means a corrupt or foreign file. */
  static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final String METADATA_KEY = "__metadata__";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  public SafetensorsHeader {
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /** Reads and validates the header of a file of {@code fileSize} bytes. */
  public static SafetensorsHeader read(FSDataInputStream in, long fileSize, String file)
      throws IOException {
    if (fileSize < 10) {
      throw new FileContentException(file + ": " + fileSize + " bytes is too short for a "
          + "safetensors file, expected at least 10 (an 8-byte header length and \"{}\")");
    }
    byte[] prefix = new byte[8];
    in.readFully(0, prefix);
    long headerLength = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 2 || headerLength > fileSize - 8 || headerLength > MAX_HEADER_BYTES) {
      throw new FileContentException(file + ": header length " + Long.toUnsignedString(headerLength)
          + " is impossible, expected 2 to " + Math.min(fileSize - 8, MAX_HEADER_BYTES)
          + " bytes for a file of " + fileSize + " bytes (not a safetensors file, or truncated?)");
    }
    byte[] json = new byte[(int) headerLength];
    in.readFully(8, json);
    return parse(file, json, 8 + headerLength, fileSize - 8 - headerLength);
  }

  /** Validates the JSON of a header whose data section is {@code dataSize} bytes long. */
  static SafetensorsHeader parse(String file, byte[] json, long dataStart, long dataSize)
      throws FileContentException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new FileContentException(file + ": header is not valid JSON: "
          + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new FileContentException(file + ": header is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new FileContentException(file + ": header must be a JSON object, found "
          + (root == null ? "nothing" : root.getNodeType()));
    }
    Map<String, TensorEntry> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = Map.of();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      if (field.getKey().equals(METADATA_KEY)) {
        metadata = parseMetadata(file, field.getValue());
      } else {
        TensorEntry entry = parseEntry(file, field.getKey(), field.getValue(), dataSize);
        tensors.put(entry.name(), entry);
      }
    }
    requireNoOverlap(file, tensors.values());
    return new SafetensorsHeader(file, dataStart, tensors, metadata);
  }

  public Optional<TensorEntry> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  private static Map<String, String> parseMetadata(String file, JsonNode node)
      throws FileContentException {
    if (!node.isObject()) {
      throw new FileContentException(file + ": " + METADATA_KEY
          + " must be an object of strings, found " + node.getNodeType());
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!field.getValue().isTextual()) {
        throw new FileContentException(file + ": " + METADATA_KEY + "." + field.getKey()
            + " must be a string, found " + field.getValue().getNodeType());
      }
      metadata.put(field.getKey(), field.getValue().textValue());
    }
    return metadata;
  }

  private static TensorEntry parseEntry(String file, String name, JsonNode node, long dataSize)
      throws FileContentException {
    String where = file + ": tensor '" + name + "': ";
    if (!node.isObject()) {
      throw new FileContentException(where + "expected an object with dtype, shape and "
          + "data_offsets, found " + node.getNodeType());
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new FileContentException(where + "dtype must be a string, found " + dtypeNode);
    }
    DType dtype = DType.fromHeaderName(dtypeNode.textValue()).orElseThrow(() ->
        new FileContentException(where + "unknown dtype '" + dtypeNode.textValue() + "'"));
    long[] shape = nonNegativeLongs(where, "shape", node.get("shape"));
    long[] offsets = nonNegativeLongs(where, "data_offsets", node.get("data_offsets"));
    if (offsets.length != 2 || offsets[0] > offsets[1]) {
      throw new FileContentException(where + "data_offsets must be [begin, end] with begin <= end, "
          + "found " + node.get("data_offsets"));
    }
    if (offsets[1] > dataSize) {
      throw new FileContentException(where + "data_offsets " + node.get("data_offsets")
          + " end beyond the data section of " + dataSize + " bytes (file truncated?)");
    }
    TensorEntry entry = new TensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    long expectedBytes;
    try {
      expectedBytes = Math.multiplyExact(entry.elementCount(), dtype.bytes());
    } catch (ArithmeticException e) {
      throw new FileContentException(where + "shape " + entry.shapeText() + " is too large", e);
    }
    if (entry.byteLength() != expectedBytes) {
      throw new FileContentException(where + "data_offsets " + node.get("data_offsets") + " span "
          + entry.byteLength() + " bytes, expected " + expectedBytes + " for shape "
          + entry.shapeText() + " of " + dtype);
    }
    return entry;
  }

  private static long[] nonNegativeLongs(String where, String field, JsonNode node)
      throws FileContentException {
    if (node == null || !node.isArray()) {
      throw new FileContentException(where + field + " must be an array of integers, found "
          + (node == null ? "nothing" : node.getNodeType()));
    }
    long[] values = new long[node.size()];
    for (int i = 0; i < values.length; i++) {
      JsonNode value = node.get(i);
      if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
        throw new FileContentException(where + field + " must hold non-negative integers, found "
            + node);
      }
      values[i] = value.longValue();
    }
    return values;
  }

  private static void requireNoOverlap(String file, Iterable<TensorEntry> entries)
      throws FileContentException {
    List<TensorEntry> byStart = new ArrayList<>();
    // Empty tensors occupy no bytes, so they cannot overlap anything.
    entries.forEach(e -> {
      if (e.byteLength() > 0) {
        byStart.add(e);
      }
    });
    byStart.sort(Comparator.comparingLong(TensorEntry::begin));
    for (int i = 1; i < byStart.size(); i++) {
      TensorEntry previous = byStart.get(i - 1);
      TensorEntry current = byStart.get(i);
      if (current.begin() < previous.end()) {
        throw new FileContentException(file + ": tensor '" + current.name() + "' bytes ["
            + current.begin() + ", " + current.end() + ") overlap tensor '" + previous.name()
            + "' bytes [" + previous.begin() + ", " + previous.end()
            + "); expected disjoint ranges");
      }
    }
  }
}
