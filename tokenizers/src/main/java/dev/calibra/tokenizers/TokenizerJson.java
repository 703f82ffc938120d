package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Reading the parts of a tokenizer.json, with errors that say which file and which part. */
final class TokenizerJson {

  private TokenizerJson() {}

  /** The "type" of a component such as a normalizer or decoder. */
  static String type(JsonNode component, String what, String location) {
    return text(component, "type", what, location);
  }

  static String text(JsonNode node, String field, String what, String location) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new TokenizerException(location + ": " + what + " has no text field '" + field + "'");
    }
    return value.asText();
  }

  /** A single character, as Metaspace's replacement and Strip's content are stored. */
  static char character(JsonNode node, String field, String what, String location) {
    String text = text(node, field, what, location);
    if (text.length() != 1) {
      throw new TokenizerException(location + ": " + what + " field '" + field
          + "' must be one character, not '" + text + "'");
    }
    return text.charAt(0);
  }

  static boolean flag(JsonNode node, String field, boolean absentValue) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? absentValue : value.asBoolean();
  }

  static JsonNode array(JsonNode node, String field, String what, String location) {
    JsonNode value = node.get(field);
    if (value == null || !value.isArray()) {
      throw new TokenizerException(location + ": " + what + " has no array '" + field + "'");
    }
    return value;
  }

  /**
   * A pattern written as {"String": literal} or {"Regex": pattern}. The library's regexes are
   * Oniguruma's, whose \s, \w and \d are Unicode-aware: Java's are only with
   * UNICODE_CHARACTER_CLASS.
   */
  static Pattern pattern(JsonNode node, String what, String location) {
    JsonNode pattern = node.get("pattern");
    if (pattern != null && pattern.hasNonNull("String")) {
      return Pattern.compile(pattern.get("String").asText(), Pattern.LITERAL);
    }
    if (pattern != null && pattern.hasNonNull("Regex")) {
      String regex = pattern.get("Regex").asText();
      try {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
      } catch (PatternSyntaxException e) {
        throw new TokenizerException(location + ": " + what + " regex cannot be used in Java: "
            + e.getMessage(), e);
      }
    }
    throw new TokenizerException(location + ": " + what + " has no pattern {\"String\": ...} or"
        + " {\"Regex\": ...}");
  }

  static TokenizerException unsupported(String location, String what, String type,
      String supported) {
    return new TokenizerException(location + ": " + what + " type '" + type
        + "' is not supported (supported: " + supported + ")");
  }
}
