package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.tokenizers.Fixtures.Case;
import dev.calibra.tokenizers.Fixtures.CaseFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tokenizer.json files against the Hugging Face tokenizers library: the Llama 2 model in three
 * layouts, and a small byte-level BPE in the Llama 3 and GPT-2 pipelines.
 */
class HuggingFaceFixtureTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "hf/llama2-metaspace.cases.json.gz",
      "hf/llama2-prepend-normalizer.cases.json.gz",
      "hf/llama2-metaspace-split.cases.json.gz",
      "hf/bytelevel-llama3-style.cases.json.gz",
      "hf/bytelevel-gpt2-style.cases.json.gz"})
  void matchesTheLibraryOnEveryCase(String casesFile) {
    CaseFile file = Fixtures.cases(casesFile);
    HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.fromJson(file.tokenizer(), casesFile);
    CaseReport encoding = new CaseReport(casesFile + " (" + file.description() + "), encode");
    CaseReport decoding = new CaseReport(casesFile + ", decode");
    for (Case c : file.cases()) {
      encoding.checkIds(c.index(), c.text(), c.ids(), tokenizer.encode(c.text()));
      decoding.checkText(c.index(), c.decoded(), tokenizer.decode(c.ids()));
    }
    System.out.println(encoding.summary());
    assertTrue(encoding.passed(), encoding.summary());
    assertTrue(decoding.passed(), decoding.summary());
  }

  @Test
  void findsLlama2SpecialTokensByTheirConventionalNames() {
    CaseFile file = Fixtures.cases("hf/llama2-metaspace.cases.json.gz");
    HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.fromJson(file.tokenizer(), "llama2");
    assertEquals(32000, tokenizer.vocabSize());
    assertEquals(1, tokenizer.bosId());
    assertEquals(2, tokenizer.eosId());
  }

  @Test
  void encodesAllOfWikiTextTestAsOneWord() {
    // Metaspace without splitting makes the whole text one word for the BPE model.
    CaseFile file = Fixtures.cases("hf/llama2-metaspace.cases.json.gz");
    HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.fromJson(file.tokenizer(), "llama2");
    String text = SharedData.readText("data/wikitext-2/test.txt");
    long start = System.nanoTime();
    int[] ids = tokenizer.encode(text);
    System.out.printf("WikiText-2 test.txt with the Llama 2 tokenizer.json: %d tokens in %.2f s%n",
        ids.length, (System.nanoTime() - start) / 1e9);
    assertTrue(ids.length > 250_000 && ids.length < 400_000, "token count " + ids.length);
    // Fewer than sentencepiece's 339,369: here "<unk>" in the text is the special token.
    assertEquals(324_151, ids.length, "the count that tokenizers 0.23.3 gives");
  }
}
