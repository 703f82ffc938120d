package dev.calibra.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SharedModelDataTest {

  private static Path model(String name) {
    return Path.of(System.getProperty("calibra.shared", "../../shared"), "models", name);
  }

  @Test
  void heldOutCalibrationTakesWindowsPastTheEvaluatedOnes() throws Exception {
    Path dict = model("dict-llama-15M");
    SharedModelData shared = SharedModelData.load(dict);
    SharedModelData heldOut = shared.withHeldOutCalibration();

    assertEquals(shared.evaluation().size(), heldOut.evaluation().size());
    for (int i = 0; i < shared.evaluation().size(); i++) {
      assertArrayEquals(shared.evaluation().get(i), heldOut.evaluation().get(i));
    }
    int[] tokens = TextCorpus.encodeParagraphs(Tokenizer.load(dict),
        Files.readString(dict.resolve("heldout.txt")));
    // The 40 evaluated windows read tokens 0 … 40·512; the samples start one window later.
    assertEquals(40, heldOut.evaluation().size());
    assertEquals(128, heldOut.calibration().size());
    for (int s = 0; s < heldOut.calibration().size(); s++) {
      int start = (41 + s) * 512;
      assertArrayEquals(Arrays.copyOfRange(tokens, start, start + 512),
          heldOut.calibration().get(s), "sample " + s);
    }
    assertEquals("128 samples of 512 tokens of heldout.txt (its windows 41–168; 0–39 are "
        + "evaluated)", heldOut.calibrationDescription());
  }

  @Test
  void calibrationWindowsAreSpreadOverTheWholeCalibrationText() throws Exception {
    Path dict = model("dict-llama-15M");
    int[] tokens = TextCorpus.encodeParagraphs(Tokenizer.load(dict),
        Files.readString(dict.resolve("calibration.txt")));
    int windows = tokens.length / 512;
    SharedModelData shared = SharedModelData.load(dict);
    assertEquals(128, shared.calibration().size());
    for (int s = 0; s < 128; s++) {
      int start = s * windows / 128 * 512;
      assertArrayEquals(Arrays.copyOfRange(tokens, start, start + 512),
          shared.calibration().get(s), "sample " + s);
    }
    assertEquals("128 samples of 512 tokens of calibration.txt, spread over its " + windows
        + " windows", shared.calibrationDescription());

    SharedModelData first = shared.withFirstWindowsCalibration();
    for (int s = 0; s < 128; s++) {
      assertArrayEquals(Arrays.copyOfRange(tokens, s * 512, (s + 1) * 512),
          first.calibration().get(s), "first-windows sample " + s);
    }
  }

  @Test
  void generatedEvaluationReplacesOnlyTheEvaluationData() throws Exception {
    SharedModelData stories = SharedModelData.load(model("stories260K"));
    SharedModelData generated = stories.withGeneratedEvaluation(2, 99);
    assertEquals(stories.calibration(), generated.calibration());
    assertEquals(2, generated.evaluation().size());
    for (int[] sample : generated.evaluation()) {
      assertEquals(256, sample.length);
      assertEquals(1, sample[0], "each sample starts at BOS");
    }
    assertEquals("2 samples of 256 tokens written by the model (seed 99)",
        generated.evaluationDescription());
    assertEquals("sequences.json's evaluation split", stories.evaluationDescription());
  }

  @Test
  void tokenSplitsHaveNoHeldOutText() throws Exception {
    SharedModelData stories = SharedModelData.load(model("stories260K"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        stories::withHeldOutCalibration);
    assertEquals("stories260K has token splits, no held-out text to calibrate on", e.getMessage());
  }
}
