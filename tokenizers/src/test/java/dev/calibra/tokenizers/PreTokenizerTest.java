package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Single pre-tokenizers against the Hugging Face tokenizers library: Split with every behavior,
 * inverted or not, Metaspace with every prepend scheme, and ByteLevel.
 */
class PreTokenizerTest {

  @Test
  void splitsLikeTheLibrary() {
    List<String> failures = new ArrayList<>();
    JsonNode cases = Fixtures.json("hf/pre-tokenizers.json.gz").get("cases");
    for (JsonNode c : cases) {
      PreTokenizer preTokenizer = PreTokenizer.fromJson(c.get("pre_tokenizer"), "fixture");
      String text = c.get("text").asText();
      List<String> expected = new ArrayList<>();
      c.get("pieces").forEach(piece -> expected.add(piece.asText()));
      List<String> actual = new ArrayList<>();
      for (TextPiece piece : preTokenizer.split(new TextPiece(text, true))) {
        if (!piece.text().isEmpty()) {
          actual.add(piece.text());
        }
      }
      if (!expected.equals(actual)) {
        failures.add(c.get("pre_tokenizer") + " on \"" + text + "\": expected " + expected
            + ", actual " + actual);
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " of " + cases.size() + " cases differ:\n"
        + String.join("\n", failures));
  }
}
