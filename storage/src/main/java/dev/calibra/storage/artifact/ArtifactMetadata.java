package dev.calibra.storage.artifact;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.FileContentException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The file-level metadata of an artifact or part file, kept in the Arrow schema's custom
 * metadata: the format marker and version as plain text, every other entry a JSON object.
 *
 * @param modelConfig the model's config.json, as read (the reader rebuilds the model from it)
 * @param tokenizer where the tokenizer files are and their checksums
 * @param recipe how the model was quantized (method, bits, group size...)
 * @param metrics what was measured (per-layer errors, perplexities); empty in part files
 * @param provenance versions, time, hosts
 * @param part present only in part files: which blocks the part holds
 */
public record ArtifactMetadata(ObjectNode modelConfig, ObjectNode tokenizer, ObjectNode recipe,
    ObjectNode metrics, ObjectNode provenance, Optional<PartRange> part) {

  public static final String FORMAT = "calibra.format";
  public static final String FORMAT_NAME = "calibra-artifact";
  public static final String FORMAT_VERSION = "calibra.format_version";
  public static final int MAJOR_VERSION = 1;
  public static final int MINOR_VERSION = 1;
  public static final String MODEL_CONFIG = "calibra.model_config";
  public static final String TOKENIZER = "calibra.tokenizer";
  public static final String RECIPE = "calibra.recipe";
  public static final String METRICS = "calibra.metrics";
  public static final String PROVENANCE = "calibra.provenance";
  public static final String PART = "calibra.part";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The same metadata for a part file holding {@code range}. */
  public ArtifactMetadata asPart(PartRange range) {
    return new ArtifactMetadata(modelConfig, tokenizer, recipe, metrics, provenance,
        Optional.of(range));
  }

  /** The same metadata without a part range, with the given metrics and provenance. */
  public ArtifactMetadata asArtifact(ObjectNode newMetrics, ObjectNode newProvenance) {
    return new ArtifactMetadata(modelConfig, tokenizer, recipe, newMetrics, newProvenance,
        Optional.empty());
  }

  public static ObjectNode emptyObject() {
    return JSON.createObjectNode();
  }

  Map<String, String> toArrow() {
    Map<String, String> map = new LinkedHashMap<>();
    map.put(FORMAT, FORMAT_NAME);
    map.put(FORMAT_VERSION, MAJOR_VERSION + "." + MINOR_VERSION);
    map.put(MODEL_CONFIG, modelConfig.toString());
    map.put(TOKENIZER, tokenizer.toString());
    map.put(RECIPE, recipe.toString());
    map.put(METRICS, metrics.toString());
    map.put(PROVENANCE, provenance.toString());
    part.ifPresent(range -> map.put(PART, range.toJson().toString()));
    return map;
  }

  /**
   * Reads and checks the metadata of {@code file}: the format marker, a major version this
   * reader knows, and every JSON entry.
   */
  static ArtifactMetadata fromArrow(Map<String, String> map, String file)
      throws FileContentException {
    if (map == null || !FORMAT_NAME.equals(map.get(FORMAT))) {
      throw new FileContentException(file + " is an Arrow file but not a Calibra artifact: its "
          + "schema metadata has no " + FORMAT + " = " + FORMAT_NAME);
    }
    checkVersion(map.get(FORMAT_VERSION), file);
    Optional<PartRange> part = map.containsKey(PART)
        ? Optional.of(PartRange.fromJson(object(map, PART, file), file)) : Optional.empty();
    return new ArtifactMetadata(object(map, MODEL_CONFIG, file), object(map, TOKENIZER, file),
        object(map, RECIPE, file), object(map, METRICS, file), object(map, PROVENANCE, file), part);
  }

  private static void checkVersion(String version, String file) throws FileContentException {
    String[] parts = version == null ? new String[0] : version.split("\\.");
    int major;
    try {
      major = parts.length == 2 ? Integer.parseInt(parts[0]) : -1;
      Integer.parseInt(parts.length == 2 ? parts[1] : "x");
    } catch (NumberFormatException e) {
      major = -1;
    }
    if (major < 0) {
      throw new FileContentException(file + ": " + FORMAT_VERSION + " is '" + version
          + "', expected MAJOR.MINOR such as " + MAJOR_VERSION + "." + MINOR_VERSION);
    }
    if (major > MAJOR_VERSION) {
      throw new FileContentException(file + " has artifact format " + version + ", newer than the "
          + MAJOR_VERSION + ".x this Calibra reads; use a newer Calibra to read it");
    }
    if (major < MAJOR_VERSION) {
      throw new FileContentException(file + " has artifact format " + version
          + ", which no Calibra version wrote; expected " + MAJOR_VERSION + ".x");
    }
  }

  private static ObjectNode object(Map<String, String> map, String key, String file)
      throws FileContentException {
    String text = map.get(key);
    if (text == null) {
      throw new FileContentException(file + ": schema metadata has no " + key);
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new FileContentException(file + ": " + key + " is not valid JSON: "
          + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new FileContentException(file + ": " + key + " must be a JSON object, found " + node);
    }
    return (ObjectNode) node;
  }
}
