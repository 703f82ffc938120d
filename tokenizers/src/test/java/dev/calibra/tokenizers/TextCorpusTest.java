package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The two perplexity layouts of shared/README.md, on the shared texts. */
class TextCorpusTest {

  private static Tokenizer llama2;

  @BeforeAll
  static void load() {
    llama2 = Tokenizer.load(SharedData.llama2TokenizerModel());
  }

  @Test
  void splitsOnBlankLinesKeepingParagraphsUnstripped() {
    assertEquals(List.of("a", "b", "\nc "), TextCorpus.paragraphs("a\n\nb\n\n\nc \n\n \n\n"));
    assertEquals(List.of(" x\ny"), TextCorpus.paragraphs("\n\n x\ny\n\n\u00a0\t"));
    assertEquals(List.of(), TextCorpus.paragraphs(""));
  }

  @Test
  void encodesHeldoutTextParagraphByParagraphAfterBos() {
    String text = SharedData.readText("models/dict-llama-15M/heldout.txt");
    List<String> paragraphs = TextCorpus.paragraphs(text);
    int[] ids = TextCorpus.encodeParagraphs(llama2, text);

    int bos = llama2.bosId();
    assertEquals(bos, ids[0]);
    assertEquals(paragraphs.size(), Arrays.stream(ids).filter(id -> id == bos).count());
    int position = 0;
    for (String paragraph : paragraphs) {
      int[] expected = llama2.encode(paragraph);
      assertEquals(bos, ids[position]);
      assertArrayEquals(expected, Arrays.copyOfRange(ids, position + 1,
          position + 1 + expected.length), paragraph);
      position += 1 + expected.length;
    }
    assertEquals(ids.length, position);
    assertEquals(368_213, ids.length, "the count that sentencepiece 0.2.3 gives");
    System.out.printf("heldout.txt: %d paragraphs, %d tokens%n", paragraphs.size(), ids.length);
  }

  @Test
  void encodesWikiTextWholeWithoutBos() {
    String text = SharedData.readText("data/wikitext-2/test.txt");
    int[] ids = TextCorpus.encodeWhole(llama2, text);
    assertTrue(ids.length > 250_000 && ids.length < 400_000, "token count " + ids.length);
    assertTrue(Arrays.stream(ids).noneMatch(id -> id == llama2.bosId()));
    // No piece holds a newline, so the text's first line is encoded as on its own.
    String firstLine = text.substring(0, text.indexOf('\n'));
    int[] firstLineIds = llama2.encode(firstLine);
    assertArrayEquals(firstLineIds, Arrays.copyOf(ids, firstLineIds.length));
  }

  @Test
  void refusesParagraphsForATokenizerWithoutBos() {
    Tokenizer noBos = Tokenizer.fromBytes(
        Fixtures.resource("hf/bytelevel-gpt2-style.json"), "gpt2-style.json");
    assertEquals(-1, noBos.bosId());
    assertThrows(IllegalArgumentException.class, () -> TextCorpus.encodeParagraphs(noBos, "a"));
  }
}
