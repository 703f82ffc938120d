package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.tokenizers.Fixtures.Case;
import dev.calibra.tokenizers.Fixtures.CaseFile;
import org.junit.jupiter.api.Test;

/**
 * A small SentencePiece BPE model against the sentencepiece library, for what the Llama 2
 * model does not use: no byte fallback (runs of unknown characters become one unknown id),
 * user-defined pieces, squeezed spaces (remove_extra_whitespaces) and UNUSED pieces.
 */
class SentencePieceFixtureTest {

  @Test
  void matchesTheLibraryOnEveryCase() {
    CaseFile file = Fixtures.cases("sentencepiece/small-bpe.cases.json.gz");
    SentencePieceTokenizer tokenizer =
        SentencePieceTokenizer.fromBytes(file.tokenizer(), "small-bpe.model");
    CaseReport encoding = new CaseReport(file.description() + ", encode");
    CaseReport decoding = new CaseReport(file.description() + ", decode");
    for (Case c : file.cases()) {
      encoding.checkIds(c.index(), c.text(), c.ids(), tokenizer.encode(c.text()));
      decoding.checkText(c.index(), c.decoded(), tokenizer.decode(c.ids()));
    }
    System.out.println(encoding.summary());
    assertTrue(encoding.passed(), encoding.summary());
    assertTrue(decoding.passed(), decoding.summary());
  }
}
