package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Float perplexities reproduce the numbers PyTorch measured, to 0.1%. */
class ReferencePerplexityTest {

  @Test
  void stories260KOnItsSampledSequences() throws Exception {
    JsonNode reference = SharedData.json(SharedData.model("stories260K").resolve("reference.json"));
    List<int[]> sequences = new ArrayList<>();
    reference.get("sampled_sequences").forEach(s -> sequences.add(SharedData.ints(s)));
    try (ModelDirectory model = ModelDirectory.open(SharedData.model("stories260K").toString())) {
      double ppl = ModelRuns.perplexity(model.weights(),
          EvaluationWindows.ofSequences(sequences, model.config().maxPositions()));
      assertRelative(reference.get("fp32_perplexity_on_sampled_sequences").asDouble(), ppl, 1e-3,
          "stories260K sampled sequences");
    }
  }

  @Test
  void dictLlamaOnHeldOutTextAndWikitext() throws Exception {
    JsonNode reference = SharedData.json(SharedData.model("dict-llama-15M").resolve("reference.json"));
    try (ModelDirectory model = ModelDirectory.open(SharedData.model("dict-llama-15M").toString())) {
      Tokenizer tokenizer = Tokenizer.load(SharedData.model("dict-llama-15M"));
      String heldout = Files.readString(SharedData.model("dict-llama-15M").resolve("heldout.txt"));
      double heldoutPpl = ModelRuns.perplexity(model.weights(),
          EvaluationWindows.ofStream(TextCorpus.encodeParagraphs(tokenizer, heldout), 512, 40));
      assertRelative(reference.get("heldout_ppl_first_40x512").asDouble(), heldoutPpl, 1e-3,
          "held-out text");

      String wikitext = Files.readString(SharedData.root().resolve("data/wikitext-2/test.txt"));
      double wikiPpl = ModelRuns.perplexity(model.weights(),
          EvaluationWindows.ofStream(TextCorpus.encodeWhole(tokenizer, wikitext), 512, 40));
      assertRelative(reference.get("wikitext2_test_ppl_first_40x512").asDouble(), wikiPpl, 1e-3,
          "WikiText-2 test");
    }
  }

  static void assertRelative(double expected, double actual, double tolerance, String what) {
    System.out.printf("%s: perplexity %.4f, reference %.4f (%+.4f%%)%n", what, actual, expected,
        100 * (actual / expected - 1));
    assertEquals(expected, actual, expected * tolerance, what);
  }
}
