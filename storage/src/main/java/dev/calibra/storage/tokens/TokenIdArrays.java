package dev.calibra.storage.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.calibra.storage.FileContentException;
import java.io.IOException;
import java.util.Arrays;

/**
 * Reads one JSON array of token ids from a streaming parser straight into an int[], without a
 * tree of boxed nodes: token files can hold millions of ids.
 */
final class TokenIdArrays {

  private TokenIdArrays() {
  }

  /**
   * Reads the array whose START_ARRAY the parser is on, leaving it on the matching END_ARRAY.
   *
   * @param where file and line or sequence, for messages
   */
  static int[] read(JsonParser parser, String where) throws IOException {
    int[] ids = new int[256];
    int count = 0;
    for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY;
        token = parser.nextToken()) {
      if (token != JsonToken.VALUE_NUMBER_INT
          || parser.getNumberType() != JsonParser.NumberType.INT || parser.getIntValue() < 0) {
        throw new FileContentException(where + ": token " + count + " is " + parser.getText()
            + ", expected a non-negative 32-bit integer id");
      }
      if (count == ids.length) {
        ids = Arrays.copyOf(ids, 2 * count);
      }
      ids[count++] = parser.getIntValue();
    }
    return Arrays.copyOf(ids, count);
  }
}
