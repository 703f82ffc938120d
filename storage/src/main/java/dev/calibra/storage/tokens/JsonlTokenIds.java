package dev.calibra.storage.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON Lines token files: each non-blank line is one sequence, either a bare array of ids or an
 * object holding them in a field ({@code input_ids}, {@code token_ids} or {@code ids} unless a
 * field name is given), as written by most dataset tools.
 */
final class JsonlTokenIds {

  static final List<String> DEFAULT_FIELDS = List.of("input_ids", "token_ids", "ids");

  private static final JsonFactory JSON = new JsonFactory();

  private JsonlTokenIds() {
  }

  /** @param field the object field holding the ids, or null for the usual names */
  static List<int[]> read(FileLocation file, String field) throws IOException {
    List<int[]> sequences = new ArrayList<>();
    try (BufferedReader lines = new BufferedReader(
        new InputStreamReader(file.open(), StandardCharsets.UTF_8))) {
      int lineNumber = 0;
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        lineNumber++;
        if (!line.isBlank()) {
          sequences.add(parseLine(line, field, file + ": line " + lineNumber));
        }
      }
    }
    return sequences;
  }

  private static int[] parseLine(String line, String field, String where) throws IOException {
    try (JsonParser parser = JSON.createParser(line)) {
      JsonToken first = parser.nextToken();
      int[] ids;
      if (first == JsonToken.START_ARRAY) {
        ids = TokenIdArrays.read(parser, where);
      } else if (first == JsonToken.START_OBJECT) {
        ids = readField(parser, field, where);
      } else {
        throw new FileContentException(where + ": expected an array of token ids or an object "
            + "holding one, found " + parser.getText());
      }
      if (parser.nextToken() != null) {
        throw new FileContentException(where + ": unexpected " + parser.getText()
            + " after the sequence; expected one JSON value per line");
      }
      return ids;
    } catch (JsonProcessingException e) {
      throw new FileContentException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static int[] readField(JsonParser parser, String field, String where)
      throws IOException {
    int[] ids = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      JsonToken value = parser.nextToken();
      boolean wanted = field != null ? name.equals(field) : DEFAULT_FIELDS.contains(name);
      if (wanted && ids == null) {
        if (value != JsonToken.START_ARRAY) {
          throw new FileContentException(where + ": field '" + name
              + "' must be an array of token ids, found " + parser.getText());
        }
        ids = TokenIdArrays.read(parser, where);
      } else {
        parser.skipChildren();
      }
    }
    if (ids == null) {
      throw new FileContentException(where + ": no field "
          + (field != null ? "'" + field + "'" : String.join(", ", DEFAULT_FIELDS))
          + " holding token ids");
    }
    return ids;
  }
}
