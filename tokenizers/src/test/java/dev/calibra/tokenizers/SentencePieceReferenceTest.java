package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Llama 2 tokenizer.model against shared/tokenizers/llama2/reference_ids.json, which the
 * sentencepiece library produced: every case must match exactly.
 */
class SentencePieceReferenceTest {

  private static SentencePieceTokenizer llama2;
  private static JsonNode reference;

  @BeforeAll
  static void load() throws IOException {
    llama2 = SentencePieceTokenizer.load(SharedData.llama2TokenizerModel());
    reference = Fixtures.JSON.readTree(
        Files.readAllBytes(SharedData.path("tokenizers/llama2/reference_ids.json")));
  }

  @Test
  void encodesEveryReferenceCaseExactly() {
    CaseReport report = new CaseReport("Llama 2 encode vs sentencepiece");
    JsonNode cases = reference.get("cases");
    for (int i = 0; i < cases.size(); i++) {
      String text = cases.get(i).get("text").asText();
      report.checkIds(i, text, ids(cases.get(i)), llama2.encode(text));
    }
    System.out.println(report.summary());
    assertEquals(206, cases.size());
    assertTrue(report.passed(), report.summary());
  }

  @Test
  void decodingGivesTheReferenceTextsBack() {
    CaseReport report = new CaseReport("Llama 2 decode(encode(text))");
    JsonNode cases = reference.get("cases");
    for (int i = 0; i < cases.size(); i++) {
      String text = cases.get(i).get("text").asText();
      report.checkText(i, text, llama2.decode(ids(cases.get(i))));
      report.checkText(i, text, llama2.decode(llama2.encode(text)));
    }
    assertTrue(report.passed(), report.summary());
  }

  @Test
  void hasLlama2VocabularyAndSpecialIds() {
    assertEquals(32000, llama2.vocabSize());
    assertEquals(1, llama2.bosId());
    assertEquals(2, llama2.eosId());
    assertEquals("", llama2.decode(new int[] {1, 2}), "control tokens decode to nothing");
    assertEquals(" \u2047 ", llama2.decode(new int[] {0}), "<unk> decodes to its surface");
  }

  @Test
  void encodesEmptyAndSpaceOnlyTexts() {
    assertEquals(0, llama2.encode("").length);
    // The dummy prefix and the space itself: "▁▁" is a piece of its own (259).
    assertEquals(259, llama2.encode(" ")[0]);
    assertEquals(" ", llama2.decode(llama2.encode(" ")));
  }

  @Test
  void decodesMalformedByteRunsToReplacementCharacters() {
    // <0xE6> starts a 3-byte character that never comes: U+FFFD, after which "▁a" keeps its
    // space since it is no longer the first piece (what the library gives too).
    int e6 = 3 + 0xE6;
    int spaceA = llama2.encode("a")[0];
    assertEquals("\uFFFD a", llama2.decode(new int[] {e6, spaceA}));
  }

  @Test
  void encodesAllOfWikiTextTestAsOneString() {
    String text = SharedData.readText("data/wikitext-2/test.txt");
    long start = System.nanoTime();
    int[] ids = llama2.encode(text);
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("WikiText-2 test.txt (%d chars) as one string: %d tokens in %.2f s%n",
        text.length(), ids.length, seconds);
    assertTrue(ids.length > 250_000 && ids.length < 400_000, "token count " + ids.length);
    assertEquals(339_369, ids.length, "the count that sentencepiece 0.2.3 gives");
    assertEquals(text, llama2.decode(ids));
  }

  private static int[] ids(JsonNode testCase) {
    JsonNode ids = testCase.get("ids");
    int[] values = new int[ids.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = ids.get(i).asInt();
    }
    return values;
  }
}
