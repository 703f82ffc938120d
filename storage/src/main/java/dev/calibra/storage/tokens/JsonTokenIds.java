package dev.calibra.storage.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSON token file: either a top-level array of sequences, or an object of named splits, each an
 * array of sequences ({@code {"calibration": [[1, 5, ...], ...], "evaluation": [...]}}), other
 * fields such as a note being ignored. Parsed as a stream, so only the ids are kept in memory.
 */
final class JsonTokenIds {

  private static final JsonFactory JSON = new JsonFactory();

  private JsonTokenIds() {
  }

  /** @param split the split to read, required for a file of named splits, null otherwise */
  static List<int[]> read(FileLocation file, String split) throws IOException {
    try (InputStream in = file.open(); JsonParser parser = JSON.createParser(in)) {
      JsonToken first = parser.nextToken();
      List<int[]> sequences;
      if (first == JsonToken.START_ARRAY) {
        if (split != null) {
          throw new FileContentException(file + " holds one top-level array of sequences, "
              + "not named splits; cannot select split '" + split + "'");
        }
        sequences = readSequences(parser, file + ": sequence ");
      } else if (first == JsonToken.START_OBJECT) {
        sequences = readSplit(parser, split, file);
      } else {
        throw new FileContentException(file + ": expected an array of sequences or an object of "
            + "named splits, found " + parser.getText());
      }
      if (parser.nextToken() != null) {
        throw new FileContentException(file + ": unexpected " + parser.getText()
            + " after the top-level value at line " + parser.currentLocation().getLineNr());
      }
      return sequences;
    } catch (JsonProcessingException e) {
      throw new FileContentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static List<int[]> readSplit(JsonParser parser, String split, FileLocation file)
      throws IOException {
    List<int[]> sequences = null;
    List<String> splits = new ArrayList<>();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      JsonToken value = parser.nextToken();
      if (value == JsonToken.START_ARRAY) {
        splits.add(name);
      }
      if (value == JsonToken.START_ARRAY && name.equals(split)) {
        sequences = readSequences(parser, file + ": split '" + name + "', sequence ");
      } else {
        parser.skipChildren();
      }
    }
    if (sequences == null) {
      throw new FileContentException(file + " holds named splits " + splits + "; "
          + (split == null ? "choose one" : "no split '" + split + "'"));
    }
    return sequences;
  }

  private static List<int[]> readSequences(JsonParser parser, String wherePrefix)
      throws IOException {
    List<int[]> sequences = new ArrayList<>();
    for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY;
        token = parser.nextToken()) {
      String where = wherePrefix + sequences.size() + " (line "
          + parser.currentLocation().getLineNr() + ")";
      if (token != JsonToken.START_ARRAY) {
        throw new FileContentException(where + ": expected an array of token ids, found "
            + parser.getText());
      }
      sequences.add(TokenIdArrays.read(parser, where));
    }
    return sequences;
  }
}
