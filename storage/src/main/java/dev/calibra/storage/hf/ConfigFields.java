package dev.calibra.storage.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.storage.FileContentException;
import java.util.Optional;

/**
 * Typed access to the fields of one JSON object of a config.json, failing with the file, the
 * field and what was found. A field set to {@code null} counts as absent, as transformers writes
 * {@code "head_dim": null} and the like for "use the default".
 */
final class ConfigFields {

  private final String file;
  /** Dotted path of this object inside the file, "" for the top level. */
  private final String prefix;
  private final JsonNode object;

  ConfigFields(String file, String prefix, JsonNode object) {
    this.file = file;
    this.prefix = prefix;
    this.object = object;
  }

  String file() {
    return file;
  }

  boolean has(String name) {
    JsonNode value = object.get(name);
    return value != null && !value.isNull();
  }

  int requiredInt(String name) throws FileContentException {
    return optionalInt(name).orElseThrow(() -> missing(name, "an integer"));
  }

  Optional<Integer> optionalInt(String name) throws FileContentException {
    if (!has(name)) {
      return Optional.empty();
    }
    JsonNode value = object.get(name);
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw wrongType(name, "a 32-bit integer", value);
    }
    return Optional.of(value.intValue());
  }

  double requiredDouble(String name) throws FileContentException {
    return optionalDouble(name).orElseThrow(() -> missing(name, "a number"));
  }

  Optional<Double> optionalDouble(String name) throws FileContentException {
    if (!has(name)) {
      return Optional.empty();
    }
    JsonNode value = object.get(name);
    if (!value.isNumber()) {
      throw wrongType(name, "a number", value);
    }
    return Optional.of(value.doubleValue());
  }

  boolean optionalBoolean(String name, boolean fallback) throws FileContentException {
    if (!has(name)) {
      return fallback;
    }
    JsonNode value = object.get(name);
    if (!value.isBoolean()) {
      throw wrongType(name, "true or false", value);
    }
    return value.booleanValue();
  }

  Optional<String> optionalString(String name) throws FileContentException {
    if (!has(name)) {
      return Optional.empty();
    }
    JsonNode value = object.get(name);
    if (!value.isTextual()) {
      throw wrongType(name, "a string", value);
    }
    return Optional.of(value.textValue());
  }

  Optional<ConfigFields> optionalObject(String name) throws FileContentException {
    if (!has(name)) {
      return Optional.empty();
    }
    JsonNode value = object.get(name);
    if (!value.isObject()) {
      throw wrongType(name, "an object", value);
    }
    return Optional.of(new ConfigFields(file, path(name) + ".", value));
  }

  /** The raw value, for fields that may take several shapes (eos_token_id: int or list). */
  Optional<JsonNode> optionalNode(String name) {
    return has(name) ? Optional.of(object.get(name)) : Optional.empty();
  }

  String path(String name) {
    return prefix + name;
  }

  FileContentException problem(String name, String what) {
    return new FileContentException(file + ": " + path(name) + " " + what);
  }

  private FileContentException missing(String name, String expected) {
    return problem(name, "is missing, expected " + expected);
  }

  FileContentException wrongType(String name, String expected, JsonNode found) {
    return problem(name, "must be " + expected + ", found " + found);
  }
}
